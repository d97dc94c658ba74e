"""Rendering: template layout, normalization, source map, routing and the template environment."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from kling_prompt.build import Prompt
from kling_prompt.errors import RoutingError, TemplateError
from kling_prompt.request import Origin, Request
from kling_prompt.resources import templates_dir
from kling_prompt.spec import MODES, load_spec

R = importlib.import_module("kling_prompt.rendering")


@pytest.fixture(autouse=True)
def _fallback_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "_catalog_api", lambda: None)
    return


def spans_by_origin(request: Request, field: str = "prompt") -> dict[str | None, str]:
    text = request.arguments[field] if "[" not in field else None
    if text is None:
        index = int(field.split("[")[1].split("]")[0])
        text = request.arguments["multi_prompt"][index]["prompt"]
    return {s.origin.field: text[s.start : s.end] for s in request.source_map.spans(field)}


def render_data(data: dict[str, Any]) -> Request:
    return R.render(load_spec(data))


def use_catalog(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, roles: dict[str, str], duration: Any = str
) -> list[dict[str, Any]]:
    """Stand in for kling_prompt.catalog (route and get) with the documented contract."""
    calls: list[dict[str, Any]] = []
    info = SimpleNamespace(id=endpoint, mode="image-to-video", roles=roles, duration_value=duration)

    def route(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return SimpleNamespace(endpoint=endpoint, reasons=[], alternatives=[], info=info)

    def get(endpoint_id: str) -> Any:
        calls.append({"get": endpoint_id})
        return SimpleNamespace(id=endpoint_id, mode=info.mode, roles=roles, duration_value=duration)

    monkeypatch.setattr(R, "_catalog_api", lambda: SimpleNamespace(route=route, get=get))
    return calls


# --------------------------------------------------------------------------- layout


def test_every_mode_has_a_template() -> None:
    for mode in MODES:
        assert (templates_dir() / R._template_name(mode)).is_file()
    for partial in ("_lead", "_subject", "_scene", "_motion", "_style", "_camera", "_dialogue"):
        assert (templates_dir() / f"{partial}.j2").is_file()


def test_subject_leads_whatever_the_call_order() -> None:
    text = (
        Prompt.text_to_video()
        .style("noir")
        .scene("a rainy alley")
        .camera("slow dolly in")
        .motion("lights a cigarette")
        .subject("a detective")
        .text()
    )
    assert text == "A detective. Lights a cigarette. A rainy alley. Slow dolly in. Noir."


def test_emphasis_opens_the_prompt() -> None:
    text = (
        Prompt.text_to_video()
        .subject("a convertible drives along the coast")
        .style("sunset lighting")
        .emphasize("sleek red convertible", "coastal highway")
        .text()
    )
    assert text.startswith("++sleek red convertible++, ++coastal highway++. A convertible")


def test_motion_layers_sequence_and_events() -> None:
    text = (
        Prompt.text_to_video()
        .subject("a village square")
        .motion(sequence=["walks left", "turns", "pauses"])
        .motion(foreground="a character walks left to right")
        .motion(midground="a crowd mills about", background="clouds drift")
        .event(5, "the subject is fully lit")
        .event(3, "sunlight breaks through the clouds")
        .duration(10)
        .text()
    )
    assert text == (
        "A village square. Walks left, then turns, then pauses. "
        "Foreground: a character walks left to right. Midground: a crowd mills about. "
        "Background: clouds drift. At the 3-second mark, sunlight breaks through the clouds. "
        "At the 5-second mark, the subject is fully lit."
    )


def test_dialogue_form_links_and_voices(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = "fal-ai/kling-video/v2.6/pro/image-to-video"
    use_catalog(monkeypatch, endpoint, {"start_image": "start_image_url", "voices": "voice_ids"})
    request = (
        Prompt.image_to_video("https://x/a.png")
        .motion("two sailors on deck")
        .voice("vid-a", speaker="Anna")
        .voice("vid-b")
        .say("Anna", "Storm's coming", tone="calm")
        .say("Anna", "Get the sails in")
        .say("Ben", "On it!", tone="shouting", voice=2, link="immediately")
        .say("Anna", "Good")
        .render()
    )
    assert request.arguments["voice_ids"] == ["vid-a", "vid-b"]
    assert request.arguments["prompt"] == (
        "Two sailors on deck. "
        '[Anna, calm] <<<voice_1>>> says: "Storm\'s coming." '
        '[Anna] <<<voice_1>>> says: "Get the sails in." '
        'Immediately, [Ben, shouting] <<<voice_2>>> says: "On it!" '
        'Then, [Anna] <<<voice_1>>> says: "Good."'
    )


def test_fallback_refuses_voices_the_endpoint_cannot_take() -> None:
    builder = Prompt.text_to_video().subject("a singer").voice("v").say("singer", "la la")
    with pytest.raises(RoutingError, match="voices: endpoint fal-ai/kling-video/v3/pro/text"):
        builder.render()


# --------------------------------------------------------------------------- normalization


def test_seams_are_cleaned() -> None:
    request = render_data(
        {
            "subject": {"description": "an old  fisherman.", "attributes": ["yellow raincoat ,"]},
            "motion": {"directives": ["coils a rope,", "Looks up!", "waits..."]},
            "scene": {"environment": "  a harbour\n at dawn  ", "lighting": "soft light;"},
            "style": {"look": "cinematic.", "film": ["grain"]},
        }
    )
    text = request.arguments["prompt"]
    assert text == (
        "An old fisherman, yellow raincoat. Coils a rope. Looks up! Waits... "
        "A harbour at dawn, soft light. Cinematic, grain."
    )
    for bad in ("  ", " ,", " .", "..,", ".,", ",.", ";,"):
        assert bad not in text


def test_author_punctuation_inside_a_value_is_kept() -> None:
    text = render_data({"subject": "a sign reading 'OPEN, 24 h.' hangs; e.g., neon"}).arguments[
        "prompt"
    ]
    assert text == "A sign reading 'OPEN, 24 h.' hangs; e.g., neon."


def test_capitals_are_left_alone_when_the_author_chose_them() -> None:
    assert render_data({"subject": "iPhone on a desk"}).arguments["prompt"] == ("iPhone on a desk.")
    assert render_data({"subject": "NASA rocket"}).arguments["prompt"] == "NASA rocket."


def test_no_empty_components(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = "fal-ai/kling-video/v1/standard/text-to-video"
    use_catalog(monkeypatch, endpoint, {"camera_control": "camera_control"})
    request = render_data(
        {"subject": "a fox", "camera": {"control": "down_back"}, "style": {"film": ["grain"]}}
    )
    assert request.arguments["prompt"] == "A fox. Grain."
    assert request.arguments["camera_control"] == "down_back"


# --------------------------------------------------------------------------- source map


def test_source_map_points_at_builder_fields() -> None:
    request = (
        Prompt.text_to_video()
        .subject("an old fisherman", "weathered yellow raincoat")
        .motion("coils a rope", "looks up at the gulls")
        .scene("a misty harbour", lighting="dawn light")
        .emphasize("yellow raincoat")
        .negative("blur", "low quality")
        .render()
    )
    assert spans_by_origin(request) == {
        "emphasis[0]": "yellow raincoat",
        "subject.description": "An old fisherman",
        "subject.attributes[0]": "weathered yellow raincoat",
        "motion.directives[0]": "Coils a rope",
        "motion.directives[1]": "Looks up at the gulls",
        "scene.environment": "A misty harbour",
        "scene.lighting": "dawn light",
    }
    assert spans_by_origin(request, "negative_prompt") == {"negative_prompt": "blur, low quality"}
    prompt = request.arguments["prompt"]
    # Template glue is unmapped.
    assert request.source_map.locate("prompt", prompt.index("++")) is None
    found = request.source_map.locate("prompt", prompt.index("gulls"))
    assert found is not None
    assert found[0].origin == Origin("motion.directives[1]")


def test_event_seconds_are_mapped() -> None:
    request = render_data({"subject": "a field", "motion": {"events": [[2.5, "a flash"]]}})
    spans = spans_by_origin(request)
    assert spans["motion.events[0].at_seconds"] == "2.5"
    assert spans["motion.events[0].description"] == "a flash"


def test_multi_shot_spans_per_shot() -> None:
    request = (
        Prompt.multi_shot()
        .style("cinematic")
        .shot(3, "climbs the stairs", subject="a keeper")
        .shot(2, "lights the lamp")
        .render()
    )
    assert spans_by_origin(request, "multi_prompt[0].prompt") == {
        "shots[0].subject.description": "A keeper",
        "shots[0].motion.directives[0]": "Climbs the stairs",
        "style.look": "Cinematic",
    }
    assert spans_by_origin(request, "multi_prompt[1].prompt") == {
        "shots[1].motion.directives[0]": "Lights the lamp",
        "style.look": "Cinematic",
    }
    assert request.text_fields()[0][0] == "multi_prompt[0].prompt"


def test_references_and_edit_spans() -> None:
    request = (
        Prompt.video_edit("https://x/in.mp4")
        .edit("make @Video1 black and white")
        .keep("the faces")
        .element("https://x/e.png", label="the singer")
        .render()
    )
    assert request.arguments["prompt"] == (
        "Make @Video1 black and white. Keep the faces unchanged. @Element1 is the singer."
    )
    assert spans_by_origin(request) == {
        "edit": "Make @Video1 black and white",
        "keep[0]": "the faces",
        "elements[0].label": "the singer",
    }


# --------------------------------------------------------------------------- arguments and routing


def test_arguments_have_no_none_values() -> None:
    request = render_data({"subject": "a fox", "generate_audio": False, "duration": 5})
    assert request.arguments == {"prompt": "A fox.", "duration": "5", "generate_audio": False}


def test_explicit_endpoint_with_fallback_roles() -> None:
    request = render_data(
        {"subject": "a fox", "endpoint": "fal-ai/kling-video/v3/standard/text-to-video"}
    )
    assert request.endpoint == "fal-ai/kling-video/v3/standard/text-to-video"


def test_resolve_uses_the_catalog_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    roles = {"duration": "duration", "start_image": "start_image_url", "elements": "els"}
    calls = use_catalog(monkeypatch, "kling/v4/image-to-video", roles, duration=int)
    request = (
        Prompt.image_to_video("https://x/a.png")
        .motion("waves")
        .element("https://x/e.png")
        .duration(12)
        .family("v4")
        .render()
    )
    assert calls == [
        {
            "mode": "image-to-video",
            "family": "v4",
            "tier": None,
            "roles": ("start_image", "elements", "duration"),
        }
    ]
    assert request.endpoint == "kling/v4/image-to-video"
    assert request.arguments == {
        "prompt": "Waves.",
        "start_image_url": "https://x/a.png",
        "els": [{"frontal_image_url": "https://x/e.png"}],
        "duration": 12,
    }


def test_explicit_endpoint_is_looked_up_not_routed(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = "fal-ai/kling-video/v2.6/pro/image-to-video"
    calls = use_catalog(monkeypatch, "unused", {"start_image": "start_image_url"})
    request = Prompt.image_to_video("https://x/a.png").motion("waves").endpoint(endpoint).render()
    assert calls == [{"get": endpoint}]
    assert request.endpoint == endpoint


def test_explicit_endpoint_of_another_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    use_catalog(monkeypatch, "unused", {})
    builder = Prompt.text_to_video().subject("a fox").endpoint("fal-ai/x/image-to-video")
    with pytest.raises(RoutingError, match="endpoint: fal-ai/x/image-to-video is a image-to"):
        builder.render()


def test_multi_shot_routes_as_its_base_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    roles = {"multi_prompt": "multi_prompt", "duration": "duration", "start_image": "image_url"}
    calls = use_catalog(monkeypatch, "kling/v4/image-to-video", roles, duration=int)
    request = Prompt.multi_shot().start_image("https://x/a.png").shot(2, "a").shot(1, "b").render()
    assert calls[0]["mode"] == "image-to-video"
    assert calls[0]["roles"] == ("start_image", "multi_prompt", "duration")
    assert request.arguments == {
        "multi_prompt": [{"prompt": "A.", "duration": 2}, {"prompt": "B.", "duration": 1}],
        "image_url": "https://x/a.png",
        "duration": 3,
    }


def test_element_voices_are_a_routing_need(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = use_catalog(
        monkeypatch,
        "fal-ai/kling-video/v3/pro/image-to-video",
        {"start_image": "start_image_url", "elements": "elements", "element_voices": "x"},
    )
    Prompt.image_to_video("https://x/a.png").motion("talks").element(
        "https://x/e.png", voice_id="v1"
    ).render()
    assert calls[0]["roles"] == ("start_image", "elements", "element_voices")


def test_the_real_catalog_agrees_with_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    if R._catalog_api() is None:
        pytest.skip("kling_prompt.catalog is not available")
    for builder in (
        Prompt.text_to_video().subject("a fox").duration(10).aspect_ratio("16:9"),
        Prompt.image_to_video("https://x/a.png").motion("waves").duration(5),
        Prompt.reference_to_video().subject("a fox").image("https://x/r.png"),
        Prompt.motion_control("https://x/c.png", "https://x/v.mp4", "video").subject("Rumi"),
        Prompt.video_edit("https://x/v.mp4").edit("make it night"),
        Prompt.multi_shot().shot(3, "a").shot(2, "b"),
    ):
        real = builder.render()
        with monkeypatch.context() as patch:
            patch.setattr(R, "_catalog_api", lambda: None)
            fallback = builder.render()
        assert (real.endpoint, real.arguments) == (fallback.endpoint, fallback.arguments)


# --------------------------------------------------------------------------- environment


def test_environment_is_sandboxed_strict_and_cached() -> None:
    env = R.template_environment()
    assert isinstance(env, SandboxedEnvironment)
    assert env.undefined is StrictUndefined
    assert env.autoescape is False
    assert R.template_environment() is env


def test_broken_templates_raise_template_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLING_PROMPT_TEMPLATES_DIR", str(tmp_path))
    spec = load_spec({"subject": "a fox"})
    with pytest.raises(TemplateError, match=r"text_to_video\.j2' not found"):
        R.render(spec)
    (tmp_path / "text_to_video.j2").write_text("{{ subject.nope }}")
    with pytest.raises(TemplateError, match=r"text_to_video\.j2: template failed"):
        R.render(spec)
    (tmp_path / "text_to_video.j2").write_text("{% if %}")
    with pytest.raises(TemplateError, match="template syntax error"):
        R.render(spec)
    (tmp_path / "text_to_video.j2").write_text("{{ subject.description.__class__ }}")
    with pytest.raises(TemplateError):
        R.render(spec)
    (tmp_path / "text_to_video.j2").write_text("{{ (subject.description | string)[3:] }}")
    with pytest.raises(TemplateError, match="field marker"):
        R.render(spec)


def test_format_seconds() -> None:
    assert [R.format_seconds(v) for v in (3.0, 2.5, 0.125, 10)] == ["3", "2.5", "0.12", "10"]
