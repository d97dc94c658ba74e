"""The shipped catalog: faithful to the research reference, normalized, and cheap to load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kling_prompt import catalog
from kling_prompt.catalog import data, generate
from kling_prompt.errors import CatalogError, ValidationError

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "kling_endpoints.json"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_file(), reason=f"research reference {REFERENCE} is not present"
)

VIDEO_MODE_PREFIXES = (
    "text-to-video",
    "image-to-video",
    "reference-to-video",
    "motion-control",
    "video-edit",
    "video-reference",
    "elements",
    "effects",
    "avatar",
    "lipsync",
)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    with REFERENCE.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@needs_reference
def test_shipped_file_is_what_the_generator_writes(tmp_path: Path) -> None:
    out = tmp_path / "endpoints.json"
    assert generate.main([str(REFERENCE), "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == data_file_text()


def data_file_text() -> str:
    return Path(data.DATA_FILE).read_text(encoding="utf-8")


@needs_reference
def test_every_video_endpoint_keeps_its_required_fields_and_enums(
    reference: dict[str, Any],
) -> None:
    video = [e for e in reference["endpoints"] if e["mode"].startswith(VIDEO_MODE_PREFIXES)]
    assert len(video) >= 70
    for raw in video:
        info = catalog.get(raw["endpoint_id"])
        assert info.video, raw["endpoint_id"]
        assert list(info.required) == raw["required_fields"]
        assert sorted(info.fields) == sorted(f["name"] for f in raw["fields"])
        for field in raw["fields"]:
            mine = info.field(field["name"])
            assert mine.required == field["required"], (info.id, field["name"])
            expected = tuple(field["enum"]) if field["enum"] is not None else None
            assert mine.enum == expected, (info.id, field["name"])
            if field["default"] is not None:
                assert mine.default == field["default"], (info.id, field["name"])


@needs_reference
def test_all_reference_endpoints_are_kept(reference: dict[str, Any]) -> None:
    assert sorted(catalog.endpoint_ids()) == sorted(
        e["endpoint_id"] for e in reference["endpoints"]
    )


def test_non_video_helpers_are_marked() -> None:
    for endpoint_id in (
        "fal-ai/kling-video/v1/tts",
        "fal-ai/kling-video/create-voice",
        "fal-ai/kling-video/video-to-audio",
    ):
        assert catalog.get(endpoint_id).video is False
    assert {i.mode for i in catalog.endpoints(video=False)} == {
        "tts",
        "voice-clone",
        "video-to-audio",
    }


def test_vocabularies_are_normalized() -> None:
    tiers = {"standard", "pro", "master", "4k", "turbo-standard", "turbo-pro", None}
    for info in catalog.endpoints():
        assert info.mode in catalog.MODES
        assert info.tier in tiers
        assert info.status in {"current", "legacy", "preview", "unconfirmed"}
        assert info.family in catalog.families()
    generation = {i.family for i in catalog.endpoints() if i.mode == "text-to-video"}
    assert generation <= set(catalog.FAMILY_ORDER)
    assert catalog.get("fal-ai/kling-video/o1/image-to-video").tier == "pro"
    assert catalog.get("fal-ai/kling-video/v3/turbo/pro/text-to-video").tier == "turbo-pro"
    assert catalog.get("kling/v4/text-to-video").tier is None
    assert catalog.get("kling/v4/text-to-video").fields["resolution"].enum == ("720p", "1080p")
    assert catalog.get("fal-ai/kling-video/v1/pro/text-to-video").status == "legacy"


@pytest.mark.parametrize(
    ("endpoint_id", "role", "field"),
    [
        ("fal-ai/kling-video/v2.5-turbo/pro/image-to-video", "start_image", "image_url"),
        ("fal-ai/kling-video/v2.5-turbo/pro/image-to-video", "end_image", "tail_image_url"),
        ("fal-ai/kling-video/v2.6/pro/image-to-video", "start_image", "start_image_url"),
        ("fal-ai/kling-video/v2.6/pro/image-to-video", "end_image", "end_image_url"),
        ("fal-ai/kling-video/v2.6/pro/image-to-video", "voices", "voice_ids"),
        ("fal-ai/kling-video/v3/pro/image-to-video", "start_image", "start_image_url"),
        ("fal-ai/kling-video/v3/pro/image-to-video", "element_voices", "elements[].voice_id"),
        ("fal-ai/kling-video/v3/turbo/pro/image-to-video", "start_image", "image_url"),
        ("fal-ai/kling-video/o1/image-to-video", "start_image", "start_image_url"),
        ("fal-ai/kling-video/o3/pro/image-to-video", "start_image", "image_url"),
        ("fal-ai/kling-video/o3/pro/image-to-video", "end_image", "end_image_url"),
        ("fal-ai/kling-video/o1/video-to-video/edit", "reference_images", "image_urls"),
        ("fal-ai/kling-video/o1/video-to-video/edit", "keep_sound", "keep_audio"),
        ("fal-ai/kling-video/v1.6/pro/elements", "reference_images", "input_image_urls"),
        ("fal-ai/kling-video/v1.6/pro/effects", "reference_images", "input_image_urls"),
        ("fal-ai/kling-video/v3/pro/motion-control", "character_image", "image_url"),
        ("fal-ai/kling-video/v3/pro/motion-control", "keep_sound", "keep_original_sound"),
        ("fal-ai/kling-video/v1/standard/text-to-video", "camera_control", "camera_control"),
        ("kling/v4/image-to-video", "start_image", "start_image_url"),
        ("kling/v4/reference-to-video", "reference_images", "image_urls"),
    ],
)
def test_roles_map_abstract_inputs_to_family_field_names(
    endpoint_id: str, role: str, field: str
) -> None:
    assert catalog.get(endpoint_id).role_field(role) == field


def test_every_field_has_a_role() -> None:
    for info in catalog.endpoints():
        mapped = set(info.roles.values())
        assert set(info.fields) <= mapped, (info.id, set(info.fields) - mapped)


def test_capabilities() -> None:
    v26 = catalog.get("fal-ai/kling-video/v2.6/pro/image-to-video").capabilities
    assert (v26.native_audio, v26.audio_default, v26.voices, v26.max_voices) == (
        True,
        True,
        "voice_ids",
        2,
    )
    o3 = catalog.get("fal-ai/kling-video/o3/pro/text-to-video").capabilities
    assert o3.native_audio
    assert o3.audio_default is False
    assert o3.multi_shot
    v3 = catalog.get("fal-ai/kling-video/v3/pro/image-to-video").capabilities
    assert v3.voices == "element_voice_id"
    assert v3.element_type == "KlingV3ComboElementInput"
    assert v3.max_video_elements == 1
    assert v3.end_frame
    assert v3.aspect_ratios is None
    assert v3.default_negative_prompt == "blur, distort, and low quality"
    assert v3.prompt_max_chars == 2500
    assert v3.negative_prompt_max_chars == 2500
    assert v3.multi_shot_limits is not None
    assert v3.multi_shot_limits["max_shots"] == 6
    assert v3.multi_shot_limits["shot_prompt_max_chars"] == 512
    assert "official Kling API" in v3.multi_shot_limits["shot_prompt_max_chars_source"]
    assert catalog.get("fal-ai/kling-video/o1/reference-to-video").capabilities.max_references == 7
    assert (
        catalog.get("fal-ai/kling-video/o3/pro/video-to-video/edit").capabilities.max_references
        == 4
    )
    assert (
        catalog.get("fal-ai/kling-video/o3/pro/reference-to-video").capabilities.max_references == 4
    )
    mc = catalog.get("fal-ai/kling-video/v3/pro/motion-control").capabilities
    assert mc.max_elements == 1
    assert mc.motion_control is not None
    assert mc.motion_control["reference_seconds"] == {"image": [3, 10], "video": [3, 30]}
    assert mc.media["video_url"]["formats"] == ["MP4", "MOV", "WEBM", "M4V", "GIF"]
    assert mc.media["image_url"]["formats"] == ["JPG", "PNG", "WEBP", "GIF", "AVIF"]
    assert mc.media["video_url"]["limits"]["max_duration"] == 30.05
    assert not catalog.get("fal-ai/kling-video/v2.6/pro/motion-control").capabilities.elements
    turbo = catalog.get("fal-ai/kling-video/v3/turbo/pro/text-to-video").capabilities
    assert turbo.multi_shot
    assert not turbo.native_audio
    assert not turbo.prompt_max_chars_enforced
    cam = catalog.get("fal-ai/kling-video/v1/standard/text-to-video").capabilities
    assert cam.camera_control
    assert [i.id for i in catalog.endpoints(camera_control=True)] == [
        "fal-ai/kling-video/v1/standard/text-to-video"
    ]


def test_durations() -> None:
    v4 = catalog.get("kling/v4/text-to-video")
    assert v4.capabilities.duration_type == "integer"
    assert v4.capabilities.durations == tuple(range(3, 31))
    assert v4.duration_value(12) == 12
    assert v4.duration_value("12") == 12
    v3 = catalog.get("fal-ai/kling-video/v3/pro/text-to-video")
    assert v3.capabilities.duration_type == "string"
    assert v3.duration_value(8) == "8"
    assert v3.duration_value("8s") == "8"
    assert v3.duration_value(8.0) == "8"
    with pytest.raises(ValidationError, match="choose one of 5, 10"):
        catalog.get("fal-ai/kling-video/v2.6/pro/text-to-video").duration_value(7)
    with pytest.raises(ValidationError, match=r"3\.\.30"):
        v4.duration_value(31)
    with pytest.raises(ValidationError, match="no duration input"):
        catalog.get("fal-ai/kling-video/o3/pro/video-to-video/edit").duration_value(5)


def test_unknown_ids_suggest_close_matches() -> None:
    with pytest.raises(CatalogError, match=r"did you mean fal-ai/kling-video/v3/pro/text-to-video"):
        catalog.get("fal-ai/kling-video/v3/pro/text-to-vdeo")
    with pytest.raises(CatalogError, match="image_url"):
        catalog.get("fal-ai/kling-video/v2.6/pro/image-to-video").field("image_url")
    with pytest.raises(CatalogError, match="KlingV3ComboElementInput"):
        catalog.shared_type("KlingV3ComboElement")


def test_filters() -> None:
    assert catalog.endpoints(mode="motion-control", native_audio=True) == []
    motion = [i.id for i in catalog.endpoints(mode="motion-control")]
    assert len(motion) == 4
    assert all("motion-control" in i for i in motion)
    v3_voice = catalog.endpoints(family="v3", voices=True)
    assert {i.mode for i in v3_voice} == {"image-to-video"}
    assert all(i.family in {"v3", "O3", "v4"} for i in catalog.endpoints(multi_shot=True))
    assert catalog.endpoints(family="o3", tier="4k", mode="text-to-video")[0].family == "O3"
    assert {i.id for i in catalog.endpoints(accepts="voice_ids")} == {
        "fal-ai/kling-video/v2.6/pro/image-to-video"
    }
    with pytest.raises(CatalogError, match="unknown endpoint filter"):
        catalog.endpoints(colour="red")
    with pytest.raises(CatalogError, match="text-to-video"):
        catalog.endpoints(mode="text2video")


def test_shared_types() -> None:
    combo = catalog.shared_type("KlingV3ComboElementInput")
    assert set(combo.fields) == {
        "frontal_image_url",
        "reference_image_urls",
        "video_url",
        "voice_id",
    }
    assert catalog.shared_type("OmniVideoElementInput").required == ("frontal_image_url",)
    shot = catalog.shared_type("KlingV3MultiPromptElement")
    assert shot.fields["duration"].enum == tuple(str(n) for n in range(1, 16))
    camera = catalog.shared_type("CameraControl").fields["movement_value"]
    assert (camera.type, camera.minimum, camera.maximum) == ("integer", -10, 10)
    for name in ("ElementInput", "KlingV3ImageElementInput", "DynamicMask", "Trajectory"):
        assert catalog.shared_type(name).fields


def test_pricing_entries_keep_their_provenance() -> None:
    info = catalog.get("fal-ai/kling-video/v3/pro/text-to-video")
    assert info.price.usd_per_second == 0.112
    assert info.price.audio_on == 0.168
    assert info.price.voice_control == 0.196
    assert info.price.kind == "per_second"
    assert [e.superseded for e in info.pricing] == [False, True]
    assert info.pricing[1].usd_per_second == 0.224
    assert catalog.get("fal-ai/kling-video/v2.1/master/text-to-video").price.kind == (
        "per_5s_plus_per_second"
    )
    assert catalog.get("fal-ai/kling-video/v3/4k/image-to-video").price.kind == "flat_per_second"
    assert catalog.get("fal-ai/kling-video/lipsync/audio-to-video").price.kind == (
        "per_input_second_rounded_5"
    )
    assert catalog.get("fal-ai/kling-video/v2/master/text-to-video").price.kind == "unknown"


def test_endpoint_to_dict_round_trips() -> None:
    info = catalog.get("fal-ai/kling-video/o1/reference-to-video")
    copied = info.to_dict()
    copied["fields"].clear()
    assert info.to_dict()["fields"]


def test_catalog_import_does_not_import_pydantic() -> None:
    code = (
        "import sys\n"
        "import kling_prompt.catalog as c\n"
        "c.get('fal-ai/kling-video/v3/pro/text-to-video')\n"
        "c.endpoints(mode='motion-control', native_audio=True)\n"
        "c.estimate_cost('fal-ai/kling-video/v3/pro/text-to-video', {'prompt': 'x'})\n"
        "c.route(mode='image-to-video', roles=['end_image'])\n"
        "c.check_rules(c.get('fal-ai/kling-video/v3/pro/text-to-video'), {})\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported'\n"
        "c.check('fal-ai/kling-video/v3/pro/text-to-video', {'prompt': 'x'})\n"
        "assert 'pydantic' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
