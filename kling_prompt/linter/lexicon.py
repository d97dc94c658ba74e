"""Lexicons: word lists with inflections, compiled into one trie-shaped regular expression.

Every lexicon phrase of every rule is matched in a single pass of one compiled pattern over the
lowercased text (the regex engine walks a trie, so the cost barely grows with the number of
phrases). A hit carries the keys of every lexicon and category it belongs to, including those of
shorter phrases it contains, so no rule misses a phrase that a longer one swallowed.

Phrase syntax in the data files: ``walk{,s,ing,ed}`` expands to walk, walks, walking, walked;
several braces expand to every combination. A space matches a space or a hyphen in the text
("hip hop" also finds "hip-hop").
"""

from __future__ import annotations

import itertools
import re
import sys
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Any

from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.native import scanner_type

_BRACE = lazy(r"\{([^{}]*)\}")
_SEPARATORS = lazy(r"[\s\-]+")


def expand(phrase: str) -> list[str]:
    """Expand brace alternatives: ``spin{,s,ning}`` gives spin, spins, spinning."""
    parts = _BRACE.split(phrase)
    if len(parts) == 1:
        text = normalize(phrase)
        return [text] if text else []  # a blank entry is no phrase
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    out = []
    for combo in itertools.product(*choices):
        text = normalize("".join(combo))
        if text:
            out.append(text)
    return out


def normalize(phrase: str) -> str:
    """Lowercase, and treat hyphens and runs of whitespace as one space."""
    return _SEPARATORS.sub(" ", phrase.strip().lower())


class Hit:
    """One lexicon match: its span, the normalized phrase, and the keys it belongs to."""

    __slots__ = ("end", "keys", "phrase", "replacement", "start")

    def __init__(
        self, start: int, end: int, phrase: str, keys: tuple[str, ...], replacement: str | None
    ) -> None:
        self.start = start
        self.end = end
        self.phrase = phrase
        self.keys = keys
        self.replacement = replacement

    def _fields(self) -> tuple[int, int, str, tuple[str, ...], str | None]:
        return (self.start, self.end, self.phrase, self.keys, self.replacement)

    def __eq__(self, other: object) -> bool:
        # Hits are values: ``hits_for`` may build a key's hits apart from the full list.
        return isinstance(other, Hit) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Hit({self.start}, {self.end}, {self.phrase!r}, {self.keys!r})"


def compile_lexicons(lexicons: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Turn lexicon documents into the compiled form: phrase -> keys, replacements, pattern.

    A lexicon document has ``categories``: a mapping of category name to a list of phrases, or
    to a mapping of phrase -> replacement (for substitution rules).
    """
    keys: dict[str, set[str]] = {}
    replacements: dict[str, str] = {}
    for name, doc in lexicons.items():
        categories = doc.get("categories") or {}
        for category, entries in categories.items():
            pairs: Iterable[tuple[str, str | None]]
            if isinstance(entries, Mapping):
                pairs = [(str(k), None if v is None else str(v)) for k, v in entries.items()]
            else:
                pairs = [(str(e), None) for e in entries or ()]
            for raw, replacement in pairs:
                for phrase in expand(raw):
                    keys.setdefault(phrase, set()).update((name, f"{name}.{category}"))
                    if replacement is not None:
                        replacements[phrase] = replacement
    # A phrase also carries the keys of the phrases it contains (whole words only).
    merged: dict[str, tuple[str, ...]] = {}
    for phrase, own in keys.items():
        words = phrase.split(" ")
        total = set(own)
        if len(words) > 1:
            for i in range(len(words)):
                for j in range(i + 1, len(words) + 1):
                    if j - i == len(words):
                        continue
                    inner = keys.get(" ".join(words[i:j]))
                    if inner:
                        total |= inner
        merged[phrase] = tuple(sorted(total))
    # Phrases that start with a letter or digit are found after a word boundary, which lets the
    # regex engine skip straight to candidate first characters; the few that start with
    # punctuation (``<<<element_1>>>``) get a second pattern, run only when it can match.
    words = [p for p in merged if p[:1].isalnum() or p[:1] == "_"]
    others = [p for p in merged if not (p[:1].isalnum() or p[:1] == "_")]
    # A phrase right after "@" or "+" belongs to a token (@Element1, ++term++): not a hit.
    # ``split`` on two groups returns, for each match, the text before it, the character
    # before the phrase and the phrase: every span follows by adding up lengths (no match
    # objects at all). The pattern starts with a character class, which lets the regex engine
    # skip over letters in C; the lookbehind then requires a real word boundary. The text is
    # scanned with a space in front, so a phrase can start the text.
    pattern = (
        r"([^a-z0-9_@+])(?<=[^\w@+])(" + trie_body(words) + r")(?![\w])"
        if words
        else r"((?!x)x)((?!x)x)"
    )
    extra = r"(?<![\w@+])" + trie_body(others) + r"(?![\w])" if others else None
    return {
        "keys": merged,
        "words": words,
        "replacements": replacements,
        "pattern": pattern,
        "program": regex_program(pattern),
        "extra": extra,
        "extra_first": sorted({p[0] for p in others}),
    }


def _runtime_tag() -> str:
    import _sre

    return f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}-{_sre.MAGIC}"


def regex_program(pattern: str) -> dict[str, Any] | None:
    """The compiled form of a pattern as CPython's regex engine runs it, for caching.

    Parsing a pattern of tens of thousands of characters takes ``re`` over 100 ms in pure
    Python, longer than a whole lint of a small file; the resulting program is a list of ints
    that :func:`load_regex` hands straight to the engine. Tagged with the interpreter version so
    a cache written by another Python is never used.
    """
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, 0)
        code = _compiler._code(parsed, 0)
        codes = array("I", [int(c) for c in code])
        return {
            "tag": _runtime_tag(),
            # As bytes: a cache read takes them whole, where a list is read int by int (only
            # the pure-Python matcher, which is rarely used, needs the program at all).
            "code": codes.tobytes() if codes.itemsize == 4 else codes.tolist(),
            "flags": parsed.state.flags,
            "groups": parsed.state.groups,
        }
    except Exception:  # any other interpreter: fall back to re.compile at load
        return None


def load_regex(pattern: str, program: Mapping[str, Any] | None) -> re.Pattern[str]:
    """Rebuild a pattern from its cached program, or compile it when the cache does not fit."""
    groups = program.get("groups") if program else None
    if program and program.get("tag") == _runtime_tag() and isinstance(groups, int) and groups >= 1:
        try:
            import _sre

            code = program["code"]
            if isinstance(code, bytes):
                words = array("I")
                words.frombytes(code)
                code = words.tolist()
            compiled: re.Pattern[str] = _sre.compile(
                pattern, program["flags"], code, groups - 1, {}, (None,) * groups
            )
            return compiled
        except Exception:
            pass
    return re.compile(pattern)


def trie_body(phrases: Iterable[str]) -> str:
    """A regex source matching any of the phrases, shaped as a trie so matching stays cheap."""
    trie: dict[str, Any] = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}
    if not trie:
        return r"(?!x)x"

    def build(node: dict[str, Any]) -> str:
        optional = "" in node
        alternatives = []
        for ch in sorted(k for k in node if k):
            head = r"[\s\-]+" if ch == " " else re.escape(ch)
            alternatives.append(head + build(node[ch]))
        if not alternatives:
            return ""
        body = (
            alternatives[0]
            if len(alternatives) == 1 and not optional
            else "(?:" + "|".join(alternatives) + ")"
        )
        if optional:  # an empty last alternative: the longer phrase first, without a repeat
            body = "(?:" + "|".join(alternatives) + "|)"
        return body

    return build(trie)


def native_scanner(phrases: Sequence[str], native: bool | None = None) -> Any:
    """The compiled scanner over word-led ``phrases``, or ``None`` when it is not wanted
    (``native=False``, or ``KLING_PROMPT_PURE_PYTHON`` set), not built, or refuses a phrase.
    ``native=True`` raises instead of falling back."""
    if native is False:
        return None
    scanner = scanner_type(required=bool(native))
    if scanner is None:
        return None
    try:
        return scanner(phrases)
    except ValueError:
        if native:
            raise
        return None  # a phrase shape the scanner does not know: the regular expression has it


class _KeyMasks(dict[str, int]):
    """Matched text -> the keys of its phrase as a bit mask (bits from :meth:`Matcher.key_bit`)."""

    def __init__(self, matcher: Matcher) -> None:
        super().__init__()
        self.matcher = matcher

    def __missing__(self, raw: str) -> int:
        key_bit = self.matcher.key_bit
        found = 0
        for key in self.matcher.keys_of_match(raw):
            found |= key_bit(key)
        if len(self) < 50_000:  # matched texts differ only in their separators
            self[raw] = found
        return found


class _KeySets(dict[str, frozenset[str]]):
    """Matched text -> the keys of its phrase (empty when it stands for none)."""

    def __init__(self, matcher: Matcher) -> None:
        super().__init__()
        self.matcher = matcher

    def __missing__(self, raw: str) -> frozenset[str]:
        found = frozenset(self.matcher.keys_of_match(raw))
        if len(self) < 50_000:  # matched texts differ only in their separators
            self[raw] = found
        return found


def _start(hit: Hit) -> int:
    return hit.start


class Matcher:
    """Finds every lexicon phrase in a lowercased text in one regex pass.

    :meth:`split` cuts the text at the matches (no match objects): the matched texts alone are
    all that gating and presence tests need; :meth:`find` turns them into positioned hits.
    """

    __slots__ = (
        "_extra",
        "_extra_first",
        "_extra_source",
        "_key_bits",
        "_key_groups",
        "_keys",
        "_pattern",
        "_pattern_source",
        "_program",
        "_replacements",
        "_scanner",
        "key_masks",
        "key_sets",
        "split_raw",
    )

    def __init__(self, compiled: Mapping[str, Any], *, native: bool | None = None) -> None:
        """``native``: use the compiled scanner (``True``), the regular expression (``False``),
        or the scanner when it is built and ``KLING_PROMPT_PURE_PYTHON`` is not set (``None``)."""
        self._keys: dict[str, tuple[str, ...]] = dict(compiled["keys"])  # phrase -> its keys
        self._replacements: dict[str, str] = dict(compiled.get("replacements") or {})
        self._pattern_source: str = compiled["pattern"]
        self._program: Mapping[str, Any] | None = compiled.get("program")
        self._pattern: re.Pattern[str] | None = None
        self._extra_source: str | None = compiled.get("extra")
        self._extra_first: tuple[str, ...] = tuple(compiled.get("extra_first") or ())
        self._extra: re.Pattern[str] | None = None
        words = compiled.get("words")
        if words is None:
            words = [p for p in self._keys if p[:1].isalnum() or p[:1] == "_"]
        self._scanner = native_scanner(words, native)
        # Matched text -> its keys as a set, filled in on first sight: ``key_sets[raw]`` is a
        # dict lookup in C (``keys_of_match`` is a Python call), for unions over many matches.
        self.key_sets = _KeySets(self)
        # Key -> its bit, handed out on first sight; matched text -> the bits of its keys. A
        # text's keys as one integer (``Analysis.key_mask``) answer presence without a set.
        self._key_bits: dict[str, int] = {}
        self._key_groups: dict[frozenset[str], int] = {}
        self.key_masks = _KeyMasks(self)
        # ``split_raw(" " + lower)``: what :meth:`split` returns (the scanner cuts exactly where
        # the regular expression does; tests compare the two).
        self.split_raw: Callable[[str], list[str]] = (
            self._scanner.split if self._scanner is not None else self.pattern.split
        )

    @property
    def native(self) -> bool:
        """Whether the compiled scanner does the matching."""
        return self._scanner is not None

    @property
    def pattern(self) -> re.Pattern[str]:
        """The lexicon's regular expression (the reference the compiled scanner follows)."""
        if self._pattern is None:
            self._pattern = load_regex(self._pattern_source, self._program)
        return self._pattern

    def split(self, lower: str) -> list[str]:
        """The text cut at the word-led phrase matches, in threes: text, the character before
        the phrase, the phrase, ..., text. The text has a space in front (so the first part
        starts one character early); the matches are ``parts[2::3]``, not yet normalized
        (``slow-mo`` stands for ``slow mo``), and their spans follow from the lengths of the
        parts before them.
        """
        return self.split_raw(" " + lower)

    def phrase_of(self, raw: str) -> str | None:
        """The lexicon phrase a matched text stands for (``slow-mo`` is ``slow mo``)."""
        if raw in self._keys:
            return raw
        phrase = _SEPARATORS.sub(" ", raw)
        return phrase if phrase in self._keys else None

    def key_bit(self, key: str) -> int:
        """The bit that stands for ``key`` in key masks (a new one for a key not seen yet: no
        mask made so far holds it, as no matched text had it)."""
        bit = self._key_bits.get(key)
        if bit is None:
            bit = self._key_bits[key] = 1 << len(self._key_bits)
        return bit

    def keys_mask(self, keys: frozenset[str]) -> int:
        """The bits of several keys (remembered per set)."""
        found = self._key_groups.get(keys)
        if found is None:
            found = 0
            for key in keys:
                found |= self.key_bit(key)
            self._key_groups[keys] = found
        return found

    def keys_of_match(self, raw: str) -> tuple[str, ...]:
        """The keys of a matched text (empty when it stands for no phrase)."""
        found = self._keys.get(raw)
        if found is None:
            phrase = _SEPARATORS.sub(" ", raw)
            found = self._keys.get(phrase, ())
        return found

    def find(self, lower: str, parts: list[str] | None = None) -> list[Hit]:
        """Every hit with its span, in text order. ``parts`` is :meth:`split` of ``lower`` when
        the caller has it already."""
        if parts is None:
            parts = self.split(lower)
        hits: list[Hit] = []
        keys = self._keys
        replacements = self._replacements
        if len(parts) > 1:
            # Offsets in the text with the leading space: one more than in ``lower``.
            offsets = list(accumulate(map(len, parts), initial=-1))
            for i in range(2, len(parts), 3):
                phrase = parts[i]
                found = keys.get(phrase)
                if found is None:
                    phrase = _SEPARATORS.sub(" ", phrase)
                    found = keys.get(phrase)
                    if found is None:
                        continue
                hits.append(
                    Hit(offsets[i], offsets[i + 1], phrase, found, replacements.get(phrase))
                )
        extra = self._extra_matches(lower)
        if extra:
            for m in extra:  # rare: no need for the inlined lookups above
                named = self.phrase_of(m.group())
                if named is not None:
                    hits.append(
                        Hit(m.start(), m.end(), named, keys[named], replacements.get(named))
                    )
            hits.sort(key=_start)
        return hits

    def find_key(
        self, lower: str, parts: list[str], key: str, offsets: list[int] | None = None
    ) -> list[Hit]:
        """The hits that carry ``key``, in text order: :meth:`find` filtered, without building
        the hits of other keys. ``offsets`` are the summed lengths of ``parts`` (from -1), when
        the caller has them."""
        hits: list[Hit] = []
        key_sets = self.key_sets
        if len(parts) > 1:
            if offsets is None:
                offsets = list(accumulate(map(len, parts), initial=-1))
            keys = self._keys
            replacements = self._replacements
            for i in range(2, len(parts), 3):
                raw = parts[i]
                if key in key_sets[raw]:
                    phrase = raw if raw in keys else _SEPARATORS.sub(" ", raw)
                    hits.append(
                        Hit(
                            offsets[i],
                            offsets[i + 1],
                            phrase,
                            keys[phrase],
                            replacements.get(phrase),
                        )
                    )
        extra = self._extra_matches(lower)
        if extra:
            for m in extra:
                named = self.phrase_of(m.group())
                if named is not None and key in self._keys[named]:
                    hits.append(
                        Hit(
                            m.start(),
                            m.end(),
                            named,
                            self._keys[named],
                            self._replacements.get(named),
                        )
                    )
            hits.sort(key=_start)
        return hits

    def extra_scan(self, lower: str) -> list[str]:
        """The texts matched by the punctuation-led phrases (``<<<element_1>>>``)."""
        return [m.group() for m in self._extra_matches(lower)]

    def _extra_matches(self, lower: str) -> list[re.Match[str]]:
        if self._extra_source is None:
            return []
        for c in self._extra_first:
            if c in lower:
                break
        else:
            return []
        if self._extra is None:
            self._extra = re.compile(self._extra_source)
        return list(self._extra.finditer(lower))

    def phrases(self, key: str) -> list[str]:
        """Every phrase that carries ``key`` (for docs and tests)."""
        return sorted(p for p, k in self._keys.items() if key in k)
