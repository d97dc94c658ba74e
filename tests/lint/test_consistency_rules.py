"""Consistency rules (KP801–KP805): shots, changes over time, time marks, counts."""

from __future__ import annotations

from typing import Any

import pytest

from kling_prompt.linter import Linter
from kling_prompt.linter.checks.consistency import time_marks
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.text import Analysis
from kling_prompt.request import Request

V3 = "fal-ai/kling-video/v3/pro/text-to-video"
V26 = "fal-ai/kling-video/v2.6/pro/text-to-video"


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter()


def lint(linter: Linter, code: str, endpoint: str = V3, **arguments: Any) -> list[Diagnostic]:
    return [d for d in linter.lint(Request(endpoint, arguments)) if d.code == code]


def shots(*prompts: str, duration: str = "5") -> list[dict[str, Any]]:
    return [{"prompt": p, "duration": duration} for p in prompts]


def test_the_source_guides_contradiction_triggers(linter: Linter) -> None:
    found = lint(linter, "KP801", prompt="A bright sunny day with dark moody shadows.")
    assert len(found) == 1
    assert "dark moody" in found[0].message


@pytest.mark.parametrize(
    "prompt",
    [
        "The midday sun sets and the city fades into night.",
        "A busy street at midday; at the 3-second mark it becomes night.",
        "Sunny fields at first, then a thunderstorm rolls in.",
        "A sunny beach gradually turns stormy.",
        "Shot 1: a sunny beach at noon. Shot 2: the same beach at night.",
        '[Girl] says: "I love summer, but winter is coming."',
    ],
)
def test_changes_over_time_and_other_shots_are_not_contradictions(
    linter: Linter, prompt: str
) -> None:
    assert not lint(linter, "KP801", prompt=prompt)


def test_contradiction_is_per_multi_prompt_shot(linter: Linter) -> None:
    apart = shots("A quiet beach at noon.", "The beach at night.")
    together = shots("A quiet beach at noon.", "A beach at noon under the night sky.")
    assert not lint(linter, "KP801", multi_prompt=apart)
    assert [d.field for d in lint(linter, "KP801", multi_prompt=together)] == [
        "multi_prompt[1].prompt"
    ]


def test_shot_self_containment(linter: Linter) -> None:
    found = lint(
        linter,
        "KP802",
        multi_prompt=shots(
            "A woman in a red coat walks into a café.",
            "She sits by the window.",
            "After that, the rain starts.",
            "The woman in the red coat orders tea.",
        ),
    )
    assert [d.field for d in found] == ["multi_prompt[1].prompt", "multi_prompt[2].prompt"]


def test_dropped_subject_needs_a_named_subject_in_shot_one(linter: Linter) -> None:
    named = shots("@Element1 walks on the pier.", "Close-up as he looks at the sea.")
    plain = shots("A man walks on the pier.", "Close-up as he looks at the sea.")
    assert lint(linter, "KP802", multi_prompt=named)
    assert not lint(linter, "KP802", multi_prompt=plain)


def test_style_drift(linter: Linter) -> None:
    drift = shots("A knight, photorealistic.", "A dragon, anime style.", "A castle, watercolor.")
    assert len(lint(linter, "KP803", multi_prompt=drift)) == 1


def test_time_marks_skip_decades_and_quotes(linter: Linter) -> None:
    a = Analysis(
        'A diner from the 80s; at the 3-second mark [A] says: "in 20 seconds".',
        matcher=linter.matcher,
    )
    assert [m[0] for m in time_marks(a)] == [3.0]


@pytest.mark.parametrize(
    ("duration", "expected"),
    [("5", 1), (5, 1), ("10", 0), (10, 0), (None, 1)],
)
def test_time_mark_duration_forms(linter: Linter, duration: Any, expected: int) -> None:
    arguments: dict[str, Any] = {"prompt": "At the 8-second mark a dog runs in."}
    if duration is not None:
        arguments["duration"] = duration
    assert len(lint(linter, "KP804", V26, **arguments)) == expected


def test_time_marks_out_of_order(linter: Linter) -> None:
    prompt = "At the 4-second mark the rain stops, and at the 2-second mark the sun appears."
    found = lint(linter, "KP804", prompt=prompt, duration="5")
    assert len(found) == 1
    assert "earlier" in found[0].message


def test_shot_count_and_duration_notes(linter: Linter) -> None:
    found = lint(
        linter,
        "KP805",
        multi_prompt=[
            {"prompt": "Four shots: a harbour at dawn (Duration: 5s)", "duration": "3"},
            {"prompt": "Gulls over the pier.", "duration": "5"},
        ],
    )
    assert len(found) == 2
    assert not lint(
        linter,
        "KP805",
        multi_prompt=[
            {"prompt": "Two shots: a harbour at dawn (Duration: 3s)", "duration": "3"},
            {"prompt": "Gulls over the pier.", "duration": "5"},
        ],
    )
