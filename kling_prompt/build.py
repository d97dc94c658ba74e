"""Fluent builders over :class:`~kling_prompt.spec.PromptSpec`.

Start from a mode (``Prompt.text_to_video()``, ``Prompt.image_to_video(url)``, ...), add parts
with chained calls, then take ``.spec()``, ``.render()`` (a :class:`~kling_prompt.request.Request`)
or ``.text()`` (the prompt string)::

    Prompt.text_to_video().scene("a misty harbour at dawn").subject("an old fisherman").render()

Builders are immutable: every call returns a new builder and leaves the one it was called on
unchanged, so a partly built prompt can be shared as a base for variants. The copy is shallow,
which is safe because every value a builder holds is immutable (strings, tuples, frozen models).

Nothing is validated until ``.spec()`` (or ``.render()`` / ``.text()``): the whole spec is checked
at once and every problem is reported as one :class:`~kling_prompt.errors.SpecError` naming the
field. The motion-control builder has no ``.motion()`` at all, since there the reference video
defines the motion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from kling_prompt.spec import (
    AspectRatio,
    Camera,
    CameraPreset,
    DialogueLine,
    Element,
    Link,
    Motion,
    Orientation,
    PromptSpec,
    Scene,
    Shot,
    Style,
    Subject,
    TimedEvent,
    Voice,
    load_spec,
)

if TYPE_CHECKING:
    from kling_prompt.request import Request

__all__ = ["MotionControlPrompt", "Prompt"]

_B = TypeVar("_B", bound="_Builder")
_G = TypeVar("_G", bound="_Generating")


def _dump(model: Any) -> Any:
    """Builder state holds plain data; models are dumped so later calls can merge into them."""
    return model.model_dump(exclude_defaults=True) if hasattr(model, "model_dump") else model


def _merge(old: Mapping[str, Any] | None, **updates: Any) -> dict[str, Any]:
    """Merge new component fields into old ones: values replace, tuples are appended to."""
    merged = dict(old or {})
    for key, value in updates.items():
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            merged[key] = tuple(merged.get(key, ())) + value
        else:
            merged[key] = value
    return merged


def _strings(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(values)


class _Builder:
    """State and the calls every mode shares."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: dict[str, Any] = dict(data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def _with(self: _B, **changes: Any) -> _B:
        clone = object.__new__(type(self))
        clone._data = {**self._data, **changes}
        return clone

    def _component(self: _B, key: str, model: Any, **updates: Any) -> _B:
        """Merge ``updates`` into a component; an explicit ``model`` replaces it first."""
        base = _dump(model) if model is not None else self._data.get(key)
        return self._with(**{key: _merge(base, **updates)})

    # ----------------------------------------------------------------- parts

    def subject(self: _B, description: str | Subject, *attributes: str) -> _B:
        """Set who or what the video is about (replaces an earlier subject)."""
        if isinstance(description, Subject):
            data = _merge(_dump(description), attributes=tuple(attributes))
        else:
            data = {"description": description, "attributes": tuple(attributes)}
        return self._with(subject=data)

    def scene(
        self: _B,
        environment: str | Scene | None = None,
        *,
        lighting: str | None = None,
        time_of_day: str | None = None,
        weather: str | None = None,
    ) -> _B:
        """Add scene parts; a part given again replaces the earlier one."""
        model = environment if isinstance(environment, Scene) else None
        text = environment if isinstance(environment, str) else None
        return self._component(
            "scene",
            model,
            environment=text,
            lighting=lighting,
            time_of_day=time_of_day,
            weather=weather,
        )

    def style(
        self: _B,
        look: str | Style | None = None,
        *,
        medium: str | None = None,
        lens: str | None = None,
        film: Iterable[str] | str | None = None,
    ) -> _B:
        """Add style parts (``film`` cues accumulate)."""
        model = look if isinstance(look, Style) else None
        text = look if isinstance(look, str) else None
        return self._component(
            "style", model, look=text, medium=medium, lens=lens, film=_strings(film)
        )

    def camera(
        self: _B,
        *moves: str | Camera,
        framing: str | None = None,
        lens: str | None = None,
        control: CameraPreset | None = None,
    ) -> _B:
        """Add camera moves, framing and lens; ``control`` is fal's camera_control preset."""
        models = [m for m in moves if isinstance(m, Camera)]
        texts = tuple(m for m in moves if isinstance(m, str))
        builder = self
        for model in models:
            builder = builder._component("camera", model)
        return builder._component(
            "camera", None, moves=texts, framing=framing, lens=lens, control=control
        )

    def element(
        self: _B,
        frontal_image_url: str | Element | None = None,
        *,
        reference_image_urls: Iterable[str] = (),
        video_url: str | None = None,
        voice_id: str | None = None,
        label: str | None = None,
    ) -> _B:
        """Add an element (``@Element1``, ``@Element2``, ... in the order added)."""
        if isinstance(frontal_image_url, Element):
            data: Any = _dump(frontal_image_url)
        else:
            data = _merge(
                None,
                frontal_image_url=frontal_image_url,
                reference_image_urls=tuple(reference_image_urls),
                video_url=video_url,
                voice_id=voice_id,
                label=label,
            )
        return self._with(elements=(*self._data.get("elements", ()), data))

    def emphasize(self: _B, *terms: str) -> _B:
        """Mark terms as critical: they open the prompt as ``++term++``."""
        return self._with(emphasis=(*self._data.get("emphasis", ()), *terms))

    def negative(self: _B, *terms: str) -> _B:
        """Add things to avoid; joined with commas into ``negative_prompt``."""
        parts = [self._data["negative_prompt"]] if "negative_prompt" in self._data else []
        return self._with(negative_prompt=", ".join([*parts, *terms]))

    def aspect_ratio(self: _B, ratio: AspectRatio) -> _B:
        return self._with(aspect_ratio=ratio)

    def family(self: _B, family: str) -> _B:
        """Prefer a model family (``"v3"``, ``"o3"``, ``"v2.6"``); the catalog routes within it."""
        return self._with(family=family)

    def tier(self: _B, tier: str) -> _B:
        """Prefer a tier (``"standard"``, ``"pro"``, ``"4k"``)."""
        return self._with(tier=tier)

    def endpoint(self: _B, endpoint_id: str) -> _B:
        """Send to this exact fal endpoint id instead of routing."""
        return self._with(endpoint=endpoint_id)

    # ----------------------------------------------------------------- results

    def spec(self) -> PromptSpec:
        """The validated spec; raises :class:`SpecError` listing every problem by field."""
        return load_spec(self._data)

    def render(self) -> Request:
        """The request as it will be sent: endpoint, arguments and source map."""
        from kling_prompt.rendering import render

        return render(self.spec())

    def text(self) -> str:
        """The prompt text (multi-shot: one line per shot)."""
        from kling_prompt.rendering import prompt_text

        return prompt_text(self.render())


class _Generating(_Builder):
    """Calls for modes that generate motion, speech and a clip length of their own."""

    __slots__ = ()

    def motion(
        self: _G,
        *directives: str | Motion,
        sequence: Iterable[str] = (),
        foreground: str | None = None,
        midground: str | None = None,
        background: str | None = None,
        events: Iterable[TimedEvent | tuple[float, str]] = (),
    ) -> _G:
        """Add motion: directives, ordered ``sequence`` steps, depth layers and timed events."""
        current: dict[str, Any] = dict(self._data.get("motion") or {})
        for item in directives:
            if isinstance(item, Motion):
                current = _merge(
                    current,
                    directives=item.directives,
                    sequence=item.sequence,
                    events=tuple(_dump(e) for e in item.events),
                    layers=_dump(item.layers) if item.layers else None,
                )
        layers = _merge(
            current.get("layers"),
            foreground=foreground,
            midground=midground,
            background=background,
        )
        current = _merge(
            current,
            directives=tuple(d for d in directives if isinstance(d, str)),
            sequence=tuple(sequence),
            events=tuple(_event(e) for e in events),
            layers=layers or None,
        )
        return self._with(motion=current)

    def event(self: _G, at_seconds: float, description: str) -> _G:
        """Add a timed change, rendered "At the 3-second mark, ..." (lighting choreography)."""
        return self.motion(events=[(at_seconds, description)])

    def voice(self: _G, voice_id: str | Voice, *, speaker: str | None = None) -> _G:
        """Add a voice (``<<<voice_1>>>``, ...); ``speaker`` tags that speaker's lines with it."""
        data = (
            _dump(voice_id)
            if isinstance(voice_id, Voice)
            else _merge(None, voice_id=voice_id, speaker=speaker)
        )
        return self._with(voices=(*self._data.get("voices", ()), data))

    def say(
        self: _G,
        speaker: str,
        text: str,
        *,
        tone: str | None = None,
        voice: int | None = None,
        link: Link = "then",
    ) -> _G:
        """Add a dialogue line, rendered ``[Speaker, tone] says: "text"``."""
        line = _merge(None, speaker=speaker, text=text, tone=tone, voice=voice)
        if link != "then":
            line["link"] = link
        return self._with(dialogue=(*self._data.get("dialogue", ()), line))

    def duration(self: _G, seconds: int) -> _G:
        """The clip length in whole seconds."""
        return self._with(duration=seconds)

    def audio(self: _G, enabled: bool = True) -> _G:
        """Ask for (or turn off) native audio generation."""
        return self._with(generate_audio=enabled)


class Prompt(_Generating):
    """A prompt under construction; start from one of the mode classmethods."""

    __slots__ = ()

    @classmethod
    def text_to_video(cls) -> Prompt:
        return cls({"mode": "text-to-video"})

    @classmethod
    def image_to_video(cls, image: str) -> Prompt:
        """Animate ``image`` (URL or data URI), which becomes the first frame."""
        return cls({"mode": "image-to-video", "start_image": image})

    @classmethod
    def reference_to_video(cls) -> Prompt:
        """Generate from reference images (``.image``) and elements (``.element``)."""
        return cls({"mode": "reference-to-video"})

    @classmethod
    def motion_control(
        cls, image: str, video: str, orientation: Orientation
    ) -> MotionControlPrompt:
        """Move the character in ``image`` like the person in ``video``.

        ``orientation`` is ``"video"`` (follow the video's body orientation, up to 30 s) or
        ``"image"`` (keep the image's, up to 10 s). The returned builder has no ``.motion()``.
        """
        return MotionControlPrompt(
            {
                "mode": "motion-control",
                "character_image": image,
                "video": video,
                "character_orientation": orientation,
            }
        )

    @classmethod
    def video_edit(cls, video: str) -> Prompt:
        """Edit ``video`` (referred to as ``@Video1``); say what to change with ``.edit()``."""
        return cls({"mode": "video-edit", "video": video})

    @classmethod
    def multi_shot(cls) -> Prompt:
        """Several shots in one video; add them with ``.shot()``."""
        return cls({"mode": "multi-shot"})

    def image(self, url: str, label: str | None = None) -> Prompt:
        """Add a reference image (``@Image1``, ...); ``label`` says what it shows."""
        data = _merge(None, url=url, label=label)
        return self._with(reference_images=(*self._data.get("reference_images", ()), data))

    def start_image(self, url: str) -> Prompt:
        return self._with(start_image=url)

    def end_image(self, url: str) -> Prompt:
        """The image the clip should end on."""
        return self._with(end_image=url)

    def edit(self, instruction: str) -> Prompt:
        """The change to make in a video edit ("replace the sky with a stormy dusk")."""
        return self._with(edit=instruction)

    def keep(self, *things: str) -> Prompt:
        """What a video edit must leave unchanged ("the character", "their motion")."""
        return self._with(keep=(*self._data.get("keep", ()), *things))

    def keep_sound(self, keep: bool = True) -> Prompt:
        """Keep the input video's sound (video edit)."""
        return self._with(keep_sound=keep)

    def shot(
        self,
        duration: int | Shot,
        *directives: str,
        subject: str | Subject | None = None,
        scene: str | Scene | None = None,
        camera: str | Camera | None = None,
        style: str | Style | None = None,
        say: Iterable[tuple[str, str] | DialogueLine] = (),
        emphasis: Iterable[str] = (),
    ) -> Prompt:
        """Add a shot of ``duration`` seconds whose motion is ``directives``.

        Parts left out are taken from the prompt's own subject, scene, camera and style.
        """
        if isinstance(duration, Shot):
            data: Any = _dump(duration)
        else:
            data = _merge(
                None,
                duration=duration,
                subject=_dump(subject),
                scene=_dump(scene),
                camera=_dump(camera),
                style=_dump(style),
                motion={"directives": directives} if directives else None,
                dialogue=tuple(_line(item) for item in say),
                emphasis=tuple(emphasis),
            )
        return self._with(shots=(*self._data.get("shots", ()), data))


class MotionControlPrompt(_Builder):
    """Builder for motion control: scene context only, the reference video gives the motion."""

    __slots__ = ()

    def keep_sound(self, keep: bool = True) -> MotionControlPrompt:
        """Keep the reference video's sound (default on fal: kept)."""
        return self._with(keep_sound=keep)

    def __getattr__(self, name: str) -> Any:
        if name in ("motion", "event"):
            raise AttributeError(
                f"motion-control prompts have no .{name}(): the reference video defines the "
                "motion; describe the character (.subject), scene and style instead"
            )
        if name in ("say", "voice", "audio", "duration", "shot", "image", "edit"):
            raise AttributeError(
                f"motion-control prompts have no .{name}(): the output follows the character "
                "image and the reference video (length, sound); use .element() for identity"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _event(item: TimedEvent | tuple[float, str]) -> Any:
    if isinstance(item, TimedEvent):
        return _dump(item)
    at, description = item
    return {"at_seconds": at, "description": description}


def _line(item: tuple[str, str] | DialogueLine) -> Any:
    if isinstance(item, DialogueLine):
        return _dump(item)
    speaker, text = item
    return {"speaker": speaker, "text": text}
