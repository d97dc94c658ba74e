"""Rules: their metadata, the context they check, the code-rule registry and the declarative kinds.

A rule is described by a YAML file in ``rules/`` (code, name, severity, scope, message, source,
docs, test cases). Declarative rules also carry their logic there (``kind: existence`` and so
on, modelled on Vale); structural rules say ``kind: code`` and register a Python function with
:func:`check`. Either way the engine sees one :class:`Rule` with a ``run(ctx)`` generator.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.loader import GATE_FIELDS
from kling_prompt.linter.text import Analysis

if TYPE_CHECKING:
    from kling_prompt.linter.lexicon import Hit, Matcher
    from kling_prompt.request import Request

# Text fields a rule can look at: the prompt, each multi-shot prompt, the negative prompt.
FIELD_KINDS = ("prompt", "shot", "negative_prompt")

CheckFn = Callable[["Context", "RuleMeta"], Iterable[Diagnostic]]
_CODE_CHECKS: dict[str, CheckFn] = {}


def check(code: str) -> Callable[[CheckFn], CheckFn]:
    """Register the Python function of a ``kind: code`` rule."""

    def register(fn: CheckFn) -> CheckFn:
        if code in _CODE_CHECKS and _CODE_CHECKS[code] is not fn:
            raise RuntimeError(f"rule {code} registered twice")
        _CODE_CHECKS[code] = fn
        return fn

    return register


F = TypeVar("F", bound=Callable[..., Any])


class _Named(Generic[F]):
    """Functions a rule file names (in ``when:``), registered by the check modules."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.found: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        def add(fn: F) -> F:
            if name in self.found and self.found[name] is not fn:
                raise RuntimeError(f"{self.what} {name!r} registered twice")
            self.found[name] = fn
            return fn

        return add

    def get(self, name: str) -> F:
        found = self.found.get(name)
        if found is None:
            code_checks()  # registered by the check modules
            found = self.found.get(name)
        if found is None:
            raise RuntimeError(f"no {self.what} named {name!r}; known: {sorted(self.found)}")
        return found


GateCheckFn = Callable[["Context"], bool]
_GATE_CHECKS: _Named[GateCheckFn] = _Named("gate check")


def gate_check(name: str) -> Callable[[GateCheckFn], GateCheckFn]:
    """Register a pre-check that a ``when: {check: [name]}`` gate calls.

    It answers whether the rules gated by it may report on the request: ``False`` must mean
    that none of them would (a necessary condition, like every gate). The engine calls it at
    most once per request whatever the number of rules it gates, so one pre-check shared by
    several rules replaces several calls.
    """
    return _GATE_CHECKS.register(name)


def gate_check_function(name: str) -> GateCheckFn:
    """The pre-check registered under ``name``."""
    return _GATE_CHECKS.get(name)


LengthBoundFn = Callable[["RuleMeta", Mapping[str, Any], "str | None", "str | None"], "int | None"]
_LENGTH_BOUNDS: _Named[LengthBoundFn] = _Named("length bound")


def length_bound(name: str) -> Callable[[LengthBoundFn], LengthBoundFn]:
    """Register a length bound that a ``when: {longer: name}`` gate reads.

    ``bound(meta, options, mode, family)`` gets the rule, its options (the rule file's, with the
    user's config over them) and the mode and endpoint family of the selection (``None`` when
    unknown; no family means no known endpoint), and returns a length in characters such that
    the rule can only report when some text field is longer, or ``None`` for no bound. It runs
    once per rule selection, not per request: the engine then compares the longest text field of
    each request with the number.
    """
    return _LENGTH_BOUNDS.register(name)


def length_bound_function(name: str) -> LengthBoundFn:
    """The length bound registered under ``name``."""
    return _LENGTH_BOUNDS.get(name)


def rule_options(meta: RuleMeta, options: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The options of a rule: the rule file's, with the user's config (``options``, by code)
    over them; what :meth:`Context.option` reads one at a time."""
    return {**meta.options, **options.get(meta.code, {})}


def code_checks() -> dict[str, CheckFn]:
    from kling_prompt.linter import checks  # noqa: F401  (importing registers the functions)

    return dict(_CODE_CHECKS)


class RuleMeta:
    """The header of a rule: identity, severity, scope, message, options."""

    __slots__ = (
        "code",
        "families",
        "fields",
        "fix",
        "kind",
        "message",
        "modes",
        "name",
        "options",
        "raises_to",
        "severity",
        "source",
        "spec",
        "when",
    )

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.code: str = data["code"]
        self.name: str = data["name"]
        self.severity: str = data["severity"]
        # A severity above ``severity`` the check may give some diagnostics (KP509 on v2.6).
        self.raises_to: str | None = data.get("raises_to")
        self.kind: str = data.get("kind", "code")
        scope = data.get("scope") or {}
        modes = scope.get("modes")
        families = scope.get("families")
        self.modes: frozenset[str] | None = frozenset(modes) if modes else None
        self.families: frozenset[str] | None = frozenset(families) if families else None
        fields = scope.get("fields")
        self.fields: frozenset[str] = frozenset(fields) if fields else frozenset(("prompt", "shot"))
        self.message: str = data.get("message", "")
        self.source: str = data.get("source", "")
        self.options: dict[str, Any] = dict(data.get("options") or {})
        self.fix: dict[str, Any] | None = data.get("fix")
        self.spec: dict[str, Any] = dict(data.get("match") or {})
        self.when: Gate | None = Gate.build(self.kind, self.code, data.get("when"), self.spec)

    def applies(self, mode: str | None, family: str | None) -> bool:
        if self.modes is not None and (mode is None or mode not in self.modes):
            return False
        return self.families is None or (family is not None and family in self.families)

    def __repr__(self) -> str:
        return f"RuleMeta({self.code} {self.name})"


class Gate:
    """Cheap preconditions of a rule, checked before the rule is called.

    Written as ``when:`` in the rule file: ``keys`` (lexicon keys, any of which must have a hit
    in the request's text), ``text`` (lowercase substrings, any of which must occur),
    ``arguments`` (argument names, any of which must be present), ``endpoint: true`` (the
    endpoint must be known), ``check`` (names of Python pre-checks registered with
    :func:`gate_check`, any of which must say the rule may report), ``unless`` (lexicon keys:
    the gate closes when every text field has a hit of one of them), ``options`` (rule option
    names, one of which must be set: not null) and ``longer`` (the name of a bound registered
    with :func:`length_bound`: some text field must be longer) and ``any`` (a list of such
    gates, at least one of which must be open). Kinds of condition combine with AND, entries
    within one with OR. ``options`` and ``longer`` depend on the configuration and the mode
    only, so the engine decides them once per selection.
    Declarative rules get their ``keys`` from their lexicons automatically. Most rules find
    nothing in most prompts; the gate lets the engine skip them without calling them.
    """

    __slots__ = (
        "alternatives",
        "arguments",
        "checks",
        "endpoint",
        "keys",
        "longer",
        "options",
        "text",
        "unless",
    )

    FIELDS = GATE_FIELDS

    def __init__(
        self,
        keys: Iterable[str] = (),
        text: Iterable[str] = (),
        arguments: Iterable[str] = (),
        endpoint: bool = False,
        alternatives: Iterable[Gate] = (),
        *,
        checks: Iterable[str] = (),
        unless: Iterable[str] = (),
        options: Iterable[str] = (),
        longer: str | None = None,
    ) -> None:
        self.keys = frozenset(keys)
        self.text = tuple(t.lower() for t in text)
        self.arguments = tuple(arguments)
        self.endpoint = endpoint
        self.alternatives = tuple(alternatives)
        self.checks = tuple(checks)
        self.unless = frozenset(unless)
        self.options = tuple(options)
        self.longer = longer

    @classmethod
    def parse(cls, when: Mapping[str, Any], code: str = "") -> Gate:
        unknown = set(when) - cls.FIELDS
        if unknown:
            raise ValueError(
                f"rule {code}: unknown gate condition(s) {sorted(unknown)} in 'when'; "
                f"allowed: {sorted(cls.FIELDS)}"
            )
        return cls(
            when.get("keys") or (),
            when.get("text") or (),
            when.get("arguments") or (),
            bool(when.get("endpoint", False)),
            [cls.parse(alt, code) for alt in when.get("any") or ()],
            checks=when.get("check") or (),
            unless=when.get("unless") or (),
            options=when.get("options") or (),
            longer=when.get("longer"),
        )

    @classmethod
    def build(
        cls, kind: str, code: str, when: Mapping[str, Any] | None, spec: Mapping[str, Any]
    ) -> Gate | None:
        if when:
            return cls.parse(when, code)
        if kind in ("existence", "substitution", "occurrence"):
            keys = _keys(spec, "lexicons", code)
            return cls(keys) if keys else None
        if kind == "conflict":
            keys = [str(k) for pair in spec.get("pairs") or () for k in pair]
            return cls(keys) if keys else None
        if kind == "metric":
            return cls(longer="metric")
        return None

    def open(self, ctx: Context, meta: RuleMeta | None = None) -> bool:
        """Whether the rule may report on the request. ``options`` and ``longer`` need the
        rule's ``meta``; without it they count as met."""
        if self.endpoint and ctx.info is None:
            return False
        if meta is not None and (self.options or self.longer is not None):
            options = rule_options(meta, ctx.options)
            if self.options and all(options.get(name) is None for name in self.options):
                return False
            if self.longer is not None:
                bound = length_bound_function(self.longer)(meta, options, ctx.mode, ctx.family)
                if (
                    bound is not None
                    and max((len(a.text) for a in ctx.analyses), default=0) <= bound
                ):
                    return False
        if self.arguments:
            arguments = ctx.arguments
            for name in self.arguments:
                if name in arguments:
                    break
            else:
                return False
        if self.keys and ctx.present_keys.isdisjoint(self.keys):
            return False
        if self.text:
            lower = ctx.lower_text
            for t in self.text:
                if t in lower:
                    break
            else:
                return False
        if self.unless:
            analyses = ctx.analyses
            if analyses and all(not self.unless.isdisjoint(a.keys) for a in analyses):
                return False
        if self.checks and not any(gate_check_function(name)(ctx) for name in self.checks):
            return False
        if self.alternatives:
            return any(alt.open(ctx, meta) for alt in self.alternatives)
        return True


class Context:
    """Everything a rule may look at for one request, with analyses computed on demand."""

    __slots__ = (
        "_analyses",
        "_fields",
        "_keys",
        "_lower",
        "_texts",
        "arguments",
        "config",
        "endpoint",
        "family",
        "info",
        "matcher",
        "mode",
        "options",
        "request",
        "severity",
    )

    def __init__(
        self,
        request: Request,
        *,
        info: Any,
        mode: str | None,
        family: str | None,
        matcher: Matcher | None,
        config: Any,
        fields: list[tuple[str, str]] | None = None,
        options: dict[str, Any] | None = None,
        severity: dict[str, str] | None = None,
    ) -> None:
        """``fields`` is ``request.text_fields()`` when the caller has it already; ``options``
        (the user's rule options by code) and ``severity`` (configured severities by code) are
        the linter's (empty when not given)."""
        self.request = request
        self._fields = fields
        self.arguments = request.arguments
        self.endpoint = request.endpoint
        self.info = info
        self.mode = mode
        self.family = family
        self.matcher = matcher
        self.config = config
        self.options: dict[str, Any] = options if options is not None else {}
        self.severity: dict[str, str] = severity if severity is not None else {}
        self._analyses: list[Analysis] | None = None
        self._keys: frozenset[str] | None = None
        self._lower: str | None = None
        self._texts: dict[frozenset[str], list[Analysis]] = {}

    @property
    def present_keys(self) -> frozenset[str]:
        """Every lexicon key with a hit in any text field of the request."""
        if self._keys is None:
            self._keys = frozenset().union(*[a.keys for a in self.analyses])
        return self._keys

    @property
    def lower_text(self) -> str:
        """Every text field lowercased, joined by NUL (for the gates' substring tests)."""
        if self._lower is None:
            self._lower = "\0".join([a.lower for a in self.analyses])
        return self._lower

    @property
    def analyses(self) -> list[Analysis]:
        """One analysis per text field, in order: prompt, shots, negative prompt."""
        if self._analyses is None:
            out = []
            fields = self._fields if self._fields is not None else self.request.text_fields()
            for field, text in fields:
                if field == "prompt":
                    kind, shot = "prompt", None
                elif field == "negative_prompt":
                    kind, shot = "negative_prompt", None
                else:
                    kind, shot = "shot", int(field[field.index("[") + 1 : field.index("]")])
                out.append(
                    Analysis(text, field=field, kind=kind, shot_index=shot, matcher=self.matcher)
                )
            self._analyses = out
        return self._analyses

    def texts(self, meta: RuleMeta) -> list[Analysis]:
        """The analyses of the fields a rule is scoped to (shared: do not modify)."""
        found = self._texts.get(meta.fields)
        if found is None:
            analyses = self.analyses
            if len(analyses) == 1 and analyses[0].kind == "prompt" and "prompt" in meta.fields:
                found = analyses  # most requests: the prompt alone, and every rule reads it
            else:
                found = [a for a in analyses if a.kind in meta.fields]
            self._texts[meta.fields] = found
        return found

    def analysis(self, field: str) -> Analysis | None:
        for a in self.analyses:
            if a.field == field:
                return a
        return None

    def option(self, meta: RuleMeta, name: str, default: Any = None) -> Any:
        """A rule option, with the user's config taking precedence over the rule file."""
        override = self.options.get(meta.code, {})
        if name in override:
            return override[name]
        return meta.options.get(name, default)

    def report(
        self,
        meta: RuleMeta,
        message: str | None = None,
        *,
        field: str | None = None,
        start: int | None = None,
        end: int | None = None,
        fix: Fix | None = None,
        **values: Any,
    ) -> Diagnostic:
        """Build a diagnostic of ``meta``; ``message`` defaults to the rule's, formatted."""
        text = message if message is not None else meta.message
        if values:
            # try/except, not contextlib.suppress: this runs for every diagnostic.
            try:  # noqa: SIM105
                text = text.format(**values)
            except (KeyError, IndexError, ValueError):
                pass  # a message that names a value the rule did not give stays as written
        return Diagnostic(
            meta.code,
            meta.name,
            self.severity.get(meta.code, meta.severity),
            text,
            field=field,
            start=start,
            end=end,
            fix=fix,
        )


class Rule:
    """A rule ready to run: its metadata and its check.

    ``run(ctx)`` runs it; ``fn(ctx, meta)``, when set, is the same check without the wrapper
    (the engine calls it directly).
    """

    __slots__ = ("fn", "meta", "run")

    def __init__(
        self,
        meta: RuleMeta,
        run: Callable[[Context], Iterable[Diagnostic]],
        fn: CheckFn | None = None,
    ) -> None:
        self.meta = meta
        self.run = run
        self.fn = fn

    def __repr__(self) -> str:
        return f"Rule({self.meta.code} {self.meta.name}, kind={self.meta.kind})"


# -- declarative kinds ---------------------------------------------------------------------------


def _keys(spec: Mapping[str, Any], name: str, code: str) -> list[str]:
    """Lexicon keys a rule matches: listed lexicons plus the rule's own inline phrases."""
    keys = list(spec.get(name) or ())
    if name == "lexicons" and spec.get("phrases"):
        keys.append(inline_lexicon_name(code))
    return keys


def inline_lexicon_name(code: str) -> str:
    return f"rule-{code.lower()}"


def _blocked(a: Analysis, hit: Hit, spec: Mapping[str, Any]) -> bool:
    """Whether a hit is excused by its context (quotes, a nearby phrase, its own sentence)."""
    if spec.get("skip_quotes", True) and a.in_quote(hit.start):
        return True
    unless = spec.get("unless")
    if unless:
        window = int(spec.get("unless_window", 24))
        for key in unless:
            for other in a.hits_for(key):
                if other is hit or (other.start == hit.start and other.end == hit.end):
                    continue
                if other.end <= hit.start and hit.start - other.end <= window:
                    return True
                if (
                    other.start >= hit.end
                    and other.start - hit.end <= window
                    and spec.get("unless_after", False)
                ):
                    return True
                if other.start <= hit.start and other.end >= hit.end:
                    return True
    return False


def _existence(meta: RuleMeta) -> Callable[[Context], Iterator[Diagnostic]]:
    spec = meta.spec
    keys = _keys(spec, "lexicons", meta.code)
    limit = int(spec.get("max_reports", 3))

    def run(ctx: Context, _meta: RuleMeta | None = None) -> Iterator[Diagnostic]:
        for a in ctx.texts(meta):
            count = 0
            seen: set[tuple[int, int]] = set()
            for key in keys:
                for hit in a.hits_for(key):
                    if (hit.start, hit.end) in seen or _blocked(a, hit, spec):
                        continue
                    seen.add((hit.start, hit.end))
                    count += 1
                    if count > limit:
                        break
                    fix = None
                    if meta.fix and hit.replacement is not None:
                        fix = Fix(
                            f"Replace with {hit.replacement!r}",
                            [Edit(a.field, hit.start, hit.end, hit.replacement)],
                            safe=bool(meta.fix.get("safe", False)),
                        )
                    yield ctx.report(
                        meta,
                        field=a.field,
                        start=hit.start,
                        end=hit.end,
                        fix=fix,
                        match=a.text[hit.start : hit.end],
                        replacement=hit.replacement,
                    )

    return run


def _occurrence(meta: RuleMeta) -> Callable[[Context], Iterator[Diagnostic]]:
    spec = meta.spec
    keys = _keys(spec, "lexicons", meta.code)
    distinct = spec.get("distinct", "phrase")

    def run(ctx: Context, _meta: RuleMeta | None = None) -> Iterator[Diagnostic]:
        maximum = ctx.option(meta, "max", spec.get("max"))
        for a in ctx.texts(meta):
            for seg_start, seg_end in a.segments():
                found: dict[str, Hit] = {}
                for key in keys:
                    for hit in a.hits_for(key):
                        if not seg_start <= hit.start < seg_end or _blocked(a, hit, spec):
                            continue
                        ident = hit.phrase
                        if distinct == "category":
                            ident = next((k for k in hit.keys if k.startswith(key + ".")), key)
                        found.setdefault(ident, hit)
                if maximum is not None and len(found) > int(maximum):
                    hits = sorted(found.values(), key=lambda h: h.start)
                    yield ctx.report(
                        meta,
                        field=a.field,
                        start=hits[0].start,
                        end=hits[-1].end,
                        count=len(found),
                        max=maximum,
                        matches=", ".join(a.text[h.start : h.end] for h in hits),
                    )

    return run


def _conflict(meta: RuleMeta) -> Callable[[Context], Iterator[Diagnostic]]:
    spec = meta.spec
    pairs: list[tuple[str, str]] = [(str(p[0]), str(p[1])) for p in spec.get("pairs") or ()]
    transitions = list(spec.get("transitions") or ())
    skip_quotes = spec.get("skip_quotes", True)
    roots = frozenset(key.split(".", 1)[0] for pair in pairs for key in pair)

    def run(ctx: Context, _meta: RuleMeta | None = None) -> Iterator[Diagnostic]:
        for a in ctx.texts(meta):
            if not a.has_any_key(roots):
                continue  # no term of any pair: skip the per-pair scans
            present = a.keys
            candidates = [(lk, rk) for lk, rk in pairs if lk in present and rk in present]
            if not candidates:
                continue
            for seg_start, seg_end in a.segments():
                reported: set[tuple[str, str]] = set()
                for left_key, right_key in candidates:
                    lefts = [
                        h
                        for h in a.hits_for(left_key)
                        if seg_start <= h.start < seg_end
                        and not (skip_quotes and a.in_quote(h.start))
                    ]
                    if not lefts:
                        continue
                    rights = [
                        h
                        for h in a.hits_for(right_key)
                        if seg_start <= h.start < seg_end
                        and not (skip_quotes and a.in_quote(h.start))
                    ]
                    for right in rights:
                        left = next(
                            (h for h in lefts if not (h.start < right.end and right.start < h.end)),
                            None,
                        )
                        if left is None:
                            continue
                        first, second = (left, right) if left.start < right.start else (right, left)
                        if _changes_over_time(a, first, second, transitions):
                            continue
                        if (left_key, right_key) in reported:
                            break
                        reported.add((left_key, right_key))
                        yield ctx.report(
                            meta,
                            field=a.field,
                            start=second.start,
                            end=second.end,
                            first=a.text[first.start : first.end],
                            second=a.text[second.start : second.end],
                            category=left_key.split(".", 1)[-1],
                        )
                        break

    return run


def _changes_over_time(a: Analysis, first: Hit, second: Hit, transitions: list[str]) -> bool:
    """Whether the text between two hits describes a change (so both can be true in turn)."""
    for key in transitions:
        for hit in a.hits_for(key):
            if first.start <= hit.start and hit.end <= second.end:
                return True
            # "becomes night" style: the transition directly precedes the second term.
            if hit.end <= second.start and second.start - hit.end <= 12:
                return True
    return any(first.end <= start <= second.start for _, start, _ in a.time_marks)


def _metric_limits(
    meta: RuleMeta, options: Mapping[str, Any], mode: str | None
) -> tuple[int | None, int | None] | None:
    """``(max, min)`` of a metric rule for a mode, from its merged options (see
    :func:`rule_options`); ``None`` when its ``by_mode`` table has no entry for the mode."""
    spec = meta.spec
    by_mode = spec.get("by_mode")
    limit_max = options.get("max", spec.get("max"))
    limit_min = options.get("min", spec.get("min"))
    found: tuple[Any, Any] = (limit_max, limit_min)
    if by_mode:
        table = options.get(by_mode, {})
        defaults = meta.options.get(by_mode)
        if isinstance(defaults, Mapping) and isinstance(table, Mapping) and table is not defaults:
            table = {**defaults, **table}  # a config table overrides some modes, keeps the rest
        if not isinstance(table, Mapping) or mode not in table:
            return None
        if spec.get("bound", "max") == "max":
            found = (table[mode], limit_min)
        else:
            found = (limit_max, table[mode])
    return (
        None if found[0] is None else int(found[0]),
        None if found[1] is None else int(found[1]),
    )


@length_bound("metric")
def _metric_bound(
    meta: RuleMeta, options: Mapping[str, Any], mode: str | None, family: str | None
) -> int | None:
    """A metric rule with only a maximum reports a text over it: more characters than the
    maximum, or, counting words, more than twice the maximum (``n`` words take ``2n - 1``)."""
    limits = _metric_limits(meta, options, mode)
    if limits is None:
        return sys.maxsize  # no limit for the mode: it never reports
    limit_max, limit_min = limits
    if limit_max is None or limit_min is not None:
        return None
    return limit_max if meta.spec.get("measure", "words") == "chars" else 2 * limit_max


def _metric(meta: RuleMeta) -> Callable[[Context], list[Diagnostic]]:
    chars = meta.spec.get("measure", "words") == "chars"
    # Limits per mode, resolved once per linter options (they never change during a run).
    resolved: dict[str | None, tuple[int | None, int | None] | None] = {}
    owner: list[Any] = [None]

    def limits(ctx: Context) -> tuple[int | None, int | None] | None:
        if owner[0] is not ctx.options:
            resolved.clear()
            owner[0] = ctx.options
        mode = ctx.mode
        if mode not in resolved:
            resolved[mode] = _metric_limits(meta, rule_options(meta, ctx.options), mode)
        return resolved[mode]

    def run(ctx: Context, _meta: RuleMeta | None = None) -> list[Diagnostic]:
        # A plain function, not a generator: it runs on many prompts and rarely reports.
        bounds = limits(ctx)
        if bounds is None:
            return []
        limit_max, limit_min = bounds
        out: list[Diagnostic] = []
        for a in ctx.texts(meta):
            if chars:
                amount = len(a.text)
            elif limit_min is None and limit_max is not None and len(a.text) <= 2 * limit_max:
                continue  # at most (length + 1) // 2 words: cannot be over, no need to count
            else:
                amount = a.word_count
            if limit_max is not None and amount > limit_max:
                start = limit_max if chars else a.word_start(limit_max)
                out.append(
                    ctx.report(
                        meta,
                        field=a.field,
                        start=start,
                        end=len(a.text),
                        value=amount,
                        limit=limit_max,
                        mode=ctx.mode,
                    )
                )
            elif limit_min is not None and amount < limit_min:
                if amount == 0 and not chars:
                    continue
                out.append(
                    ctx.report(
                        meta,
                        field=a.field,
                        start=0,
                        end=len(a.text),
                        value=amount,
                        limit=limit_min,
                        mode=ctx.mode,
                    )
                )
        return out

    return run


def _pattern(meta: RuleMeta) -> Callable[[Context], Iterator[Diagnostic]]:
    """``kind: pattern``: report each match of regular expressions (for syntax, not words)."""
    spec = meta.spec
    flags = re.IGNORECASE if spec.get("ignore_case", True) else 0
    patterns = [lazy(p, flags) for p in spec.get("patterns") or ()]
    limit = int(spec.get("max_reports", 3))

    def run(ctx: Context, _meta: RuleMeta | None = None) -> Iterator[Diagnostic]:
        for a in ctx.texts(meta):
            count = 0
            for pattern in patterns:
                for m in pattern.finditer(a.text):
                    if spec.get("skip_quotes", True) and a.in_quote(m.start()):
                        continue
                    count += 1
                    if count > limit:
                        return
                    yield ctx.report(
                        meta, field=a.field, start=m.start(), end=m.end(), match=m.group()
                    )

    return run


KINDS: dict[str, Callable[[RuleMeta], Callable[..., Iterable[Diagnostic]]]] = {
    "existence": _existence,
    "substitution": _existence,
    "occurrence": _occurrence,
    "conflict": _conflict,
    "metric": _metric,
    "pattern": _pattern,
}


def build_rule(meta: RuleMeta, checks: Mapping[str, CheckFn]) -> Rule:
    """Turn rule metadata into a runnable rule (declarative kind or registered function)."""
    if meta.kind == "code":
        fn = checks.get(meta.code)
        if fn is None:
            raise RuntimeError(f"rule {meta.code} is kind 'code' but no check is registered")

        def run(ctx: Context, _fn: CheckFn = fn, _meta: RuleMeta = meta) -> Iterable[Diagnostic]:
            return _fn(ctx, _meta)

        return Rule(meta, run, fn)
    factory = KINDS.get(meta.kind)
    if factory is None:
        raise RuntimeError(f"rule {meta.code} has unknown kind {meta.kind!r}")
    declarative = factory(meta)
    return Rule(meta, declarative, declarative)
