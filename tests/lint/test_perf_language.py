"""The fast paths of the language rules (KP5xx-KP9xx) answer exactly what the plain scans did.

The rules avoid scanning whole texts with regular expressions (about 15 ns a character) by
searching substrings first; each helper here is compared with the straightforward pattern it
replaces, on generated texts rich in digits, whitespace, case and scripts.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.linter.checks import consistency, failure
from kling_prompt.linter.checks.consistency import (
    anchored_finditer,
    digit_runs,
    find_time_marks,
    has_digit,
)
from kling_prompt.linter.text import Analysis

_PIECES = st.sampled_from(
    [
        "at", "after", "by", "until", "around", "from", "within", "in", "the", "first", "AT",
        "After", "The", "First", "ın", "wıthin", "İn", "ſ", "s", "S", "sec", "secs", "second",
        "seconds", "Seconds", "mark", "-", " - ", "5", "12", "3.5", "1,000", "٣", "５", "１０",
        "𝟗", "0", "80s", "the 80s", "cabin", "(at", "x", "@Element1", "fps", "\n", "\t",
        "\u00a0", "\u2003", "  ", " ", " ", " ", ".", ",", "é", "→", "“", "”", "中文",
        "(", ")", "duration", "Duration", "DURATION", "duratıon", ":", "=", "shot", "shots",
        "Shots", "shoT", "ſhot", "two", "Ten", "three", "-", "--", "of", "espresso", "sequence",
        "FPS", "fpſ", "frames", "Frame", "per", "a", "/", "1,000,000", "99", "100",
    ]
)  # fmt: skip
_TEXT = st.lists(_PIECES, max_size=30).map("".join)
_ANY = st.one_of(_TEXT, st.text(max_size=60))
_SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))


@_SETTINGS
@given(text=_ANY)
def test_has_digit_is_the_digit_pattern(text: str) -> None:
    assert has_digit(text) == (re.search(r"\d", text) is not None)
    assert has_digit(text.lower()) == has_digit(text)


@_SETTINGS
@given(text=_ANY)
def test_digit_runs_are_the_digits_pattern(text: str) -> None:
    assert digit_runs(text) == [m.span() for m in re.finditer(r"\d+", text)]


@_SETTINGS
@given(text=_ANY)
def test_find_time_marks_is_analysis_time_marks(text: str) -> None:
    assert find_time_marks(Analysis(text)) == Analysis(text).time_marks


def test_find_time_marks_examples() -> None:
    for text in (
        "At the 3-second mark a door opens, by the 5 s mark it closes.",
        "in the first 2 secs, around  4 seconds, wıthin 6 s, after\n7\tseconds mark",
        "from 5-s, at 5 -s, cabin 5 s, (at 5 s), the 80s, AT 7 S, at the the 3 s",
        "İn 5 seconds at 6 s",
    ):
        assert find_time_marks(Analysis(text)) == Analysis(text).time_marks, text


_ANCHORED = [
    (consistency._DURATION_NOTE, ("duration",), consistency._duration_note_starts, "ıİ"),
    (consistency._SHOT_COUNT, ("shot",), consistency._shot_count_starts, "ſ"),
    (failure._FPS, ("fps", "frame"), failure._fps_starts, "ſ"),
]


@_SETTINGS
@given(text=_ANY)
def test_anchored_finditer_is_finditer(text: str) -> None:
    for pattern, anchors, starts, variants in _ANCHORED:
        found = anchored_finditer(pattern, Analysis(text), anchors, starts, variants)
        expected = list(pattern.finditer(text))
        assert [(m.span(), m.groups()) for m in found] == [(m.span(), m.groups()) for m in expected]


@_SETTINGS
@given(
    text=_ANY,
    terms=st.lists(
        st.sampled_from(["blur", "text", "rain", "low quality", "s", "cat"]), min_size=1
    ),
)
def test_term_matches_are_finditer(text: str, terms: list[str]) -> None:
    from kling_prompt.linter.checks.negative import _term_matches, _term_pattern

    lower = (text + " blurs rainy text-free cats low quality rain").lower()
    present = tuple(dict.fromkeys(terms))
    pattern = _term_pattern(present)
    found = _term_matches(pattern, present, lower)
    assert [m.span() for m in found] == [m.span() for m in pattern.finditer(lower)]


def _terms_reference(text: str) -> list[tuple[str, int, int]]:
    """KP603's negative-prompt terms as first written (every item through both patterns)."""
    from kling_prompt.linter.checks.negative import _LEAD, _NEGATED_TERM, _TERM, _TOO_GENERIC

    terms: list[tuple[str, int, int]] = []
    for m in _TERM.finditer(text):
        raw = m.group()
        lead = _LEAD.match(raw.strip())
        rest = raw.strip()[lead.end() if lead else 0 :]
        term = rest.strip(" .")
        offset = len(raw) - len(raw.lstrip()) + (lead.end() if lead else 0)
        offset += len(rest) - len(rest.lstrip(" ."))  # the term starts after leading dots
        if _NEGATED_TERM.match(term):
            continue
        if len(term) < 3 or term.lower() in _TOO_GENERIC or len(term.split()) > 4:
            continue
        start = m.start() + offset
        terms.append((term.lower(), start, start + len(term)))
    return terms


_NEGATIVE_PIECES = st.sampled_from(
    [
        "and", "AND", "Or", "the", "The", "a", "An", "any", "ANY", "no", "No", "not", "don't",
        "do not", "Do Not", "without", "wıthout", "WİTHOUT", "avoid", "Avoid", "never", "blur",
        "text", "low quality", "watermark", "extra limbs", "İ", "ſ", "K", ",", ", ", ";", "\n",
        " ", "  ", ".", " .", "nobody", "anything", "object", "too many words in one item here",
    ]
)  # fmt: skip


@_SETTINGS
@given(text=st.one_of(st.lists(_NEGATIVE_PIECES, max_size=20).map("".join), st.text(max_size=60)))
def test_negative_terms_are_the_reference(text: str) -> None:
    from kling_prompt.linter.checks.negative import _terms

    assert _terms(Analysis(text)) == _terms_reference(text)
