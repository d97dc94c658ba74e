"""The lexicon matcher's spans, derived from ``split`` without match objects, equal the spans of
the regex engine's own matches, and presence (``Analysis.matched``) agrees with the hits."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kling_prompt.linter import Linter
from kling_prompt.linter.lexicon import Hit, Matcher, compile_lexicons
from kling_prompt.linter.text import Analysis

_MATCHER = Linter().matcher
_PHRASES = sorted(_MATCHER._keys)[::7]  # a spread of real phrases, words and punctuation-led


def _reference(matcher: Matcher, lower: str) -> list[tuple[int, int, str]]:
    """Spans from match objects: the regex engine's own answer."""
    out = []
    for m in matcher.pattern.finditer(" " + lower):  # the phrase is group 2; text shifted by 1
        phrase = matcher.phrase_of(m.group(2))
        if phrase is not None:
            out.append((m.start(2) - 1, m.end(2) - 1, phrase))
    if matcher._extra_source:
        for m in re.finditer(matcher._extra_source, lower):
            phrase = matcher.phrase_of(m.group())
            if phrase is not None:
                out.append((m.start(), m.end(), phrase))
    return sorted(out, key=lambda t: t[0])


def _spans(hits: list[Hit]) -> list[tuple[int, int, str]]:
    return [(h.start, h.end, h.phrase) for h in hits]


pieces = st.one_of(
    st.sampled_from(_PHRASES),
    st.sampled_from([" ", "  ", "-", ", ", ". ", "@", "+", "++", "_", "'", "é", "日本", "\n", "x"]),
    st.text(alphabet="abcdeilnorst -@+", max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=25))
def test_spans_equal_the_regex_engines_matches(parts: list[str]) -> None:
    lower = "".join(parts).lower()
    assert _spans(_MATCHER.find(lower)) == _reference(_MATCHER, lower)


@settings(max_examples=100, deadline=None)
@given(st.lists(pieces, max_size=25))
def test_matched_texts_are_the_hits(parts: list[str]) -> None:
    a = Analysis("".join(parts), matcher=_MATCHER)
    phrases = [_MATCHER.phrase_of(raw) for raw in a.matched]
    assert sorted(p for p in phrases if p is not None) == sorted(h.phrase for h in a.hits)


def test_tokens_after_at_and_plus_are_not_hits() -> None:
    matcher = Matcher(compile_lexicons({"m": {"categories": {"c": ["element", "walk"]}}}))
    lower = "@element walk ++walk++ sidewalk walk_ walk"
    assert _spans(matcher.find(lower)) == [(9, 13, "walk"), (38, 42, "walk")]
    assert _spans(matcher.find(lower)) == _reference(matcher, lower)


def test_lowercase_keeps_every_offset() -> None:
    text = "İstanbul at dusk: a red kite flies over the beach. A red kite flies over the beach."
    a = Analysis(text, matcher=_MATCHER)
    assert len(a.lower) == len(text)
    for hit in a.hits:
        assert text[hit.start : hit.end].lower().replace("-", " ") == hit.phrase


def _full(hits: list[Hit]) -> list[tuple[int, int, str, tuple[str, ...], str | None]]:
    return [(h.start, h.end, h.phrase, h.keys, h.replacement) for h in hits]


@settings(max_examples=150, deadline=None)
@given(st.lists(pieces, max_size=25), st.randoms(use_true_random=False))
def test_hits_of_one_key_equal_the_filtered_hits(parts: list[str], rng: object) -> None:
    """``hits_for`` builds only the asked key's hits when the full list is not built yet; they
    equal the full list filtered, in any order of asking."""
    text = "".join(parts)
    lazy = Analysis(text, matcher=_MATCHER)
    full = Analysis(text, matcher=_MATCHER)
    keys = sorted(full.keys)
    rng.shuffle(keys)  # type: ignore[attr-defined]
    for key in keys:
        expected = _full([h for h in full.hits if key in h.keys])
        assert _full(lazy.hits_for(key)) == expected
        assert _full(full.hits_for(key)) == expected
    assert "hits" not in lazy._cache  # none of it built the full list


_SOME_KEYS = [*sorted({k for keys in _MATCHER._keys.values() for k in keys})[::3], "no-such-key"]


@settings(max_examples=150, deadline=None)
@given(st.lists(pieces, max_size=25), st.lists(st.sampled_from(_SOME_KEYS), max_size=4))
def test_key_masks_answer_as_the_set_of_keys(parts: list[str], group: list[str]) -> None:
    """``has_key`` and ``has_any_key`` read the text's keys as bits; they answer as the set
    :attr:`Analysis.keys` does, asked before or after the set is built."""
    text = "".join(parts)
    masked = Analysis(text, matcher=_MATCHER)
    full = Analysis(text, matcher=_MATCHER)
    keys = full.keys
    for key in _SOME_KEYS:
        assert masked.has_key(key) == (key in keys), key
        assert full.has_key(key) == (key in keys), key
    assert masked.has_any_key(frozenset(group)) == (not keys.isdisjoint(group))
    assert "keys" not in masked._cache  # presence alone never built the set
