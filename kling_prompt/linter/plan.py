"""A rule selection compiled into one decision per request.

Most rules find nothing in most prompts, and their ``when:`` gates say so cheaply. Checking 60
gates one by one still costs a Python call each; a :class:`Plan` instead folds every gate of a
selection into bit masks, built once per selection: each gate clause gets a bit, and each fact of
a request (a lexicon phrase hit, a trigger substring, an argument name, a known endpoint, a
shared Python pre-check) sets the bits of the clauses it satisfies, while the lexicon keys of an
``unless`` clear the bits of the clauses they close. A request then pays a handful of integer
operations plus one dictionary lookup per lexicon hit, and only the rules whose bit survives are
called. The conditions that depend on the configuration and the mode alone are decided when the
plan is built: a clause whose ``options`` are unset gets no bit, and a ``longer`` bound becomes a
number of characters the request's longest text field is compared with.

The decision is exactly :meth:`Gate.open` for every rule (``tests/lint/test_plan.py`` compares
them on every rule case and the real corpus). Gates that do not flatten into clauses of one
condition per kind fall back to calling :meth:`Gate.open`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from kling_prompt.linter.native import gate_text as native_gate_text

if TYPE_CHECKING:
    from kling_prompt.linter.lexicon import Matcher
    from kling_prompt.linter.rules import Context, Gate, Rule, RuleMeta

# A clause: (keys, text, arguments, endpoint, checks, unless, options, longer); empty means no
# condition of that kind.
_Clause = tuple[
    frozenset[str],
    tuple[str, ...],
    tuple[str, ...],
    bool,
    tuple[str, ...],
    frozenset[str],
    tuple[str, ...],
    "str | None",
]
_OPEN: _Clause = (frozenset(), (), (), False, (), frozenset(), (), None)


def _clauses(gate: Gate) -> list[_Clause] | None:
    """The gate as an OR of conjunctions with at most one any-of set per kind, or ``None``."""
    base: _Clause = (
        gate.keys,
        gate.text,
        gate.arguments,
        gate.endpoint,
        gate.checks,
        gate.unless,
        gate.options,
        gate.longer,
    )
    if not gate.alternatives:
        return [base]
    out: list[_Clause] = []
    for alternative in gate.alternatives:
        inner = _clauses(alternative)
        if inner is None:
            return None
        for clause in inner:
            merged = _merge(base, clause)
            if merged is None:
                return None
            out.append(merged)
    return out


def _merge(a: _Clause, b: _Clause) -> _Clause | None:
    """Both clauses at once, when no kind carries a condition in both."""
    if any(a[i] and b[i] for i in (0, 1, 2, 4, 5, 6)) or (a[7] is not None and b[7] is not None):
        return None
    return (
        a[0] or b[0],
        a[1] or b[1],
        a[2] or b[2],
        a[3] or b[3],
        a[4] or b[4],
        a[5] or b[5],
        a[6] or b[6],
        a[7] if a[7] is not None else b[7],
    )


class Plan:
    """The rules of one selection and the masks that pick the ones to call for a request."""

    __slots__ = (
        "_lookup",
        "_phrase_bits",
        "_picked",
        "all",
        "arg_bits",
        "arg_names",
        "check_bits",
        "checks",
        "fallback",
        "free_arg",
        "free_check",
        "free_ep",
        "free_key",
        "free_length",
        "free_text",
        "gate_text",
        "key_bits",
        "length_bits",
        "multi",
        "needle_masks",
        "needles",
        "owner",
        "text_bits",
        "unless_any",
    )

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        gates: bool = True,
        matcher: Matcher | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        mode: str | None = None,
        family: str | None = None,
    ) -> None:
        """``options`` (the user's rule options by code), ``mode`` and ``family`` decide the
        ``options`` and ``longer`` conditions, once for the whole selection."""
        from kling_prompt.linter.rules import (
            gate_check_function,
            length_bound_function,
            rule_options,
        )

        self.checks: list[tuple[Any, RuleMeta]] = [
            (r.fn if r.fn is not None else _runner(r), r.meta) for r in rules
        ]
        self.owner: list[int] = []  # clause bit -> index of its rule in ``checks``
        self.fallback: dict[int, Gate] = {}  # id of a rule's meta -> gate checked by calling it
        self.key_bits: dict[str, int] = {}
        self.text_bits: dict[str, int] = {}
        self.arg_bits: dict[str, int] = {}
        # Pre-check -> the clauses needing it; a pre-check shared by several rules runs once.
        self.check_bits: dict[Callable[[Context], bool], int] = {}
        unless_bits: dict[str, int] = {}  # lexicon key -> the clauses it closes
        bounds: dict[int, int] = {}  # length -> the clauses needing a text longer than it
        # Clauses without a condition of a kind pass that kind whatever the request holds.
        free_key = free_text = free_arg = free_ep = free_check = free_length = 0
        self.multi = False  # some rule has several clauses (picked once all the same)
        for index, rule in enumerate(rules):
            gate = rule.meta.when if gates else None
            clauses = _clauses(gate) if gate is not None else [_OPEN]
            if clauses is None:
                assert gate is not None
                self.fallback[id(rule.meta)] = gate
                clauses = [_OPEN]
            self.multi |= len(clauses) > 1
            for keys, text, arguments, endpoint, checks, unless, wanted, longer in clauses:
                bound = None
                if wanted or longer is not None:
                    # Decided now: they depend on the options and the mode only.
                    merged = rule_options(rule.meta, options or {})
                    if wanted and all(merged.get(name) is None for name in wanted):
                        continue  # the clause never passes: it gets no bit
                    if longer is not None:
                        bound = length_bound_function(longer)(rule.meta, merged, mode, family)
                bit = 1 << len(self.owner)
                self.owner.append(index)
                for key in keys:
                    self.key_bits[key] = self.key_bits.get(key, 0) | bit
                for t in text:
                    self.text_bits[t] = self.text_bits.get(t, 0) | bit
                for name in arguments:
                    self.arg_bits[name] = self.arg_bits.get(name, 0) | bit
                for name in checks:
                    fn = gate_check_function(name)
                    self.check_bits[fn] = self.check_bits.get(fn, 0) | bit
                for key in unless:
                    unless_bits[key] = unless_bits.get(key, 0) | bit
                free_key |= 0 if keys else bit
                free_text |= 0 if text else bit
                free_arg |= 0 if arguments else bit
                free_ep |= 0 if endpoint else bit
                free_check |= 0 if checks else bit
                if bound is None:
                    free_length |= bit
                else:
                    bounds[bound] = bounds.get(bound, 0) | bit
        self.all = (1 << len(self.owner)) - 1
        self.free_key, self.free_text, self.free_arg, self.free_ep, self.free_check = (
            free_key,
            free_text,
            free_arg,
            free_ep,
            free_check,
        )
        self.free_length = free_length
        # Longest bound first: a request's clauses to close are those up to its longest text.
        self.length_bits: list[tuple[int, int]] = sorted(bounds.items(), reverse=True)
        # One lookup per matched text gives both: the clauses its keys open (the low bits) and,
        # shifted above them, the clauses its keys close through ``unless``.
        shift = len(self.owner)
        for key, bits in unless_bits.items():
            self.key_bits[key] = self.key_bits.get(key, 0) | bits << shift
        self._phrase_bits = _PhraseBits(self.key_bits, matcher)
        self._lookup = self._phrase_bits.__getitem__  # computes and remembers on a miss
        self.unless_any = reduce(or_, unless_bits.values(), 0)
        self._picked: dict[int, list[tuple[Any, RuleMeta]]] = {}
        self.arg_names = frozenset(self.arg_bits)
        # The substring gates as parallel tuples, for the compiled ``gate_text`` when built.
        self.needles = tuple(self.text_bits)
        self.needle_masks = tuple(self.text_bits.values())
        self.gate_text = native_gate_text()

    def _key_masks(self, ctx: Context) -> tuple[int, int]:
        """The clauses the lexicon hits open (a key hit in some text field), and those an
        ``unless`` closes (a key hit in every text field)."""
        lookup = self._lookup
        opened = 0
        closed = -1 if ctx.analyses else 0
        for a in ctx.analyses:
            matched = a.matched
            found = reduce(or_, map(lookup, matched)) if matched else 0
            opened |= found
            closed &= found
        return opened & self.all, closed >> len(self.owner)

    def select(self, ctx: Context) -> list[tuple[Any, RuleMeta]]:
        """The ``(check, meta)`` of every rule whose gate is open for this request, in order."""
        mask = self.all
        if self.free_ep != mask and ctx.info is None:
            mask &= self.free_ep
        if self.length_bits and mask & ~self.free_length:
            analyses = ctx.analyses
            longest = (
                len(analyses[0].text)
                if len(analyses) == 1
                else max([len(a.text) for a in analyses], default=0)
            )
            for bound, bits in self.length_bits:
                if bound < longest:
                    break
                mask &= ~bits
        if self.arg_bits and mask & ~self.free_arg:
            found = 0
            arg_bits = self.arg_bits
            for name in self.arg_names.intersection(ctx.arguments):
                found |= arg_bits[name]
            mask &= found | self.free_arg
        if self.key_bits and mask & (~self.free_key | self.unless_any):
            analyses = ctx.analyses
            if len(analyses) == 1:  # most requests: _key_masks inlined
                matched = analyses[0].matched
                found = reduce(or_, map(self._lookup, matched)) if matched else 0
                opened, closed = found & self.all, found >> len(self.owner)
            else:
                opened, closed = self._key_masks(ctx)
            mask &= (opened | self.free_key) & ~closed
        if self.text_bits and mask & ~self.free_text:
            # After the keys: a substring whose rules the keys have closed is not looked for.
            if self.gate_text is not None:
                found = self.gate_text(ctx.lower_text, self.needles, self.needle_masks, mask)
            else:
                found = 0
                lower = ctx.lower_text
                for t, bits in self.text_bits.items():
                    if bits & mask and t in lower:
                        found |= bits
            mask &= found | self.free_text
        if self.check_bits and mask & ~self.free_check:
            # Last: a pre-check runs only when some rule it gates is still wanted.
            found = 0
            for fn, bits in self.check_bits.items():
                if bits & mask and fn(ctx):
                    found |= bits
            mask &= found | self.free_check
        picked = self._picked.get(mask)
        if picked is None:
            picked = self._pick(mask)
        if self.fallback:
            fallback = self.fallback
            return [c for c in picked if (g := fallback.get(id(c[1]))) is None or g.open(ctx, c[1])]
        return picked

    def _pick(self, mask: int) -> list[tuple[Any, RuleMeta]]:
        """The rules of the clauses in ``mask``, each once, in order (remembered per mask: the
        masks a run meets are few, as they only say which gates are open)."""
        owner = self.owner
        indices: list[int] = []
        rest = mask
        while rest:
            low = rest & -rest
            rest ^= low
            indices.append(owner[low.bit_length() - 1])
        if self.multi:  # a rule with several clauses: keep it once
            indices = list(dict.fromkeys(indices))
        picked = [self.checks[i] for i in indices]
        if len(self._picked) < 4096:
            self._picked[mask] = picked
        return picked


class _PhraseBits(dict[str, int]):
    """Matched text -> the clause bits its phrase's keys satisfy, filled in on first sight."""

    def __init__(self, key_bits: dict[str, int], matcher: Matcher | None) -> None:
        super().__init__()
        self.key_bits = key_bits
        self.matcher = matcher

    def __missing__(self, raw: str) -> int:
        bits = 0
        if self.matcher is not None:
            key_bits = self.key_bits
            for key in self.matcher.keys_of_match(raw):
                bits |= key_bits.get(key, 0)
        if len(self) < 50_000:  # matched texts differ only in their separators
            self[raw] = bits
        return bits


def _runner(rule: Rule) -> Any:
    """A ``check(ctx, meta)`` for a rule that only has ``run(ctx)``."""
    run = rule.run
    return lambda ctx, meta: run(ctx)
