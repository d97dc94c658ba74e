"""Known failure modes (KP901–KP905), plus property tests for all of KP5, KP8 and KP9."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.linter import Linter
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.request import Request

V3 = "fal-ai/kling-video/v3/pro/text-to-video"
V26 = "fal-ai/kling-video/v2.6/pro/text-to-video"
V25 = "fal-ai/kling-video/v2.5-turbo/pro/text-to-video"
MINE = ("KP5", "KP8", "KP9")

_LINTER = Linter()


def lint(prompt: str, code: str, endpoint: str = V3) -> list[Diagnostic]:
    return [d for d in _LINTER.lint(Request(endpoint, {"prompt": prompt})) if d.code == code]


@pytest.mark.parametrize(
    ("prompt", "count"),
    [
        ("10 puppies play on the lawn.", 1),
        ("Five red balloons and twelve kites.", 2),
        ("A dog with four legs and two ears.", 0),
        ("Shot 4: a 360-degree pan, 35mm, 4K, 1950s, 5,000 steps.", 0),
        ("Three cats on a sofa.", 0),
    ],
)
def test_exact_count(prompt: str, count: int) -> None:
    assert len(lint(prompt, "KP901")) == count


def test_on_screen_text_depends_on_family() -> None:
    quoted = 'A bakery with a sign that reads "BREAD".'
    assert lint(quoted, "KP903", V25)
    assert not lint(quoted, "KP903", V3)
    assert lint("A bakery with a sign that says fresh bread.", "KP903", V3)


def test_extreme_frame_rate() -> None:
    assert lint("Filmed at 240fps.", "KP904")
    assert not lint("Filmed at 24fps, 60 fps playback.", "KP904")


def test_known_ip_name_needs_a_description() -> None:
    assert lint("Pikachu is sitting on a chair.", "KP905")
    assert not lint("Pikachu, a small yellow mouse, is sitting on a chair.", "KP905")


# -- properties: never raise, spans inside their field ----------------------------------------

_WORDS = st.sampled_from(
    [
        "says:", "[Anna, calm voice]", "[Ben]", '"', "“", "”", "at the 8-second mark", "Shot 2:",
        "bright sunny", "dark moody", "night", "midday", "then", "he", "she", "fades into",
        "10", "puppies", "1000 fps", "sign that reads", "Pikachu", "sound", "music", "@Element1",
        "<<<voice_1>>>", "(Duration: 5s)", "three shots", "bouncing", "NEVER", "你好", "こんにちは",
        "Immediately,", ".", ",", "\n", "",
    ]
)  # fmt: skip
_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(_WORDS, max_size=40).map(" ".join),
)
_ENDPOINTS = st.sampled_from([V3, V26, V25, "fal-ai/kling-video/o3/pro/text-to-video", None])
_DURATION = st.one_of(st.none(), st.sampled_from(["5", "10", "abc", "", 7, 0, -3, True]))


def _check(request: Request) -> None:
    fields = dict(request.text_fields())
    for d in _LINTER.lint(request):
        assert d.code != "KP006", d.message
        if not d.code.startswith(MINE) or d.field is None or d.start is None:
            continue
        assert d.field in fields, d
        assert d.end is not None
        assert 0 <= d.start <= d.end <= len(fields[d.field]), d


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, endpoint=_ENDPOINTS, duration=_DURATION)
def test_never_raises_on_any_prompt(text: str, endpoint: str | None, duration: Any) -> None:
    arguments: dict[str, Any] = {"prompt": text}
    if duration is not None:
        arguments["duration"] = duration
    _check(Request(endpoint, arguments))


_SHOT = st.one_of(
    st.fixed_dictionaries({"prompt": _TEXT}, optional={"duration": _DURATION}),
    st.none(),
    st.integers(),
    st.fixed_dictionaries({"duration": _DURATION}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shots=st.lists(_SHOT, max_size=7), endpoint=_ENDPOINTS, duration=_DURATION)
def test_never_raises_on_any_multi_prompt(
    shots: list[Any], endpoint: str | None, duration: Any
) -> None:
    arguments: dict[str, Any] = {"multi_prompt": shots}
    if duration is not None:
        arguments["duration"] = duration
    _check(Request(endpoint, arguments))
