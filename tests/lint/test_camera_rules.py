"""KP7xx camera rules: opposite moves, sequences, camera_control presets and axes."""

from __future__ import annotations

from typing import Any

import pytest

from kling_prompt.linter import Linter
from kling_prompt.request import Request

LINTER = Linter()


def codes(prompt: str, **arguments: Any) -> list[str]:
    request = Request(None, {"prompt": prompt, **arguments}, mode="text-to-video")
    return [d.code for d in LINTER.lint(request)]


@pytest.mark.parametrize(
    "prompt",
    [
        "The camera pans left across the bay while it pans right over the boats",
        "Tilt up to the spire, tilt down to the square",
        "Locked-off shot of the crossing, slow push in",
    ],
)
def test_kp701_opposite_moves(prompt: str) -> None:
    assert "KP701" in codes(prompt)


def test_kp701_sequence_is_not_a_conflict() -> None:
    assert "KP701" not in codes("The camera pans left, then pans right to find the boat")


def test_kp702_counts_distinct_moves() -> None:
    assert "KP702" in codes("Pan left, tilt up, zoom in and a tracking shot of the runner")
    assert "KP702" not in codes("Pan left and tilt up to the runner")


@pytest.mark.parametrize(
    ("preset", "prompt", "expected"),
    [
        ("forward_up", "The camera pulls back to reveal the valley", True),
        ("forward_up", "The camera rises over the ridge", False),
        ("down_back", "Slow push in on the door", True),
        ("left_turn_forward", "The camera pans right across the skyline", True),
        ("right_turn_forward", "The camera pans right across the skyline", False),
    ],
)
def test_kp704_presets(preset: str, prompt: str, expected: bool) -> None:
    assert ("KP704" in codes(prompt, camera_control=preset)) is expected


def test_kp704_advanced_axes() -> None:
    zoom_in = {"movement_type": "zoom", "movement_value": -4}
    assert "KP704" in codes("The camera zooms out", advanced_camera_control=zoom_in)
    assert "KP704" not in codes("The camera zooms in", advanced_camera_control=zoom_in)
    tilt_left = {"type": "simple", "config": {"tilt": -3, "zoom": 0}}
    assert "KP704" in codes("The camera pans right", camera_control=tilt_left)


def test_kp703_subject_or_camera_named() -> None:
    assert "KP703" in codes("A fox in the snow, zoom in on its face")
    assert "KP703" not in codes("A fox in the snow, the camera zooms in on its face")
    assert "KP703" not in codes("The fox moves closer to the den")


def test_kp702_a_negative_max_reads_as_zero() -> None:
    linter = Linter()
    linter._options = {"KP702": {"max": -1}}
    prompt = "Shot 1: pan left and tilt up to the runner. Shot 2: the runner rests."
    request = Request(None, {"prompt": prompt}, mode="text-to-video")
    found = [d.code for d in linter.lint(request)]
    assert "KP006" not in found  # no crash
    assert "KP702" in found  # two moves, over a maximum of zero
