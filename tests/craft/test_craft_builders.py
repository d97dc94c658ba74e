"""Builder craft helpers: motion control layers, unwanted motion, edit language, timed events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kling_prompt import Prompt
from kling_prompt.craft.checks import problems
from kling_prompt.errors import SpecError

IMG, VID = "https://x/char.png", "https://x/ref.mp4"


def mc(orientation: str = "video") -> object:
    return Prompt.motion_control(IMG, VID, orientation)  # type: ignore[arg-type]


def test_consistency_adds_all_or_chosen_phrases() -> None:
    builder = Prompt.motion_control(IMG, VID, "video").identity("Rumi, purple braided hair")
    text = builder.consistency().text()
    for phrase in (
        "consistent lighting",
        "steady camera",
        "continuous motion",
        "smooth transitions",
        "maintains exact appearance throughout",
    ):
        assert phrase in text.lower()
    only = builder.consistency("lighting").consistency("lighting").render()
    assert only.spec is not None
    assert only.spec.stability == ("consistent lighting",)
    with pytest.raises(SpecError, match="consistency: unknown key 'light'"):
        builder.consistency("light")


def test_layers_render_and_lint_clean() -> None:
    request = (
        Prompt.motion_control(IMG, VID, "video")
        .identity("Rumi", "purple braided hair", "yellow cropped racing jacket")
        .environment("a neon-lit K-pop concert stage", lighting="cinematic lighting")
        .style("cinematic quality")
        .consistency("appearance")
        .render()
    )
    assert request.prompt is not None
    assert request.prompt.startswith("Rumi, purple braided hair")
    assert problems(request) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.identity("a dancer spinning and jumping"),
        lambda b: b.environment("a stage where she is dancing energetically"),
        lambda b: b.style("cinematic", film=["walking forward then turning around"]),
    ],
)
def test_layers_refuse_motion_directives(call: object) -> None:
    builder = Prompt.motion_control(IMG, VID, "video")
    with pytest.raises(SpecError, match="KP301"):
        call(builder)  # type: ignore[operator]


def test_intended_use_sets_orientation_and_cap() -> None:
    base = Prompt.motion_control(IMG, VID, "image")
    dance = base.intended_use("dance")
    assert dance.spec().character_orientation == "video"
    assert dance.duration_cap == 30
    portrait = dance.intended_use("portrait")
    assert portrait.spec().character_orientation == "image"
    assert portrait.duration_cap == 10
    assert portrait.reference_duration(8).render().arguments["character_orientation"] == "image"


def test_too_long_reference_is_refused_with_the_cap_and_fix() -> None:
    with pytest.raises(SpecError) as info:
        Prompt.motion_control(IMG, VID, "video").intended_use("portrait").reference_duration(12)
    message = str(info.value)
    assert message.startswith("reference_duration:")
    assert "cap 10 s" in message
    assert "'video' orientation" in message
    # Either order: the use chosen after the length is checked too.
    with pytest.raises(SpecError, match="cap 10 s"):
        Prompt.motion_control(IMG, VID, "video").reference_duration(12).intended_use("camera-work")
    with pytest.raises(SpecError, match="cap 30 s"):
        Prompt.motion_control(IMG, VID, "video").reference_duration(45)


def test_reference_duration_in_spec_is_checked_at_render() -> None:
    from kling_prompt.rendering import render
    from kling_prompt.spec import load_spec

    spec = load_spec(
        {
            "mode": "motion-control",
            "character_image": IMG,
            "video": VID,
            "character_orientation": "image",
            "reference_duration": 14,
        }
    )
    with pytest.raises(SpecError, match="cap 10 s"):
        render(spec)


def test_intended_use_contradicting_orientation_in_spec() -> None:
    from kling_prompt.spec import load_spec

    with pytest.raises(SpecError, match="character_orientation: 'dance' motion needs 'video'"):
        load_spec(
            {
                "mode": "motion-control",
                "character_image": IMG,
                "video": VID,
                "character_orientation": "image",
                "intended_use": "dance",
            }
        )


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        ("still_background", "Background remains motionless, only the character moves."),
        ("static_environment", "Static environment, all motion limited to the subject."),
    ],
)
def test_unwanted_motion_control(call: str, phrase: str) -> None:
    for start in (Prompt.text_to_video(), Prompt.image_to_video("https://x/start.png")):
        builder = start.subject("a street musician").motion("she strums the guitar and smiles")
        request = getattr(builder, call)().duration(5).render()
        assert request.prompt is not None
        assert request.prompt.endswith(phrase)
        assert problems(request) == []


def test_unwanted_motion_refused_in_other_modes() -> None:
    with pytest.raises(SpecError, match="text- or image-to-video"):
        Prompt.video_edit("https://x/v.mp4").still_background()


def test_edit_language_renders_masking_sentence() -> None:
    request = (
        Prompt.video_edit("https://x/v.mp4")
        .replace("the sky", "a stormy sunset")
        .preserve("the foreground")
        .render()
    )
    assert request.prompt == (
        "Replace only the sky in @Video1 with a stormy sunset while keeping the foreground "
        "unchanged."
    )
    assert problems(request) == []


def test_edit_language_with_reference_images() -> None:
    request = (
        Prompt.video_edit("https://x/v.mp4")
        .replace("the background", "a futuristic cityscape at night", image="https://x/city.jpg")
        .modify("the character's outfit", "a red leather jacket")
        .preserve("facial features", "motion")
        .render()
    )
    assert request.arguments["image_urls"] == ["https://x/city.jpg"]
    assert request.prompt == (
        "Replace only the background in @Video1 with a futuristic cityscape at night as shown "
        "in @Image1. Modify only the character's outfit in @Video1 to a red leather jacket "
        "while keeping facial features and motion unchanged."
    )
    assert problems(request) == []


def test_edit_language_needs_a_video() -> None:
    calls: tuple[Callable[[Prompt], Prompt], ...] = (
        lambda b: b.replace("the sky", "a storm"),
        lambda b: b.modify("the car", "red"),
        lambda b: b.preserve("the face"),
    )
    for call in calls:
        with pytest.raises(SpecError, match="needs an input video"):
            call(Prompt.text_to_video())
    from kling_prompt.spec import load_spec

    with pytest.raises(SpecError, match="edits: edit language needs an input video"):
        load_spec({"subject": "a car", "edits": [{"action": "replace", "target": "x", "to": "y"}]})


def test_edit_image_index_must_exist() -> None:
    with pytest.raises(SpecError, match="@Image2"):
        Prompt.video_edit("https://x/v.mp4").image("https://x/a.png").replace(
            "the sky", "a storm", image=2
        ).spec()


def test_lighting_change_and_physics() -> None:
    request = (
        Prompt.text_to_video()
        .subject("a dancer in a long silk dress")
        .motion("she turns slowly on the spot and stops")
        .lighting_change(at=3, description="sunlight breaks through the clouds")
        .physics("fabric", "hair")
        .duration(5)
        .render()
    )
    text = request.prompt or ""
    assert "At the 3-second mark, sunlight breaks through the clouds." in text
    assert "Fabric drapes and flows with gravity" in text
    assert "Hair settles naturally after motion stops." in text


def test_time_mark_beyond_duration_is_refused_with_kp804() -> None:
    builder = Prompt.text_to_video().subject("a fox").motion("the fox trots and stops")
    with pytest.raises(SpecError, match="KP804"):
        # no duration: the endpoint default (5 s) is the clip length
        builder.lighting_change(at=8, description="the sun sets").render()
    with pytest.raises(SpecError, match="after the end of the 5-second clip"):
        builder.lighting_change(at=8, description="the sun sets").duration(5).render()
    ok = builder.lighting_change(at=8, description="the sun sets").duration(10).render()
    assert "8-second mark" in (ok.prompt or "")


def test_physics_refused_in_motion_control() -> None:
    from kling_prompt.spec import load_spec

    with pytest.raises(SpecError, match="physics"):
        load_spec(
            {
                "mode": "motion-control",
                "character_image": IMG,
                "video": VID,
                "character_orientation": "video",
                "physics": ["hair settles"],
            }
        )
