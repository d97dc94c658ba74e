"""KP3xx motion rules: the source guide's motion-control examples and the camera exemption."""

from __future__ import annotations

from typing import Any

import pytest

from kling_prompt.linter import Linter
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.request import Request

LINTER = Linter()


def lint(prompt: str, mode: str = "motion-control", **arguments: Any) -> list[Diagnostic]:
    return LINTER.lint(Request(None, {"prompt": prompt, **arguments}, mode=mode))


def codes(prompt: str, mode: str = "motion-control", **arguments: Any) -> list[str]:
    return [d.code for d in lint(prompt, mode, **arguments)]


GUIDE_BAD = [
    "Dancing energetically with spinning and jumping movements",
    "Character doing the griddy dance with arm movements",
    "Walking forward then turning around quickly",
]
GUIDE_GOOD = [
    "Rumi, purple braided hair, yellow racing jacket, performing on a neon-lit K-pop stage, "
    "cinematic lighting, consistent character appearance",
    "A graceful ballet dancer on a grand theater stage, soft pink lighting casting gentle shadows, "
    "audience seats visible in the darkness beyond",
    "Rumi, vivid purple long braid, yellow cropped racing jacket, performing on concert stage, "
    "neon lights, cinematic quality, consistent character appearance, smooth motion",
    "Professional dancer on stage, concert lighting, cinematic quality, consistent character "
    "appearance, smooth motion",
]


@pytest.mark.parametrize("prompt", GUIDE_BAD)
def test_guide_bad_prompts_trigger_kp301(prompt: str) -> None:
    assert "KP301" in codes(prompt)


@pytest.mark.parametrize("prompt", GUIDE_GOOD)
def test_guide_good_prompts_do_not_trigger_kp301(prompt: str) -> None:
    assert "KP301" not in codes(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "The camera spins around the dancer on a neon stage",
        "The camera orbits the performer, smoke and lasers",
        "A spinning camera circles the singer",
        "Neon stage, a spinning disco ball overhead, crowd jumping in the background",
        "A dancer under the lights, dust kicks up from the stage floor",
    ],
)
def test_camera_and_scene_motion_is_not_choreography(prompt: str) -> None:
    assert "KP301" not in codes(prompt)


def test_kp301_points_at_the_motion_words() -> None:
    prompt = "A knight in silver armour, walking forward then turning around, castle courtyard"
    spans = [prompt[d.start : d.end] for d in lint(prompt) if d.code == "KP301"]
    assert spans == ["walking forward", "turning around"]


def test_kp301_only_in_motion_control() -> None:
    assert "KP301" not in codes(GUIDE_BAD[0], mode="text-to-video")
    assert "KP301" not in codes(GUIDE_BAD[0], mode="image-to-video")


def test_kp303_and_kp302() -> None:
    assert "KP303" in codes("A red vintage car, chrome details, studio backdrop", "image-to-video")
    assert "KP303" not in codes("The red vintage car drives off, slow pan right", "image-to-video")
    assert "KP302" in codes("A red vintage car on a road, make it dynamic", "text-to-video")


def test_kp306_uses_character_orientation() -> None:
    prompt = "A ballet dancer on a grand theater stage"
    assert "KP306" in codes(prompt, character_orientation="image")
    assert "KP306" not in codes(prompt, character_orientation="video")


def test_kp307_only_on_single_shot_families() -> None:
    prompt = "Shot 1: a fox in the snow. Shot 2: the fox curls up in its den."
    old = LINTER.lint(Request("fal-ai/kling-video/v2.6/pro/text-to-video", {"prompt": prompt}))
    new = LINTER.lint(Request("fal-ai/kling-video/v3/pro/text-to-video", {"prompt": prompt}))
    assert "KP307" in [d.code for d in old]
    assert "KP307" not in [d.code for d in new]
