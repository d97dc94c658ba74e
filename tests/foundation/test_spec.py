"""PromptSpec validation: invalid combinations are rejected with the field named."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from kling_prompt.errors import SpecError
from kling_prompt.spec import (
    Camera,
    Element,
    Motion,
    PromptSpec,
    Scene,
    Shot,
    Style,
    Subject,
    TimedEvent,
    Voice,
    iter_text_fields,
    load_spec,
)

T2V: dict[str, Any] = {"mode": "text-to-video", "subject": "an old fisherman"}
MC: dict[str, Any] = {
    "mode": "motion-control",
    "character_image": "https://x/c.png",
    "video": "https://x/v.mp4",
    "character_orientation": "video",
}


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(data, source="spec.yaml")
    return str(info.value)


def test_minimal_text_to_video() -> None:
    spec = load_spec(T2V)
    assert spec.subject == Subject(description="an old fisherman")
    assert spec.mode == "text-to-video"


def test_strings_stand_for_components() -> None:
    spec = load_spec(
        {
            **T2V,
            "scene": "a harbour",
            "style": "cinematic",
            "motion": "coils a rope",
            "camera": "slow push-in",
        }
    )
    assert spec.scene == Scene(environment="a harbour")
    assert spec.style == Style(look="cinematic")
    assert spec.motion == Motion(directives=("coils a rope",))
    assert spec.camera == Camera(moves=("slow push-in",))


def test_models_are_frozen_and_forbid_extra() -> None:
    spec = load_spec(T2V)
    with pytest.raises(pydantic.ValidationError):
        spec.duration = 5  # type: ignore[misc]
    message = error_of({**T2V, "colour": "red"})
    assert "colour" in message
    assert message.startswith("spec.yaml: ")


def test_direct_construction_raises_a_value_error() -> None:
    with pytest.raises(ValueError, match="motion"):
        PromptSpec(**MC, motion=Motion(directives=("dances",)))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**MC, "motion": "dances wildly"}, "motion: in motion-control mode the reference video"),
        ({**T2V, "shots": [{"duration": 5, "subject": "a"}]}, "shots: shots are only used"),
        (
            {
                "mode": "reference-to-video",
                "subject": "@Element3 walks",
                "elements": ["https://x/1.png", "https://x/2.png"],
            },
            "subject.description: refers to @Element3 but the spec has 2 element(s)",
        ),
        ({**T2V, "duration": -5}, "duration"),
        ({**T2V, "duration": 0}, "duration"),
        ({**T2V, "subject": ""}, "subject.description: must contain words"),
        (
            {**T2V, "subject": {"description": "a", "attributes": ["  "]}},
            "subject.attributes[0]: must",
        ),
        ({**T2V, "voices": ["v1", "v2", "v3"]}, "voices: at most 2 voices"),
        ({**MC, "camera": {"control": "down_back"}}, "camera.control: the camera_control preset"),
        ({**T2V, "scene": {}}, "scene: give at least one"),
        ({**T2V, "emphasis": ["++red++"]}, "emphasis"),
        ({**T2V, "start_image": "https://x/a.png"}, "start_image: not used in text-to-video"),
        ({"mode": "image-to-video", "motion": "waves"}, "start_image: required"),
        ({**MC, "duration": 5}, "duration: motion-control output follows"),
        ({**MC, "generate_audio": True}, "generate_audio"),
        ({"mode": "video-edit", "video": "https://x/v.mp4"}, "edit: video-edit mode needs"),
        ({**T2V, "edit": "make it red"}, "edit: only used in video-edit"),
        ({"mode": "multi-shot"}, "shots: multi-shot mode needs at least one shot"),
        (
            {"mode": "multi-shot", "motion": "x", "shots": [{"duration": 3, "motion": "y"}]},
            "motion",
        ),
        (
            {"mode": "multi-shot", "duration": 9, "shots": [{"duration": 3, "motion": "y"}]},
            "duration: the shots last 3 s",
        ),
        ({"mode": "multi-shot", "shots": [{"duration": 3}]}, "shots[0]: a shot needs"),
        ({**T2V, "dialogue": [{"speaker": "A", "text": "hi", "voice": 1}]}, "dialogue[0].voice"),
        (
            {**T2V, "dialogue": [{"speaker": "A", "text": "hi"}], "generate_audio": False},
            "dialogue[0]: generate_audio is false",
        ),
        (
            {**T2V, "duration": 5, "motion": {"events": [[7, "the sun sets"]]}},
            "motion.events[0].at_seconds: 7 s is after the end",
        ),
        ({**T2V, "style": "look at @Image1"}, "style.look: refers to @Image1"),
        ({**T2V, "subject": "<<<voice_1>>> sings"}, "refers to <<<voice_1>>>"),
        ({"mode": "text-to-video", "style": "noir"}, "subject: a text-to-video prompt needs"),
        ({**T2V, "subject": "a \ue001 b"}, "reserved private-use"),
        ({**T2V, "aspect_ratio": "4:3"}, "aspect_ratio"),
        ({**MC, "character_orientation": None}, "character_orientation: required"),
        ({**T2V, "keep_sound": True}, "keep_sound: not used in text-to-video"),
    ],
)
def test_invalid_specs_name_the_field(data: dict[str, Any], field: str) -> None:
    assert field in error_of(data)


def test_several_problems_in_one_line() -> None:
    message = error_of({**MC, "motion": "dances", "duration": 5, "shots": []})
    assert "2 problems" in message
    assert "\n" not in message


def test_video_reference_only_in_video_edit() -> None:
    ok = load_spec(
        {
            "mode": "video-edit",
            "video": "https://x/v.mp4",
            "edit": "replace the sky in @Video1 with a storm",
        }
    )
    assert ok.edit is not None
    assert "@Video1" in error_of({**T2V, "subject": "the man from @Video1"})


def test_camera_control_allowed_in_text_to_video() -> None:
    spec = load_spec({**T2V, "camera": {"control": "forward_up"}})
    assert spec.camera is not None
    assert spec.camera.control == "forward_up"


def test_motion_control_allows_scene_context() -> None:
    spec = load_spec({**MC, "subject": "Rumi, purple braid", "scene": "neon-lit K-pop stage"})
    assert spec.motion is None


def test_total_duration() -> None:
    spec = PromptSpec(
        mode="multi-shot",
        shots=(
            Shot(duration=3, motion=Motion(directives=("a",))),
            Shot(duration=4, subject=Subject(description="b")),
        ),
    )
    assert spec.total_duration() == 7
    assert load_spec({**T2V, "duration": 5}).total_duration() == 5
    assert load_spec(T2V).total_duration() is None


def test_component_constructors() -> None:
    assert TimedEvent.model_validate([2.5, "a flash"]) == TimedEvent(
        at_seconds=2.5, description="a flash"
    )
    assert Voice.model_validate("vid") == Voice(voice_id="vid")
    assert Element.model_validate("https://x/e.png").frontal_image_url == "https://x/e.png"
    with pytest.raises(pydantic.ValidationError, match="frontal_image_url"):
        Element()
    with pytest.raises(pydantic.ValidationError):
        TimedEvent(at_seconds=-1, description="x")


def test_iter_text_fields_paths() -> None:
    spec = load_spec(
        {
            **T2V,
            "mode": "reference-to-video",
            "motion": {"directives": ["a", "b"], "layers": {"background": "clouds drift"}},
            "elements": [{"frontal_image_url": "https://x/e.png", "label": "the dog"}],
        }
    )
    fields = dict(iter_text_fields(spec))
    assert fields["subject.description"] == "an old fisherman"
    assert fields["motion.directives[1]"] == "b"
    assert fields["motion.layers.background"] == "clouds drift"
    assert fields["elements[0].label"] == "the dog"
    assert not any("url" in path for path in fields)


def test_load_spec_needs_a_mapping() -> None:
    with pytest.raises(SpecError, match=r"spec.yaml: a prompt spec must be a mapping"):
        load_spec(["x"], source="spec.yaml")


def test_round_trip_through_dump() -> None:
    spec = load_spec(
        {
            **T2V,
            "motion": {"events": [[1.5, "flash"]], "sequence": ["a", "b"]},
            "dialogue": [{"speaker": "A", "text": "hi", "link": "immediately"}],
            "duration": 5,
        }
    )
    assert PromptSpec.model_validate(spec.model_dump()) == spec
    assert PromptSpec.model_validate_json(spec.model_dump_json()) == spec
