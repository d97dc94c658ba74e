"""Fluent builders: every mode and every chainable call."""

from __future__ import annotations

import importlib

import pytest

import kling_prompt
from kling_prompt.build import MotionControlPrompt, Prompt
from kling_prompt.errors import RoutingError, SpecError
from kling_prompt.spec import (
    Camera,
    Element,
    Motion,
    Scene,
    Shot,
    Style,
    Subject,
    TimedEvent,
    Voice,
)

render_module = importlib.import_module("kling_prompt.rendering")


@pytest.fixture(autouse=True)
def _fallback_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the per-mode default endpoints, whatever the catalog would choose."""
    monkeypatch.setattr(render_module, "_catalog_api", lambda: None)
    return


def harbour() -> Prompt:
    return (
        Prompt.text_to_video()
        .scene("a misty harbour at dawn")
        .subject("an old fisherman", "weathered yellow raincoat")
        .motion("coils a rope, then looks up at the gulls")
        .style("cinematic, 35mm film")
        .duration(10)
        .aspect_ratio("16:9")
    )


def test_the_documented_example() -> None:
    request = harbour().render()
    assert request.endpoint == "fal-ai/kling-video/v3/pro/text-to-video"
    assert request.mode == "text-to-video"
    assert request.arguments == {
        "prompt": (
            "An old fisherman, weathered yellow raincoat. Coils a rope, then looks up at the "
            "gulls. A misty harbour at dawn. Cinematic, 35mm film."
        ),
        "duration": "10",
        "aspect_ratio": "16:9",
    }
    assert request.spec == harbour().spec()


def test_public_names_resolve() -> None:
    assert kling_prompt.Prompt is Prompt
    # The package attribute is the function or, once the module is imported, the callable module.
    assert kling_prompt.render(harbour().spec()).arguments == harbour().render().arguments
    assert kling_prompt.PromptSpec is type(harbour().spec())


def test_text_is_the_prompt() -> None:
    assert harbour().text() == harbour().render().arguments["prompt"]


def test_builders_do_not_change_the_receiver() -> None:
    base = Prompt.text_to_video().subject("a red fox")
    styled = base.style("watercolour")
    assert base.spec().style is None
    assert styled.spec().style == Style(look="watercolour")
    assert base.spec().subject == Subject(description="a red fox")


def test_scene_parts_merge_and_replace() -> None:
    spec = (
        Prompt.text_to_video()
        .subject("a fox")
        .scene("a forest")
        .scene(lighting="low sun")
        .scene("a meadow", weather="light rain")
        .spec()
    )
    assert spec.scene == Scene(environment="a meadow", lighting="low sun", weather="light rain")
    model = Prompt.text_to_video().subject("a fox").scene(Scene(time_of_day="dusk")).spec()
    assert model.scene == Scene(time_of_day="dusk")


def test_style_and_camera() -> None:
    spec = (
        Prompt.text_to_video()
        .subject("a fox")
        .style("cinematic", film=["grain"])
        .style(medium="35mm film", lens="anamorphic", film="halation")
        .camera("slow push-in", framing="close-up")
        .camera("tilt up", lens="24mm", control="forward_up")
        .spec()
    )
    assert spec.style == Style(
        look="cinematic", medium="35mm film", lens="anamorphic", film=("grain", "halation")
    )
    assert spec.camera == Camera(
        moves=("slow push-in", "tilt up"), framing="close-up", lens="24mm", control="forward_up"
    )
    assert Prompt.text_to_video().subject("x").camera(Camera(framing="wide")).spec().camera == (
        Camera(framing="wide")
    )


def test_motion_parts() -> None:
    spec = (
        Prompt.text_to_video()
        .subject("a dancer")
        .motion("spins", sequence=["steps left", "turns"])
        .motion("bows", foreground="dancer spins", background="curtain sways")
        .motion(midground="crowd claps", events=[(3, "spotlight snaps on")])
        .event(1.5, "music swells")
        .spec()
    )
    assert spec.motion is not None
    assert spec.motion.directives == ("spins", "bows")
    assert spec.motion.sequence == ("steps left", "turns")
    assert spec.motion.layers is not None
    assert spec.motion.layers.foreground == "dancer spins"
    assert spec.motion.layers.midground == "crowd claps"
    assert spec.motion.events == (
        TimedEvent(at_seconds=3, description="spotlight snaps on"),
        TimedEvent(at_seconds=1.5, description="music swells"),
    )
    merged = Prompt.text_to_video().motion(Motion(directives=("runs",))).motion("jumps").spec()
    assert merged.motion == Motion(directives=("runs", "jumps"))


def test_dialogue_and_voices() -> None:
    spec = (
        Prompt.text_to_video()
        .subject("two sailors")
        .voice("voice-a", speaker="Anna")
        .voice(Voice(voice_id="voice-b"))
        .say("Anna", "Storm's coming", tone="calm")
        .say("Ben", "Then we go", voice=2, link="immediately")
        .audio()
        .spec()
    )
    assert [v.voice_id for v in spec.voices] == ["voice-a", "voice-b"]
    assert spec.dialogue[1].link == "immediately"
    assert spec.generate_audio is True


def test_emphasis_negative_and_settings() -> None:
    spec = (
        Prompt.text_to_video()
        .subject("a red convertible")
        .emphasize("red convertible")
        .emphasize("coastal road")
        .negative("blur", "text overlays")
        .negative("morphing")
        .audio(False)
        .family("v3")
        .tier("pro")
        .spec()
    )
    assert spec.emphasis == ("red convertible", "coastal road")
    assert spec.negative_prompt == "blur, text overlays, morphing"
    assert (spec.generate_audio, spec.family, spec.tier) == (False, "v3", "pro")
    explicit = (
        Prompt.text_to_video().subject("x").endpoint("fal-ai/kling-video/v3/pro/text-to-video")
    )
    assert explicit.render().endpoint == "fal-ai/kling-video/v3/pro/text-to-video"


def test_image_to_video() -> None:
    request = (
        Prompt.image_to_video("https://x/start.png")
        .end_image("https://x/end.png")
        .motion("the woman turns her head slowly")
        .element("https://x/face.png", reference_image_urls=["https://x/side.png"], voice_id="v")
        .duration(5)
        .render()
    )
    assert request.endpoint == "fal-ai/kling-video/v3/pro/image-to-video"
    assert request.arguments["start_image_url"] == "https://x/start.png"
    assert request.arguments["end_image_url"] == "https://x/end.png"
    assert request.arguments["elements"] == [
        {
            "frontal_image_url": "https://x/face.png",
            "reference_image_urls": ["https://x/side.png"],
            "voice_id": "v",
        }
    ]
    assert request.arguments["prompt"] == "The woman turns her head slowly."


def test_image_to_video_rejects_what_the_endpoint_lacks() -> None:
    builder = Prompt.image_to_video("https://x/a.png").motion("waves").aspect_ratio("16:9")
    with pytest.raises(
        RoutingError, match="aspect_ratio: endpoint fal-ai/kling-video/v3/pro/image"
    ):
        builder.render()


def test_reference_to_video() -> None:
    request = (
        Prompt.reference_to_video()
        .subject("@Element1 walks through the market")
        .element(Element(frontal_image_url="https://x/e.png", label="the old fisherman"))
        .image("https://x/style.png", label="the colour palette")
        .image("https://x/light.png")
        .render()
    )
    assert request.endpoint == "fal-ai/kling-video/o3/pro/reference-to-video"
    assert request.arguments["image_urls"] == ["https://x/style.png", "https://x/light.png"]
    assert request.arguments["elements"] == [{"frontal_image_url": "https://x/e.png"}]
    assert request.arguments["prompt"] == (
        "@Element1 walks through the market. @Element1 is the old fisherman. "
        "@Image1 shows the colour palette."
    )


def test_motion_control_has_no_motion() -> None:
    builder = Prompt.motion_control("https://x/c.png", "https://x/v.mp4", "video")
    assert isinstance(builder, MotionControlPrompt)
    for name in ("motion", "event", "say", "duration", "shot", "image"):
        assert not hasattr(builder, name)
    with pytest.raises(AttributeError, match="reference video defines the motion"):
        builder.motion("dance")  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        builder.nonsense  # type: ignore[attr-defined]  # noqa: B018


def test_motion_control_request() -> None:
    request = (
        Prompt.motion_control("https://x/c.png", "https://x/v.mp4", "image")
        .subject("Rumi", "purple braided hair", "yellow racing jacket")
        .scene("a neon-lit K-pop stage")
        .style("cinematic lighting")
        .keep_sound(False)
        .render()
    )
    assert request.endpoint == "fal-ai/kling-video/v3/pro/motion-control"
    assert request.arguments == {
        "prompt": (
            "Rumi, purple braided hair, yellow racing jacket. A neon-lit K-pop stage. "
            "Cinematic lighting."
        ),
        "image_url": "https://x/c.png",
        "video_url": "https://x/v.mp4",
        "character_orientation": "image",
        "keep_original_sound": False,
    }


def test_motion_control_without_prompt_omits_it() -> None:
    request = Prompt.motion_control("https://x/c.png", "https://x/v.mp4", "video").render()
    assert "prompt" not in request.arguments
    assert len(request.source_map) == 0


def test_video_edit() -> None:
    request = (
        Prompt.video_edit("https://x/in.mp4")
        .edit("replace the sky with a stormy dusk")
        .keep("the character", "their motion")
        .image("https://x/sky.png", label="the sky to use")
        .keep_sound()
        .render()
    )
    assert request.endpoint == "fal-ai/kling-video/o3/pro/video-to-video/edit"
    assert request.arguments["prompt"] == (
        "In @Video1, replace the sky with a stormy dusk. Keep the character and their motion "
        "unchanged. @Image1 shows the sky to use."
    )
    assert request.arguments["video_url"] == "https://x/in.mp4"
    assert request.arguments["image_urls"] == ["https://x/sky.png"]
    assert request.arguments["keep_audio"] is True


def test_multi_shot() -> None:
    builder = (
        Prompt.multi_shot()
        .style("cinematic")
        .subject("a lighthouse keeper")
        .shot(4, "climbs the stairs", scene="a spiral staircase")
        .shot(Shot(duration=3, motion=Motion(directives=("lights the lamp",))))
        .shot(2, subject=Subject(description="the sea"), say=[("keeper", "Here it comes")])
    )
    request = builder.render()
    assert request.endpoint == "fal-ai/kling-video/v3/pro/text-to-video"
    assert request.arguments["multi_prompt"] == [
        {
            "prompt": "A lighthouse keeper. Climbs the stairs. A spiral staircase. Cinematic.",
            "duration": "4",
        },
        {"prompt": "A lighthouse keeper. Lights the lamp. Cinematic.", "duration": "3"},
        {"prompt": 'The sea. [Keeper] says: "Here it comes." Cinematic.', "duration": "2"},
    ]
    assert request.arguments["shot_type"] == "customize"
    assert request.mode == "text-to-video"
    assert request.spec.mode == "multi-shot"
    assert request.arguments["duration"] == "9"
    assert "prompt" not in request.arguments
    assert builder.text() == "\n".join(s["prompt"] for s in request.arguments["multi_prompt"])


def test_multi_shot_with_start_image_uses_image_to_video() -> None:
    request = Prompt.multi_shot().start_image("https://x/a.png").shot(3, "waves").render()
    assert request.endpoint == "fal-ai/kling-video/v3/pro/image-to-video"
    assert request.arguments["start_image_url"] == "https://x/a.png"


def test_errors_surface_as_spec_errors() -> None:
    with pytest.raises(SpecError, match=r"shots: shots are only used in multi-shot"):
        Prompt.text_to_video().subject("x").shot(3, "y").spec()
    with pytest.raises(SpecError, match="duration"):
        Prompt.text_to_video().subject("x").duration(-1).render()


def test_family_needs_the_catalog_in_fallback() -> None:
    with pytest.raises(RoutingError, match=r"family: choosing family 'v2\.6' needs the endpoint"):
        Prompt.text_to_video().subject("x").family("v2.6").render()
    assert Prompt.text_to_video().subject("x").family("v3").tier("pro").render().endpoint


def test_repr_shows_state() -> None:
    assert "a fox" in repr(Prompt.text_to_video().subject("a fox"))
