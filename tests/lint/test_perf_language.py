"""The fast paths of the language rules (KP5xx-KP9xx) answer exactly what the plain scans did.

The rules avoid scanning whole texts with regular expressions (about 15 ns a character) by
searching substrings first; each helper here is compared with the straightforward pattern it
replaces, on generated texts rich in digits, whitespace, case and scripts.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.linter.checks.consistency import digit_runs, find_time_marks, has_digit
from kling_prompt.linter.text import Analysis

_PIECES = st.sampled_from(
    [
        "at", "after", "by", "until", "around", "from", "within", "in", "the", "first", "AT",
        "After", "The", "First", "ın", "wıthin", "İn", "ſ", "s", "S", "sec", "secs", "second",
        "seconds", "Seconds", "mark", "-", " - ", "5", "12", "3.5", "1,000", "٣", "５", "１０",
        "𝟗", "0", "80s", "the 80s", "cabin", "(at", "x", "@Element1", "fps", "\n", "\t",
        "\u00a0", "\u2003", "  ", " ", " ", " ", ".", ",", "é", "→", "“", "”", "中文",
    ]
)  # fmt: skip
_TEXT = st.lists(_PIECES, max_size=30).map("".join)
_ANY = st.one_of(_TEXT, st.text(max_size=60))
_SETTINGS = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))


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
