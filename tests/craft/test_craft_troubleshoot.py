"""Troubleshooting: each suggestion changes the request as it says and adds no warning."""

from __future__ import annotations

import pytest

from kling_prompt import Prompt
from kling_prompt.craft import SYMPTOMS, Suggestion, apply_all, troubleshoot
from kling_prompt.craft.checks import problems
from kling_prompt.errors import SpecError
from kling_prompt.request import Request

IMG, VID = "https://x/char.png", "https://x/ref.mp4"


def spec_request() -> Request:
    return (
        Prompt.text_to_video()
        .subject("a red fox")
        .motion("the fox trots across the meadow and stops")
        .scene("a meadow at noon, bright sunny", lighting="dark moody shadows")
        .family("v3")
        .tier("pro")
        .duration(10)
        .negative("blur")
        .render()
    )


def payload_request() -> Request:
    return Request(
        "fal-ai/kling-video/v3/pro/image-to-video",
        {
            "prompt": "A young woman, long wavy auburn hair, green eyes, freckles, turns her head "
            "and smiles. Bright sunny day with dark moody shadows.",
            "start_image_url": "https://x/a.png",
            "duration": "10",
        },
        mode="image-to-video",
    )


def codes(request: Request) -> set[str]:
    return {d.code for d in problems(request)}


def by_kind(request: Request, symptom: str) -> dict[str, Suggestion]:
    return {s.kind: s for s in troubleshoot(request, symptom) if s.applicable}


@pytest.mark.parametrize("make", [spec_request, payload_request])
@pytest.mark.parametrize("symptom", [s for s in SYMPTOMS if s != "motion-not-transferring"])
def test_every_change_changes_the_request_and_adds_no_warning(make: object, symptom: str) -> None:
    request = make()  # type: ignore[operator]
    before = codes(request)
    for suggestion in troubleshoot(request, symptom):
        if not suggestion.applicable:
            with pytest.raises(SpecError, match="advice"):
                suggestion.apply(request)
            continue
        result = suggestion.apply(request)
        assert result.payload() != request.payload(), suggestion.title
        assert codes(result) <= before, suggestion.title


@pytest.mark.parametrize("make", [spec_request, payload_request])
def test_motion_distortion_changes_do_what_they_say(make: object) -> None:
    request = make()  # type: ignore[operator]
    found = by_kind(request, "motion-distortion")
    shorter = found["duration"].apply(request)
    assert shorter.arguments["duration"] == "5"
    standard = found["tier"].apply(request)
    assert (
        standard.endpoint
        == "fal-ai/kling-video/v3/standard/" + str(request.endpoint).split("/")[-1]
    )
    stable = found["stability"].apply(request)
    assert (stable.prompt or "").endswith("Stable camera movement.")


def test_visual_coherence_removes_the_contradiction_and_lints_clean() -> None:
    request = spec_request()
    assert "KP801" in codes(request)
    fixed = by_kind(request, "visual-coherence")["contradiction"].apply(request)
    assert "dark moody" not in (fixed.prompt or "")
    assert fixed.spec is not None
    assert fixed.spec.scene.lighting is None
    assert codes(fixed) == set()
    text = by_kind(payload_request(), "visual-coherence")["contradiction"]
    result = text.apply(payload_request())
    assert (result.prompt or "").endswith("Bright sunny day.")


def test_identity_loss_drops_appearance() -> None:
    result = by_kind(payload_request(), "identity-loss")["appearance"].apply(payload_request())
    assert "freckles" not in (result.prompt or "")
    assert "turns her head" in (result.prompt or "")
    spec = (
        Prompt.image_to_video("https://x/a.png")
        .subject("the woman", "long wavy auburn hair", "green eyes")
        .motion("she turns her head and smiles")
        .duration(5)
        .render()
    )
    changed = by_kind(spec, "identity-loss")["appearance"].apply(spec)
    assert changed.spec is not None
    assert changed.spec.subject.attributes == ()


def test_motion_not_transferring_switches_orientation_and_drops_choreography() -> None:
    request = (
        Prompt.motion_control(IMG, VID, "image").subject("a hip-hop dancer spinning on a stage")
    ).render()
    found = by_kind(request, "motion-not-transferring")
    assert found["orientation"].apply(request).arguments["character_orientation"] == "video"
    cleaned = found["choreography"].apply(request)
    assert cleaned.prompt == "A hip-hop dancer on a stage."
    result, done = apply_all(request, troubleshoot(request, "motion-not-transferring"))
    assert len(done) == 2
    assert result.arguments["character_orientation"] == "video"
    assert result.prompt == "A hip-hop dancer on a stage."
    assert codes(result) == set()


def test_motion_not_transferring_needs_motion_control() -> None:
    with pytest.raises(SpecError, match="motion control"):
        troubleshoot(spec_request(), "motion-not-transferring")


def test_unknown_symptom() -> None:
    with pytest.raises(SpecError, match="choose from"):
        troubleshoot(spec_request(), "blurry")


def test_apply_all_result_lints_with_no_new_warnings() -> None:
    request = payload_request()
    suggestions = [
        s for sym in ("identity-loss", "visual-coherence") for s in troubleshoot(request, sym)
    ]
    result, done = apply_all(request, suggestions)
    assert done
    assert codes(result) <= codes(request)
    assert "freckles" not in (result.prompt or "")
    assert "dark moody" not in (result.prompt or "")


def test_already_present_phrase_is_not_suggested() -> None:
    request = (
        Prompt.text_to_video()
        .subject("a fox")
        .motion("the fox trots")
        .consistency("appearance")
        .render()
    )
    kinds = [s.kind for s in troubleshoot(request, "object-morphing")]
    assert "stability" not in kinds
