"""Validation: fal-shaped payloads pass, the source guides' wrong fields fail with a fix."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kling_prompt import catalog
from kling_prompt.errors import Problem, ValidationError

IMAGE = "https://example.com/frame.png"
VIDEO = "https://example.com/clip.mp4"
AUDIO = "https://example.com/voice.mp3"


def minimal_arguments(info: catalog.EndpointInfo) -> dict[str, Any]:
    """The smallest payload the endpoint accepts, built from the catalog alone."""
    args: dict[str, Any] = {}
    for name in info.required:
        field = info.fields[name]
        if field.enum is not None:
            args[name] = field.enum[0]
        elif field.type == "array":
            args[name] = [IMAGE]
        elif field.file:
            args[name] = VIDEO if "video" in name else AUDIO if "audio" in name else IMAGE
        else:
            args[name] = "a quiet harbour at dawn"
    for group in info.exclusive:
        if not any(name in args for name in group):
            args[group[0]] = "a quiet harbour at dawn"
    return args


def locs(problems: list[Problem]) -> list[str]:
    return [p.loc for p in problems]


@pytest.mark.parametrize("endpoint_id", catalog.endpoint_ids())
def test_minimal_payload_of_every_endpoint_is_valid(endpoint_id: str) -> None:
    info = catalog.get(endpoint_id)
    args = minimal_arguments(info)
    assert catalog.check(endpoint_id, args) == []
    instance = catalog.validate(endpoint_id, args)
    assert instance.model_dump(exclude_unset=True) == args


@pytest.mark.parametrize(
    ("endpoint_id", "arguments"),
    [
        (
            "fal-ai/kling-video/v1/standard/text-to-video",
            {
                "prompt": "dolly back from a lighthouse",
                "duration": "10",
                "aspect_ratio": "9:16",
                "negative_prompt": "blur",
                "cfg_scale": 0.7,
                "camera_control": "down_back",
                "advanced_camera_control": {"movement_type": "zoom", "movement_value": -4},
            },
        ),
        (
            "fal-ai/kling-video/v1/standard/image-to-video",
            {
                "prompt": "the flag ripples",
                "image_url": IMAGE,
                "tail_image_url": IMAGE,
                "static_mask_url": IMAGE,
                "dynamic_masks": [{"mask_url": IMAGE, "trajectories": [{"x": 1, "y": 2}]}],
            },
        ),
        (
            "fal-ai/kling-video/v1.6/pro/elements",
            {"prompt": "two cats", "input_image_urls": [IMAGE] * 4},
        ),
        (
            "fal-ai/kling-video/v1.6/pro/effects",
            {"effect_scene": "hug", "input_image_urls": [IMAGE, IMAGE]},
        ),
        (
            "fal-ai/kling-video/v2.1/pro/image-to-video",
            {"prompt": "x", "image_url": IMAGE, "tail_image_url": IMAGE},
        ),
        (
            "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
            {"prompt": "x", "duration": "5", "cfg_scale": 0.5},
        ),
        (
            "fal-ai/kling-video/v2.6/pro/image-to-video",
            {
                "prompt": "<<<voice_1>>> says hello",
                "start_image_url": IMAGE,
                "end_image_url": IMAGE,
                "voice_ids": ["v1", "v2"],
                "generate_audio": True,
            },
        ),
        (
            "fal-ai/kling-video/v2.6/pro/motion-control",
            {
                "image_url": IMAGE,
                "video_url": VIDEO,
                "character_orientation": "video",
                "keep_original_sound": False,
            },
        ),
        (
            "fal-ai/kling-video/v3/pro/image-to-video",
            {
                "start_image_url": IMAGE,
                "multi_prompt": [
                    {"prompt": "wide", "duration": "4"},
                    {"prompt": "close", "duration": "6"},
                ],
                "shot_type": "customize",
                "duration": "10",
                "elements": [
                    {"video_url": VIDEO, "voice_id": "voice-123"},
                    {"frontal_image_url": IMAGE, "reference_image_urls": [IMAGE, IMAGE]},
                ],
                "generate_audio": True,
            },
        ),
        (
            "fal-ai/kling-video/v3/pro/motion-control",
            {
                "image_url": IMAGE,
                "video_url": VIDEO,
                "character_orientation": "video",
                "elements": [{"frontal_image_url": IMAGE}],
            },
        ),
        (
            "fal-ai/kling-video/o1/reference-to-video",
            {
                "prompt": "@Element1 meets @Image1",
                "image_urls": [IMAGE] * 3,
                "elements": [{"frontal_image_url": IMAGE, "reference_image_urls": [IMAGE]}] * 4,
                "duration": "7",
            },
        ),
        (
            "fal-ai/kling-video/o1/video-to-video/edit",
            {
                "prompt": "make @Video1 snowy",
                "video_url": VIDEO,
                "image_urls": [IMAGE] * 2,
                "keep_audio": True,
            },
        ),
        (
            "fal-ai/kling-video/o3/pro/reference-to-video",
            {
                "prompt": "x",
                "image_urls": [IMAGE] * 5,
                "elements": [{"frontal_image_url": IMAGE}] * 2,
            },
        ),
        (
            "fal-ai/kling-video/o3/pro/video-to-video/reference",
            {"prompt": "x", "video_url": VIDEO, "duration": "12"},
        ),
        (
            "kling/v4/text-to-video",
            {
                "multi_prompt": [{"prompt": "a", "duration": 10}],
                "duration": 10,
                "resolution": "720p",
            },
        ),
        (
            "kling/v4/image-to-video",
            {"prompt": "x", "start_image_url": IMAGE, "middle_image_urls": [IMAGE] * 8},
        ),
        (
            "fal-ai/kling-video/lipsync/text-to-video",
            {"video_url": VIDEO, "text": "hello", "voice_id": "AOT", "voice_speed": 1.5},
        ),
    ],
)
def test_valid_payloads_per_family_pass(endpoint_id: str, arguments: dict[str, Any]) -> None:
    assert catalog.check(endpoint_id, arguments) == []
    catalog.validate(endpoint_id, arguments)


@pytest.mark.parametrize(
    ("endpoint_id", "arguments", "loc", "hint"),
    [
        (
            "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
            {"prompt": "x", "camera_control": "down_back"},
            "camera_control",
            "fal-ai/kling-video/v1/standard/text-to-video",
        ),
        (
            "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
            {
                "prompt": "x",
                "advanced_camera_control": {"movement_type": "pan", "movement_value": 1},
            },
            "advanced_camera_control",
            "fal-ai/kling-video/v1/standard/text-to-video",
        ),
        (
            "fal-ai/kling-video/v2.1/pro/image-to-video",
            {"prompt": "x", "image_url": IMAGE, "special_fx": "hug"},
            "special_fx",
            "effect_scene",
        ),
        (
            "fal-ai/kling-video/v2.1/pro/image-to-video",
            {"prompt": "x", "image_url": IMAGE, "dynamic_mask_url": IMAGE},
            "dynamic_mask_url",
            "dynamic_masks",
        ),
        (
            "fal-ai/kling-video/o1/video-to-video/edit",
            {"prompt": "x", "video_url": VIDEO, "input_image_urls": [IMAGE]},
            "input_image_urls",
            "takes image_urls",
        ),
        (
            "fal-ai/kling-video/v3/pro/image-to-video",
            {"prompt": "x", "start_image_url": IMAGE, "aspect_ratio": "16:9"},
            "aspect_ratio",
            "removed it from this endpoint on 2026-04-05",
        ),
        (
            "fal-ai/kling-video/v3/pro/image-to-video",
            {"prompt": "x", "start_image_url": IMAGE, "voice_ids": ["v"]},
            "voice_ids",
            "elements[].voice_id",
        ),
        (
            "fal-ai/kling-video/v3/pro/text-to-video",
            {"prompt": "x", "voice_ids": ["v"]},
            "voice_ids",
            "fal-ai/kling-video/v2.6/pro/image-to-video",
        ),
        (
            "fal-ai/kling-video/v3/pro/image-to-video",
            {"prompt": "x", "start_image_url": IMAGE, "tail_image_url": IMAGE},
            "tail_image_url",
            "takes end_image_url",
        ),
        (
            "fal-ai/kling-video/v2.6/pro/image-to-video",
            {"prompt": "x", "image_url": IMAGE},
            "image_url",
            "takes start_image_url",
        ),
    ],
)
def test_source_guide_claims_are_rejected(
    endpoint_id: str, arguments: dict[str, Any], loc: str, hint: str
) -> None:
    problems = catalog.check(endpoint_id, arguments)
    unknown = [p for p in problems if p.loc == loc]
    assert unknown, problems
    assert unknown[0].type == "extra_forbidden"
    assert hint in unknown[0].message
    assert "remove it" in unknown[0].message


def test_validate_lists_every_problem_with_its_path() -> None:
    arguments = {
        "start_image_url": IMAGE,
        "prompt": "x",
        "multi_prompt": [{"prompt": "a"}, {"prompt": "b", "duration": 20}, {"duration": "3"}],
        "shot_type": "intelligence",
        "elements": [{"video_url": VIDEO}, {"video_url": VIDEO, "frontal_image_url": 3}],
        "cfg_scale": 2,
        "duration": 8,
        "negative_prompt": "n" * 2501,
        "colour": "red",
    }
    with pytest.raises(ValidationError) as caught:
        catalog.validate("fal-ai/kling-video/v3/pro/image-to-video", arguments)
    error = caught.value
    assert error.endpoint_id == "fal-ai/kling-video/v3/pro/image-to-video"
    found = {p.loc: p for p in reversed(error.problems)}
    assert found["multi_prompt[1].duration"].type == "literal_error"
    assert 'send "20"' in found["multi_prompt[1].duration"].message
    assert found["multi_prompt[2].prompt"].type == "missing"
    assert found["elements[1].frontal_image_url"].type == "string_type"
    assert found["elements[1].video_url"].type == "too_long"
    assert found["cfg_scale"].type == "less_than_equal"
    assert found["duration"].type == "literal_error"
    assert found["negative_prompt"].type == "string_too_long"
    assert found["colour"].type == "extra_forbidden"
    assert found["shot_type"].type == "literal_error"
    assert found["multi_prompt"].type == "exclusive_fields"
    assert "multi_prompt[1].duration" in str(error)


def test_exactly_one_of_prompt_and_multi_prompt() -> None:
    endpoint = "fal-ai/kling-video/o3/pro/text-to-video"
    neither = catalog.check(endpoint, {})
    assert [(p.loc, p.type) for p in neither] == [("prompt", "missing")]
    both = catalog.check(endpoint, {"prompt": "a", "multi_prompt": [{"prompt": "b"}]})
    assert [(p.loc, p.type) for p in both] == [("multi_prompt", "exclusive_fields")]


@pytest.mark.parametrize(
    ("endpoint_id", "arguments", "loc", "fragment"),
    [
        (
            "fal-ai/kling-video/o1/reference-to-video",
            {
                "prompt": "x",
                "image_urls": [IMAGE] * 5,
                "elements": [{"frontal_image_url": IMAGE}] * 3,
            },
            "image_urls",
            "at most 7",
        ),
        (
            "fal-ai/kling-video/o1/video-to-video/edit",
            {
                "prompt": "x",
                "video_url": VIDEO,
                "image_urls": [IMAGE] * 3,
                "elements": [{"frontal_image_url": IMAGE}] * 2,
            },
            "image_urls",
            "at most 4",
        ),
        (
            "fal-ai/kling-video/o3/pro/video-to-video/reference",
            {"prompt": "x", "video_url": VIDEO, "image_urls": [IMAGE] * 5},
            "image_urls",
            "at most 4",
        ),
        (
            "fal-ai/kling-video/o3/pro/reference-to-video",
            {"prompt": "x", "image_urls": [IMAGE] * 4, "elements": [{"video_url": VIDEO}]},
            "image_urls",
            "when an element has a video",
        ),
        (
            "fal-ai/kling-video/v2.6/pro/image-to-video",
            {"prompt": "x", "start_image_url": IMAGE, "voice_ids": ["a", "b", "c"]},
            "voice_ids",
            "at most 2",
        ),
        (
            "fal-ai/kling-video/v3/pro/motion-control",
            {
                "image_url": IMAGE,
                "video_url": VIDEO,
                "character_orientation": "image",
                "elements": [{"frontal_image_url": IMAGE}],
            },
            "elements",
            "character_orientation='video'",
        ),
        (
            "fal-ai/kling-video/v3/pro/motion-control",
            {
                "image_url": IMAGE,
                "video_url": VIDEO,
                "character_orientation": "video",
                "elements": [{}, {}],
            },
            "elements",
            "at most 1",
        ),
        (
            "fal-ai/kling-video/v3/pro/text-to-video",
            {"multi_prompt": [{"prompt": str(i)} for i in range(7)]},
            "multi_prompt",
            "at most 6",
        ),
        (
            "fal-ai/kling-video/v3/pro/text-to-video",
            {"multi_prompt": [{"prompt": "a", "duration": "10"}, {"prompt": "b", "duration": "6"}]},
            "multi_prompt",
            "16 s",
        ),
        (
            "fal-ai/kling-video/v3/pro/image-to-video",
            {
                "prompt": "x",
                "start_image_url": IMAGE,
                "elements": [{"reference_image_urls": [IMAGE] * 4}],
            },
            "elements[0].reference_image_urls",
            "at most 3",
        ),
        (
            "fal-ai/kling-video/v1.6/pro/elements",
            {"prompt": "x", "input_image_urls": [IMAGE] * 5},
            "input_image_urls",
            "at most 4",
        ),
    ],
)
def test_prose_caps_are_enforced(
    endpoint_id: str, arguments: dict[str, Any], loc: str, fragment: str
) -> None:
    problems = catalog.check(endpoint_id, arguments)
    assert loc in locs(problems), problems
    assert any(fragment in p.message for p in problems if p.loc == loc), problems


def test_o3_reference_cap_applies_only_with_video() -> None:
    endpoint = "fal-ai/kling-video/o3/pro/reference-to-video"
    assert catalog.check(endpoint, {"prompt": "x", "image_urls": [IMAGE] * 6}) == []


def test_partial_schema_endpoints_allow_unknown_fields() -> None:
    assert (
        catalog.check(
            "kling/v4/video-to-video/edit",
            {"prompt": "x", "video_url": VIDEO, "resolution": "720p"},
        )
        == []
    )


def test_model_is_cached_and_forbids_extra() -> None:
    model = catalog.model("fal-ai/kling-video/v3/pro/text-to-video")
    assert model is catalog.model("fal-ai/kling-video/v3/pro/text-to-video")
    assert model.model_config.get("extra") == "forbid"
    instance = catalog.validate("fal-ai/kling-video/v3/pro/text-to-video", {"prompt": "x"})
    dumped = instance.model_dump()
    assert dumped["generate_audio"] is True
    assert dumped["negative_prompt"] == "blur, distort, and low quality"


def test_json_schema() -> None:
    schema = catalog.json_schema("fal-ai/kling-video/v2.6/pro/text-to-video")
    props = schema["properties"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"prompt"}
    assert props["duration"]["enum"] == ["5", "10"]
    assert props["prompt"]["maxLength"] == 2500
    assert props["cfg_scale"]["minimum"] == 0
    assert props["cfg_scale"]["maximum"] == 1
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate({"prompt": "x", "duration": "10"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"prompt": "x", "duration": 10}, schema)


def test_fal_error_detail_shape() -> None:
    problems = catalog.check(
        "fal-ai/kling-video/v3/pro/text-to-video",
        {"multi_prompt": [{"prompt": "a", "duration": "99"}]},
    )
    detail = catalog.fal_error_detail(problems)
    assert detail == [
        {
            "loc": ["body", "multi_prompt", 0, "duration"],
            "msg": problems[0].message,
            "type": "literal_error",
        }
    ]


def test_non_mapping_arguments() -> None:
    problems = catalog.check("fal-ai/kling-video/v3/pro/text-to-video", ["prompt"])  # type: ignore[arg-type]
    assert problems[0].type == "model_type"
    with pytest.raises(ValidationError):
        catalog.validate("fal-ai/kling-video/v3/pro/text-to-video", "prompt")  # type: ignore[arg-type]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-50, 50)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "prompt",
        "multi_prompt",
        "elements",
        "image_urls",
        "video_url",
        "duration",
        "voice_ids",
        "character_orientation",
        "x",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    endpoint_id=st.sampled_from(catalog.endpoint_ids()),
    arguments=st.dictionaries(field_names, json_values, max_size=6),
)
def test_check_never_raises_and_problems_have_paths(
    endpoint_id: str, arguments: dict[str, Any]
) -> None:
    problems = catalog.check(endpoint_id, arguments)
    for problem in problems:
        assert isinstance(problem.loc, str)
        assert problem.message
        assert problem.type
    if not problems:
        catalog.validate(endpoint_id, arguments)
    else:
        with pytest.raises(ValidationError):
            catalog.validate(endpoint_id, arguments)
