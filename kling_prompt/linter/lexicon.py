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
from collections.abc import Iterable, Mapping
from typing import Any

from kling_prompt.linter.lazyre import lazy

_BRACE = lazy(r"\{([^{}]*)\}")
_SEPARATORS = lazy(r"[\s\-]+")


def expand(phrase: str) -> list[str]:
    """Expand brace alternatives: ``spin{,s,ning}`` gives spin, spins, spinning."""
    parts = _BRACE.split(phrase)
    if len(parts) == 1:
        return [normalize(phrase)]
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
    merged: dict[str, list[str]] = {}
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
        merged[phrase] = sorted(total)
    # Phrases that start with a letter or digit are found after a word boundary, which lets the
    # regex engine skip straight to candidate first characters; the few that start with
    # punctuation (``<<<element_1>>>``) get a second pattern, run only when it can match.
    words = [p for p in merged if p[:1].isalnum() or p[:1] == "_"]
    others = [p for p in merged if not (p[:1].isalnum() or p[:1] == "_")]
    pattern = r"\b" + trie_body(words) + r"(?![\w])" if words else r"(?!x)x"
    extra = r"(?<![\w@+])" + trie_body(others) + r"(?![\w])" if others else None
    return {
        "keys": merged,
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
        return {
            "tag": _runtime_tag(),
            "code": [int(c) for c in code],
            "flags": parsed.state.flags,
            "groups": parsed.state.groups,
        }
    except Exception:  # any other interpreter: fall back to re.compile at load
        return None


def load_regex(pattern: str, program: Mapping[str, Any] | None) -> re.Pattern[str]:
    """Rebuild a pattern from its cached program, or compile it when the cache does not fit."""
    if program and program.get("tag") == _runtime_tag() and program.get("groups") == 1:
        try:
            import _sre

            compiled: re.Pattern[str] = _sre.compile(
                pattern, program["flags"], program["code"], 0, {}, (None,)
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
        if optional:
            body = body + "?" if body.startswith("(?:") else "(?:" + body + ")?"
        return body

    return build(trie)


def _start(hit: Hit) -> int:
    return hit.start


class Matcher:
    """Finds every lexicon phrase in a lowercased text in one regex pass."""

    __slots__ = ("_extra", "_extra_first", "_extra_source", "_keys", "_pattern", "_replacements")

    def __init__(self, compiled: Mapping[str, Any]) -> None:
        self._keys: dict[str, tuple[str, ...]] = {
            phrase: tuple(keys) for phrase, keys in compiled["keys"].items()
        }
        self._replacements: dict[str, str] = dict(compiled.get("replacements") or {})
        self._pattern = load_regex(compiled["pattern"], compiled.get("program"))
        self._extra_source: str | None = compiled.get("extra")
        self._extra_first: tuple[str, ...] = tuple(compiled.get("extra_first") or ())
        self._extra: re.Pattern[str] | None = None

    def find(self, lower: str) -> list[Hit]:
        hits: list[Hit] = []
        search = self._pattern.search
        pos = 0
        end = len(lower)
        while pos < end:
            m = search(lower, pos)
            if m is None:
                break
            start = m.start()
            # A phrase right after "@" or "+" belongs to a token (@Element1, ++term++).
            if start and lower[start - 1] in "@+":
                pos = start + 1
                continue
            self._hit(hits, m)
            pos = m.end() if m.end() > start else start + 1
        if self._extra_source is not None and any(c in lower for c in self._extra_first):
            if self._extra is None:
                self._extra = re.compile(self._extra_source)
            for m in self._extra.finditer(lower):
                self._hit(hits, m)
            hits.sort(key=_start)
        return hits

    def _hit(self, hits: list[Hit], m: re.Match[str]) -> None:
        phrase = m.group()
        found = self._keys.get(phrase)
        if found is None:
            phrase = _SEPARATORS.sub(" ", phrase)
            found = self._keys.get(phrase)
            if found is None:
                return
        hits.append(Hit(m.start(), m.end(), phrase, found, self._replacements.get(phrase)))

    def phrases(self, key: str) -> list[str]:
        """Every phrase that carries ``key`` (for docs and tests)."""
        return sorted(p for p, k in self._keys.items() if key in k)
