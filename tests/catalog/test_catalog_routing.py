"""Routing: the newest fitting endpoint, with reasons; refusals that point elsewhere."""

from __future__ import annotations

import pytest

from kling_prompt import catalog
from kling_prompt.errors import RoutingError
from kling_prompt.request import Request


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("text-to-video", "fal-ai/kling-video/v3/pro/text-to-video"),
        ("image-to-video", "fal-ai/kling-video/v3/pro/image-to-video"),
        ("reference-to-video", "fal-ai/kling-video/o3/pro/reference-to-video"),
        ("motion-control", "fal-ai/kling-video/v3/pro/motion-control"),
        ("video-edit", "fal-ai/kling-video/o3/pro/video-to-video/edit"),
        ("video-reference", "fal-ai/kling-video/o3/pro/video-to-video/reference"),
        ("elements", "fal-ai/kling-video/v1.6/pro/elements"),
        ("effects", "fal-ai/kling-video/v1.6/pro/effects"),
        ("avatar", "fal-ai/kling-video/ai-avatar/v2/pro"),
        ("lipsync", "fal-ai/kling-video/lipsync/audio-to-video"),
        ("tts", "fal-ai/kling-video/v1/tts"),
        ("voice-clone", "fal-ai/kling-video/create-voice"),
        ("video-to-audio", "fal-ai/kling-video/video-to-audio"),
    ],
)
def test_every_mode_has_a_default(mode: str, expected: str) -> None:
    chosen = catalog.route(mode=mode)
    assert chosen.endpoint == expected
    assert chosen.info.id == expected
    assert chosen.reasons[0] == f"mode {mode}"
    assert catalog.default_endpoint(mode) == expected
    assert expected not in chosen.alternatives


def test_legacy_and_preview_only_when_asked_by_family() -> None:
    t2v = catalog.route(mode="text-to-video")
    assert "kling/v4/text-to-video" not in t2v.alternatives
    assert "fal-ai/kling-video/v1/pro/text-to-video" not in t2v.alternatives
    v4 = catalog.route(mode="text-to-video", family="v4")
    assert v4.endpoint == "kling/v4/text-to-video"
    assert any("preview" in r for r in v4.reasons)
    legacy = catalog.route(mode="text-to-video", family="v1", tier="pro")
    assert legacy.endpoint == "fal-ai/kling-video/v1/pro/text-to-video"


def test_roles_and_features_steer_the_choice() -> None:
    end = catalog.route(
        mode="image-to-video", family="v2.5-turbo", roles=["start_image", "end_image"]
    )
    assert end.endpoint == "fal-ai/kling-video/v2.5-turbo/pro/image-to-video"
    assert end.field("end_image") == "tail_image_url"
    assert "input end_image -> tail_image_url" in end.reasons
    voices = catalog.route(mode="image-to-video", roles=["voices"])
    assert voices.endpoint == "fal-ai/kling-video/v2.6/pro/image-to-video"
    camera = catalog.route(mode="text-to-video", roles=["camera_control"])
    assert camera.endpoint == "fal-ai/kling-video/v1/standard/text-to-video"
    shots = catalog.route(mode="image-to-video", features=["multi-shot", "audio"], tier="standard")
    assert shots.endpoint == "fal-ai/kling-video/v3/standard/image-to-video"
    o1 = catalog.route(mode="image-to-video", family="o1")
    assert o1.endpoint == "fal-ai/kling-video/o1/image-to-video"
    assert o1.field("start_image") == "start_image_url"


def test_preferences() -> None:
    cheapest = catalog.route(mode="text-to-video", prefer="cheapest")
    assert cheapest.info.price.usd_per_second == min(
        i.price.usd_per_second
        for i in catalog.endpoints(mode="text-to-video")
        if i.routable and i.price.usd_per_second is not None
    )
    assert catalog.route(mode="text-to-video", prefer="quality").info.tier == "4k"
    assert catalog.route(mode="text-to-video", prefer="fast").info.tier == "turbo-pro"
    with pytest.raises(RoutingError, match="unknown preference"):
        catalog.route(mode="text-to-video", prefer="shiny")


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        (
            {"mode": "motion-control", "family": "v2.5-turbo"},
            ["family v2.5-turbo has no motion-control endpoint", "v2.6", "v3"],
        ),
        (
            {"mode": "image-to-video", "family": "O1", "features": ["native_audio"]},
            ["native_audio", "fal-ai/kling-video/v3/pro/image-to-video", "O1 has none"],
        ),
        (
            {"mode": "text-to-video", "family": "v3", "roles": ["voices"]},
            ["elements[].voice_id", "fal-ai/kling-video/v2.6/pro/image-to-video"],
        ),
        (
            {"mode": "image-to-video", "family": "v2.6", "features": ["multi_shot"]},
            ["multi_shot", "fal-ai/kling-video/v3/pro/image-to-video", "starts with v3"],
        ),
        (
            {"mode": "text-to-video", "family": "v2.5-turbo", "roles": ["camera_control"]},
            ["fal-ai/kling-video/v1/standard/text-to-video", "only on"],
        ),
        (
            {"mode": "motion-control", "features": ["native_audio"]},
            ["no motion-control endpoint", "native_audio"],
        ),
        ({"mode": "text2video"}, ["unknown mode", "text-to-video"]),
        ({"mode": "text-to-video", "family": "v9"}, ["unknown family"]),
        ({"mode": "text-to-video", "tier": "ultra"}, ["tier 'ultra'", "pro"]),
        ({"mode": "text-to-video", "features": ["teleport"]}, ["unknown feature"]),
    ],
)
def test_refusals_name_what_is_missing_and_who_has_it(
    kwargs: dict[str, object], fragments: list[str]
) -> None:
    with pytest.raises(RoutingError) as caught:
        catalog.route(**kwargs)  # type: ignore[arg-type]
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_route_request_derives_roles_and_features() -> None:
    request = Request(
        None,
        {"prompt": "x", "image_url": "u", "tail_image_url": "t", "duration": "5"},
        mode="image-to-video",
    )
    chosen = catalog.route_request(request)
    assert chosen.info.capabilities.end_frame
    assert chosen.endpoint == "fal-ai/kling-video/v3/pro/image-to-video"
    assert chosen.field("end_image") == "end_image_url"
    voiced = catalog.route_request(
        {"prompt": "x", "elements": [{"video_url": "v", "voice_id": "abc"}], "start_image_url": "s"}
    )
    assert voiced.info.mode == "reference-to-video"
    assert voiced.info.capabilities.voices == "element_voice_id"
    motion = catalog.route_request(
        {"image_url": "a", "video_url": "b", "character_orientation": "video"}, family="v2.6"
    )
    assert motion.endpoint == "fal-ai/kling-video/v2.6/pro/motion-control"
    assert catalog.infer_mode({"video_url": "v"}) == "video-edit"
    assert catalog.infer_mode({"prompt": "x"}) == "text-to-video"
    with pytest.raises(RoutingError):
        catalog.route_request(["not", "a", "mapping"])


def test_roles_and_features_ignore_false_values() -> None:
    roles, features = catalog.roles_and_features(
        {"generate_audio": False, "prompt": "x", "image_url": "i"}, "motion-control"
    )
    assert roles == ["prompt", "character_image"]
    assert features == []
