"""Cost estimates: every billing scheme, unknown prices stay unknown, config overrides win."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kling_prompt import catalog
from kling_prompt.catalog import estimate_cost, load_price_overrides
from kling_prompt.errors import CatalogError, ConfigError, SpecError

V3_PRO_T2V = "fal-ai/kling-video/v3/pro/text-to-video"


@pytest.mark.parametrize(
    ("endpoint_id", "arguments", "usd", "rate"),
    [
        (V3_PRO_T2V, {"prompt": "x"}, 0.84, 0.168),
        (V3_PRO_T2V, {"prompt": "x", "generate_audio": False, "duration": "10"}, 1.12, 0.112),
        ("fal-ai/kling-video/v3/standard/text-to-video", {"duration": "15"}, 1.89, 0.126),
        (
            "fal-ai/kling-video/v3/pro/image-to-video",
            {"elements": [{"video_url": "v", "voice_id": "me"}]},
            0.98,
            0.196,
        ),
        ("fal-ai/kling-video/v2.6/pro/image-to-video", {"voice_ids": ["a"]}, 0.84, 0.168),
        ("fal-ai/kling-video/v2.6/pro/image-to-video", {"generate_audio": False}, 0.35, 0.07),
        ("fal-ai/kling-video/v2.6/pro/text-to-video", {"duration": "10"}, 1.4, 0.14),
        ("fal-ai/kling-video/o3/pro/text-to-video", {}, 0.56, 0.112),
        ("fal-ai/kling-video/o3/pro/text-to-video", {"generate_audio": True}, 0.7, 0.14),
        ("fal-ai/kling-video/v2.1/master/text-to-video", {"duration": "10"}, 2.8, 0.28),
        ("fal-ai/kling-video/v2.1/pro/image-to-video", {}, 0.49, 0.098),
        ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"duration": "10"}, 0.7, 0.07),
        (
            "fal-ai/kling-video/v3/4k/text-to-video",
            {"generate_audio": True, "duration": "10"},
            4.2,
            0.42,
        ),
        ("fal-ai/kling-video/v3/4k/image-to-video", {"generate_audio": False}, 2.1, 0.42),
        ("kling/v4/text-to-video", {"duration": 12, "resolution": "720p"}, 1.884, 0.157),
        ("kling/v4/text-to-video", {"duration": 4}, 0.94, 0.235),
        (
            "kling/v4/text-to-video",
            {"multi_prompt": [{"prompt": "a", "duration": 3}, {"prompt": "b", "duration": 7}]},
            2.35,
            0.235,
        ),
    ],
)
def test_known_prices(endpoint_id: str, arguments: dict[str, Any], usd: float, rate: float) -> None:
    estimate = estimate_cost(endpoint_id, arguments)
    assert estimate.known
    assert estimate.usd == pytest.approx(usd)
    assert estimate.rate == pytest.approx(rate)
    assert estimate.basis
    assert estimate.confidence


def test_default_duration_is_used_and_said() -> None:
    estimate = estimate_cost(V3_PRO_T2V, {})
    assert estimate.seconds == 5
    assert any("default 5 s" in n for n in estimate.notes)
    assert estimate.date == "<=2026-07"
    assert estimate.confidence == "fal-official"


@pytest.mark.parametrize(
    "endpoint_id",
    [
        "fal-ai/kling-video/v2/master/text-to-video",
        "fal-ai/kling-video/v1.6/standard/text-to-video",
        "fal-ai/kling-video/v3/standard/motion-control",
        "fal-ai/kling-video/create-voice",
    ],
)
def test_unknown_prices_are_none_not_zero(endpoint_id: str) -> None:
    estimate = estimate_cost(endpoint_id, {"prompt": "x"})
    assert estimate.usd is None
    assert not estimate.known
    assert "no known price" in estimate.basis
    assert estimate.to_dict()["usd"] is None


def test_lipsync_bills_input_seconds_rounded_up_to_5() -> None:
    unknown = estimate_cost("fal-ai/kling-video/lipsync/audio-to-video", {})
    assert unknown.usd is None
    assert "input_seconds" in unknown.basis
    estimate = estimate_cost("fal-ai/kling-video/lipsync/text-to-video", {}, input_seconds=11)
    assert estimate.seconds == 15
    assert estimate.usd == pytest.approx(0.21)
    exact = estimate_cost("fal-ai/kling-video/lipsync/text-to-video", {}, input_seconds=10)
    assert exact.usd == pytest.approx(0.14)


@pytest.mark.parametrize(
    ("endpoint_id", "seconds", "usd"),
    [
        ("fal-ai/kling-video/v3/pro/motion-control", 10, 1.68),
        ("fal-ai/kling-video/o3/pro/video-to-video/edit", 8, 1.344),
        ("fal-ai/kling-video/o1/video-to-video/edit", 5, 0.84),
        ("fal-ai/kling-video/ai-avatar/v2/pro", 10, 1.15),
        ("kling/v4/video-to-video/edit", 10, 2.82),
    ],
)
def test_outputs_that_follow_the_input(endpoint_id: str, seconds: int, usd: float) -> None:
    assert estimate_cost(endpoint_id, {}).usd is None
    estimate = estimate_cost(endpoint_id, {}, input_seconds=seconds)
    assert estimate.usd == pytest.approx(usd)


def test_motion_control_notes_reference_length_limits() -> None:
    estimate = estimate_cost(
        "fal-ai/kling-video/v3/pro/motion-control",
        {"character_orientation": "image"},
        input_seconds=20,
    )
    assert any("3-10 s" in n for n in estimate.notes)


def test_unconfirmed_prices_say_so() -> None:
    estimate = estimate_cost("fal-ai/kling-video/v2.6/standard/motion-control", {}, input_seconds=5)
    assert estimate.usd == pytest.approx(0.35)
    assert estimate.confidence == "unconfirmed"
    assert any("unconfirmed" in n for n in estimate.notes)


def test_o3_video_reference_duration_or_input() -> None:
    endpoint = "fal-ai/kling-video/o3/pro/video-to-video/reference"
    assert estimate_cost(endpoint, {}).usd is None
    assert estimate_cost(endpoint, {"duration": "10"}).usd == pytest.approx(1.68)
    assert estimate_cost(endpoint, {}, input_seconds=7).usd == pytest.approx(1.176)


def test_v4_reference_video_billing() -> None:
    endpoint = "kling/v4/reference-to-video"
    assert estimate_cost(endpoint, {"duration": 5}).usd == pytest.approx(1.175)
    with_video = estimate_cost(endpoint, {"duration": 5, "video_urls": ["v"], "resolution": "720p"})
    assert with_video.usd is None
    assert "at least" in with_video.basis
    billed = estimate_cost(
        endpoint, {"duration": 5, "video_urls": ["v"], "resolution": "720p"}, input_seconds=3
    )
    assert billed.seconds == 10
    assert billed.usd == pytest.approx(0.94)


def test_overrides_win_and_carry_their_date() -> None:
    overrides = {
        V3_PRO_T2V: {"usd_per_second": 0.1, "per_second_audio_on": 0.15, "date": "2027-01-01"}
    }
    estimate = estimate_cost(V3_PRO_T2V, {"duration": "10"}, overrides=overrides)
    assert estimate.usd == pytest.approx(1.5)
    assert estimate.date == "2027-01-01"
    assert estimate.confidence == "override"
    unknown = "fal-ai/kling-video/v2/master/text-to-video"
    priced = estimate_cost(
        unknown, {"duration": "10"}, overrides={unknown: {"usd_per_second": 0.2}}
    )
    assert priced.usd == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ({"fal-ai/kling-video/v3/pro/text-to-vide": {"usd_per_second": 0.1}}, "did you mean"),
        ({V3_PRO_T2V: {"usd_per_sec": 0.1}}, f"prices.{V3_PRO_T2V}.usd_per_sec: unknown key"),
        ({V3_PRO_T2V: {"usd_per_second": -1}}, "non-negative number"),
        ({V3_PRO_T2V: {"usd_per_second": True}}, "non-negative number"),
        ({V3_PRO_T2V: 0.1}, "expected a table"),
        ({V3_PRO_T2V: {"kind": "per_token"}}, "unknown kind"),
        ({V3_PRO_T2V: {"date": 2026}}, "expected a string"),
        ({V3_PRO_T2V: {"by_resolution": {"720p": "cheap"}}}, "resolution -> USD"),
        (["not", "a", "table"], "expected a table of endpoint ids"),
    ],
)
def test_bad_overrides_name_the_key(mapping: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        load_price_overrides(mapping)
    assert fragment in str(caught.value)


def test_load_price_overrides_normalizes_aliases() -> None:
    loaded = load_price_overrides(
        {V3_PRO_T2V: {"per_second_voice_control": 1, "base_seconds": 5.0}}
    )
    assert loaded == {V3_PRO_T2V: {"voice_control": 1.0, "base_seconds": 5}}


def test_unknown_endpoint_and_bad_input_seconds() -> None:
    with pytest.raises(CatalogError):
        estimate_cost("fal-ai/kling-video/v9/pro/text-to-video", {})
    with pytest.raises(SpecError, match="input_seconds"):
        estimate_cost("fal-ai/kling-video/lipsync/text-to-video", {}, input_seconds=-3)


def test_invalid_duration_gives_no_estimate() -> None:
    estimate = estimate_cost("fal-ai/kling-video/v2.6/pro/text-to-video", {"duration": "7"})
    assert estimate.usd is None
    assert "not offered" in estimate.basis


@given(
    endpoint_id=st.sampled_from(catalog.endpoint_ids()),
    duration=st.one_of(st.none(), st.integers(-5, 40), st.sampled_from(["5", "10", "x", ""])),
    audio=st.one_of(st.none(), st.booleans()),
    input_seconds=st.one_of(st.none(), st.floats(0, 120)),
)
def test_estimates_never_raise_and_never_invent_zero(
    endpoint_id: str, duration: Any, audio: bool | None, input_seconds: float | None
) -> None:
    arguments: dict[str, Any] = {}
    if duration is not None:
        arguments["duration"] = duration
    if audio is not None:
        arguments["generate_audio"] = audio
    estimate = estimate_cost(endpoint_id, arguments, input_seconds=input_seconds)
    assert estimate.known == (estimate.usd is not None)
    if not catalog.get(endpoint_id).price.known:
        assert estimate.usd is None
    if estimate.usd is not None:
        assert estimate.usd >= 0
