"""Shortcuts of the engine that skip work are right: they never hide a diagnostic.

The ``unless`` gate of KP303 (no-motion) closes it when every text field has a hit of one of its
keys; that is right only if each phrase carrying such a key makes :func:`has_motion` true on its
own. This checks every such phrase of the lexicons, so a phrase added to a lexicon later is
covered too. The word budget (KP401) does not count words in a text too short to be over it, and
time marks are looked for only when a substring test says there may be one.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kling_prompt.linter import Config, Linter
from kling_prompt.linter.checks.motion import has_motion
from kling_prompt.linter.text import TIME_MARK, Analysis
from kling_prompt.request import Request

_LINTER = Linter()


def test_every_phrase_of_a_kp303_unless_key_has_motion() -> None:
    unless = _LINTER.metas["KP303"].when
    assert unless is not None
    assert "motion-verbs" in unless.unless
    matcher = _LINTER.matcher
    phrases = sorted({p for key in unless.unless for p in matcher.phrases(key)})
    assert len(phrases) > 200
    still = [p for p in phrases if not has_motion(Analysis(p, matcher=matcher))]
    assert still == []


def test_kp303_still_reports_a_shot_without_motion_next_to_one_with_it() -> None:
    request = Request(
        "fal-ai/kling-video/v3/pro/text-to-video",
        {
            "multi_prompt": [
                {"prompt": "A woman walks into the rain.", "duration": "5"},
                {"prompt": "A portrait of an old fisherman, grey beard.", "duration": "5"},
            ],
            "shot_type": "customize",
        },
    )
    found = [d for d in _LINTER.lint(request) if d.code == "KP303"]
    assert [d.field for d in found] == ["multi_prompt[1].prompt"]


_BUDGETS: dict[int, Linter] = {}


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(["a", "bb", " ", "\n", "\t", "\u3000", "."]), max_size=30),
    budget=st.integers(0, 12),
)
def test_word_budget_skips_counting_only_when_it_cannot_be_over(
    pieces: list[str], budget: int
) -> None:
    """KP401 does not count the words of a text of at most twice the budget in characters."""
    text = "".join(pieces)
    linter = _BUDGETS.get(budget) or _BUDGETS.setdefault(
        budget, Linter(Config({"word-budget": {"text-to-video": budget}, "select": ["KP401"]}))
    )
    found = linter.lint(Request(None, {"prompt": text}, mode="text-to-video"))
    assert bool(found) == (len(text.split()) > budget)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.sampled_from(
            ["at ", "after ", "the ", "5", "12.5", "-", " ", "s", "sec", "second", "."]
        ),
        max_size=12,
    )
)
@example(pieces=["at ", "5", "-", "s", "."])
def test_time_marks_pre_check_misses_no_mark(pieces: list[str]) -> None:
    """The substring pre-check of ``Analysis.time_marks`` lets every mark the regex finds through
    ("at 5-s" included)."""
    text = "".join(pieces)
    expected = [(float(m.group(1)), m.start(), m.end()) for m in TIME_MARK.finditer(text)]
    assert Analysis(text).time_marks == expected
