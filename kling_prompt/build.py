"""Fluent builders over :class:`~kling_prompt.spec.PromptSpec`.

Start from a mode (``Prompt.text_to_video()``, ``Prompt.image_to_video(url)``, ...), add parts
with chained calls, then take ``.spec()``, ``.render()`` (a :class:`~kling_prompt.request.Request`)
or ``.text()`` (the prompt string)::

    Prompt.text_to_video().scene("a misty harbour at dawn").subject("an old fisherman").render()

Builders are immutable: every call returns a new builder and leaves the one it was called on
unchanged, so a partly built prompt can be shared as a base for variants. The copy is shallow,
which is safe because every value a builder holds is immutable (strings, tuples, frozen models).

Most problems are found at ``.spec()`` (or ``.render()`` / ``.text()``): the whole spec is checked
at once and every problem is reported as one :class:`~kling_prompt.errors.SpecError` naming the
field. The craft helpers (``.preset()``, ``.replace()``, ``.reference_duration()``, the
motion-control layers...) refuse a bad call at once, so the error points at the call that caused
it. ``.render()`` also refuses time marks outside the clip (rule KP804). The motion-control
builder has no ``.motion()`` at all, since there the reference video defines the motion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from kling_prompt.errors import SpecError
from kling_prompt.spec import (
    AspectRatio,
    Camera,
    CameraPreset,
    DialogueLine,
    EditOp,
    Element,
    IntendedUse,
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
    spec_error,
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

    # ----------------------------------------------------------------- craft

    def preset(self: _B, *names: str) -> _B:
        """Apply style presets (``"anime"``, ``"35mm-film"``, ``"shallow-dof"``...).

        The presets are listed in ``templates/presets/styles.yaml``. Presets that contradict each
        other or the style already given (anime and photorealistic, black-and-white and vibrant
        colour) raise :class:`SpecError` naming both.
        """
        if not names:
            raise SpecError("preset: name at least one preset, e.g. .preset('anime')")
        old = tuple(dict(self._data.get("style") or {}).get("presets", ()))
        fresh = tuple(n for n in dict.fromkeys(names) if n not in old)
        builder = self._component("style", None, presets=fresh)
        _check_model(Style, builder._data["style"], "style")
        return builder

    def consistency(self: _B, *keys: str) -> _B:
        """Add temporal consistency phrases ("consistent lighting", "steady camera", ...).

        ``keys`` pick some of ``lighting``, ``camera``, ``motion``, ``transitions`` and
        ``appearance``; with none, all of them are added.
        """
        from kling_prompt.craft.data import pick

        return self._stability(pick("consistency", keys, call="consistency"))

    def _stability(self: _B, phrases: Iterable[str]) -> _B:
        current = tuple(self._data.get("stability", ()))
        added = tuple(p for p in phrases if p not in current)
        return self._with(stability=current + added)

    # ----------------------------------------------------------------- results

    def spec(self) -> PromptSpec:
        """The validated spec; raises :class:`SpecError` listing every problem by field."""
        return load_spec(self._data)

    def render(self) -> Request:
        """The request as it will be sent: endpoint, arguments and source map."""
        from kling_prompt.craft.checks import check_time_marks
        from kling_prompt.rendering import render

        request = render(self.spec())
        check_time_marks(request)
        return request

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

    def lighting_change(self: _G, at: float, description: str) -> _G:
        """Change the light at a moment of the clip (lighting choreography).

        Rendered "At the 3-second mark, sunlight breaks through the clouds"; a mark after the
        end of the clip is refused by ``.render()`` (KP804).
        """
        return self.motion(events=[(at, description)])

    def physics(self: _G, *phrases: str) -> _G:
        """Add physics-aware descriptions: stock keys (``fabric``, ``hair``, ``water``,
        ``smoke``, ``dust``, ``weight``) or your own sentences."""
        from kling_prompt.craft.data import phrases as stock

        if not phrases:
            raise SpecError("physics: give a key (fabric, hair, ...) or a description")
        table = stock("physics")
        texts = tuple(table.get(p, p) for p in phrases)
        current = tuple(self._data.get("physics", ()))
        return self._with(physics=current + tuple(t for t in texts if t not in current))

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

    def still_background(self) -> Prompt:
        """Keep the background still: "background remains motionless, only the character
        moves" (text- and image-to-video)."""
        return self._unwanted_motion("still_background")

    def static_environment(self) -> Prompt:
        """Limit motion to the subject: "static environment, all motion limited to the
        subject" (text- and image-to-video)."""
        return self._unwanted_motion("static_environment")

    def _unwanted_motion(self, key: str) -> Prompt:
        from kling_prompt.craft.data import phrases

        mode = self._data["mode"]
        if mode not in ("text-to-video", "image-to-video"):
            raise SpecError(
                f"stability: .{key}() limits generated motion in text- or image-to-video, not "
                f"{mode}; start from Prompt.text_to_video() or Prompt.image_to_video(image)"
            )
        return self._stability([phrases("unwanted_motion")[key]])

    def replace(
        self, target: str, with_: str | None = None, *, image: int | str | None = None
    ) -> Prompt:
        """Replace only ``target`` in the input video ("Replace only the sky in @Video1 with a
        stormy sunset"). ``image`` is a reference image index (1-based) or a URL to add, shown
        as ``@Image1``."""
        return self._edit_op("replace", target, with_, image)

    def modify(self, target: str, change: str, *, image: int | str | None = None) -> Prompt:
        """Modify only ``target`` in the input video ("Modify only the outfit in @Video1 to a
        red leather jacket")."""
        return self._edit_op("modify", target, change, image)

    def preserve(self, *things: str) -> Prompt:
        """What an edit keeps: "... while keeping the foreground unchanged"."""
        self._require_video("preserve")
        return self.keep(*things)

    def _require_video(self, call: str) -> None:
        mode = self._data["mode"]
        if mode != "video-edit" or not self._data.get("video"):
            raise SpecError(
                f"edits: .{call}() is edit language and needs an input video to edit, but "
                f"{mode} has none; start from Prompt.video_edit(video)"
            )

    def _edit_op(self, action: str, target: str, to: str | None, image: int | str | None) -> Prompt:
        self._require_video(action)
        builder = self
        if isinstance(image, str):
            builder = builder.image(image)
            image = len(builder._data["reference_images"])
        op = _merge(None, action=action, target=target, to=to, image=image)
        _check_model(EditOp, op, f"edits[{len(self._data.get('edits', ()))}]")
        return builder._with(edits=(*builder._data.get("edits", ()), op))

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

    def identity(self, description: str, *attributes: str) -> MotionControlPrompt:
        """The character's identity layer (who, hair, outfit); body motion is refused (KP301)."""
        _refuse_motion({"subject.description": description, "subject.attributes": attributes})
        return self.subject(description, *attributes)

    def environment(
        self,
        environment: str | None = None,
        *,
        lighting: str | None = None,
        time_of_day: str | None = None,
        weather: str | None = None,
    ) -> MotionControlPrompt:
        """The environment layer (place, light, time, weather); body motion is refused."""
        _refuse_motion(
            {
                "scene.environment": environment,
                "scene.lighting": lighting,
                "scene.time_of_day": time_of_day,
                "scene.weather": weather,
            }
        )
        return self.scene(environment, lighting=lighting, time_of_day=time_of_day, weather=weather)

    def style(
        self,
        look: str | Style | None = None,
        *,
        medium: str | None = None,
        lens: str | None = None,
        film: Iterable[str] | str | None = None,
    ) -> MotionControlPrompt:
        """The style layer (look, medium, lens, film cues); body motion is refused."""
        _refuse_motion(
            {
                "style.look": look if isinstance(look, str) else None,
                "style.medium": medium,
                "style.lens": lens,
                "style.film": _strings(film),
            }
        )
        return super().style(look, medium=medium, lens=lens, film=film)

    def intended_use(self, use: IntendedUse) -> MotionControlPrompt:
        """Choose the orientation for the motion: ``dance`` and ``athletics`` follow the video
        (up to 30 s), ``portrait`` and ``camera-work`` keep the image's pose (up to 10 s)."""
        from kling_prompt.craft.data import orientation_for

        builder = self._with(intended_use=use, character_orientation=orientation_for(use))
        builder._check_reference()
        return builder

    def reference_duration(self, seconds: float) -> MotionControlPrompt:
        """The reference video's length in seconds, checked against :attr:`duration_cap`."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise SpecError(f"reference_duration: {seconds!r} is not a length in seconds")
        builder = self._with(reference_duration=seconds)
        builder._check_reference()
        return builder

    @property
    def duration_cap(self) -> float:
        """The longest reference video the endpoint takes with this orientation (catalog)."""
        _, limits = self._reference_limits()
        return limits[self._data["character_orientation"]][1]

    def _reference_limits(self) -> tuple[str, dict[str, tuple[float, float]]]:
        from kling_prompt.craft.motion import reference_limits

        return reference_limits(
            family=self._data.get("family"),
            tier=self._data.get("tier"),
            endpoint=self._data.get("endpoint"),
        )

    def _check_reference(self) -> None:
        seconds = self._data.get("reference_duration")
        if seconds is None:
            return
        from kling_prompt.craft.motion import reference_problem

        endpoint, limits = self._reference_limits()
        problem = reference_problem(
            float(seconds), self._data["character_orientation"], limits, endpoint
        )
        if problem is not None:
            raise SpecError(problem)

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


def _check_model(model: Any, data: Any, path: str) -> None:
    """Validate one component now, so the call that broke it is the one that fails."""
    from pydantic import ValidationError

    try:
        model.model_validate(data)
    except ValidationError as exc:
        text = str(spec_error(exc))
        head = text.split(":", 1)[0]
        raise SpecError(
            f"{path}.{text}" if head in model.model_fields else f"{path}: {text}"
        ) from None


def _refuse_motion(fields: Mapping[str, str | Iterable[str] | None]) -> None:
    from kling_prompt.craft.checks import refuse_motion

    for field, value in fields.items():
        for i, text in enumerate(_strings(value)):
            refuse_motion(text, field if isinstance(value, str) else f"{field}[{i}]")


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
