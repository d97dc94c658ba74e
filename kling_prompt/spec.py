"""What an author writes: the structured prompt spec.

A :class:`PromptSpec` holds the parts of a Kling prompt (subject, motion, scene, camera, style,
dialogue), the media it refers to (start image, reference images, elements, video, voices) and the
generation settings (mode, duration, aspect ratio, audio, endpoint preference). Every model is
frozen and forbids unknown keys, so a typo in a spec file is an error instead of a silent no-op.

Invalid combinations (motion in motion-control mode, shots outside multi-shot, ``@Element3`` with
two elements, ...) are rejected when the spec is built, with a message that starts with the field
path, so the author sees what to change before a paid job is sent. Constructing a model directly
raises ``pydantic.ValidationError`` (a ``ValueError``); :func:`load_spec` and the builders turn it
into :class:`~kling_prompt.errors.SpecError`.

Facts about individual endpoints (which durations, which fields) are not checked here: they belong
to the catalog, which routes a spec to an endpoint that accepts it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

from kling_prompt.errors import SpecError

Mode = Literal[
    "text-to-video",
    "image-to-video",
    "reference-to-video",
    "motion-control",
    "video-edit",
    "multi-shot",
]
MODES: tuple[str, ...] = (
    "text-to-video",
    "image-to-video",
    "reference-to-video",
    "motion-control",
    "video-edit",
    "multi-shot",
)
AspectRatio = Literal["16:9", "9:16", "1:1", "auto"]
CameraPreset = Literal["down_back", "forward_up", "right_turn_forward", "left_turn_forward"]
Orientation = Literal["image", "video"]
Link = Literal["then", "immediately"]
IntendedUse = Literal["dance", "athletics", "portrait", "camera-work"]
EditAction = Literal["replace", "modify"]

MAX_VOICES = 2
MAX_SHOTS = 6

# Private-use characters: the renderer uses some of them as field markers, so author text must not
# contain them (they are invisible anyway).
_RESERVED = re.compile("[\ue000-\ue00f]")


def _check_text(value: str) -> str:
    if _RESERVED.search(value):
        raise ValueError("contains a reserved private-use character (U+E000..U+E00F); remove it")
    if not any(ch.isalnum() for ch in value):
        raise ValueError(
            "must contain words (letters or digits); leave the field out instead of passing "
            "an empty or punctuation-only string"
        )
    return value


def _check_url(value: str) -> str:
    if not value.strip():
        raise ValueError("must be a URL or data URI, not an empty string")
    if any(ch.isspace() for ch in value.strip()):
        raise ValueError("must be a URL or data URI without spaces")
    return value.strip()


def _check_term(value: str) -> str:
    _check_text(value)
    if "++" in value:
        raise ValueError("write the bare term; the renderer adds the ++ markers itself")
    return value


Text = Annotated[str, AfterValidator(_check_text)]
"""Author text: must contain at least one letter or digit."""
Url = Annotated[str, AfterValidator(_check_url)]
Term = Annotated[str, AfterValidator(_check_term)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _wrap(data: Any, key: str, *, as_list: bool = False) -> Any:
    """Let spec files write a bare string (or list) where a model is expected."""
    if isinstance(data, str):
        return {key: [data] if as_list else data}
    if as_list and isinstance(data, (list, tuple)):
        return {key: list(data)}
    return data


class Scene(_Model):
    """Where and when: the environment and its light. Rendered after the subject and action."""

    environment: Text | None = None
    lighting: Text | None = None
    time_of_day: Text | None = None
    weather: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return _wrap(data, "environment")

    @model_validator(mode="after")
    def _not_empty(self) -> Scene:
        if not any((self.environment, self.lighting, self.time_of_day, self.weather)):
            raise ValueError(
                "give at least one of environment, lighting, time_of_day or weather, "
                "or leave the scene out"
            )
        return self


class Subject(_Model):
    """Who or what the video is about; rendered first so it is never buried."""

    description: Text
    attributes: tuple[Text, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return _wrap(data, "description")


class TimedEvent(_Model):
    """A change at a moment of the clip, rendered as "at the 3-second mark, ..."."""

    at_seconds: NonNegativeFloat
    description: Text

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        if isinstance(data, (list, tuple)) and len(data) == 2:
            return {"at_seconds": data[0], "description": data[1]}
        return data


class Layers(_Model):
    """Motion separated by depth, so the model keeps background and subject motion apart."""

    foreground: Text | None = None
    midground: Text | None = None
    background: Text | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Layers:
        if not any((self.foreground, self.midground, self.background)):
            raise ValueError("give at least one of foreground, midground or background")
        return self


class Motion(_Model):
    """What moves: specific directives, an ordered sequence of steps, layers and timed events."""

    directives: tuple[Text, ...] = ()
    sequence: tuple[Text, ...] = ()
    layers: Layers | None = None
    events: tuple[TimedEvent, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return _wrap(data, "directives", as_list=True)

    @model_validator(mode="after")
    def _not_empty(self) -> Motion:
        if not (self.directives or self.sequence or self.layers or self.events):
            raise ValueError(
                "give at least one directive, sequence step, layer or event, "
                "or leave the motion out"
            )
        return self

    @property
    def is_empty(self) -> bool:
        return not (self.directives or self.sequence or self.layers or self.events)


class Style(_Model):
    """The look: rendered last, after the content it styles.

    ``presets`` names style presets from ``templates/presets/styles.yaml`` (``anime``,
    ``35mm-film``, ``shallow-dof``...); presets that contradict each other or the rest of the
    style are refused.
    """

    look: Text | None = None
    medium: Text | None = None
    lens: Text | None = None
    film: tuple[Text, ...] = ()
    presets: tuple[Text, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return _wrap(data, "look")

    @model_validator(mode="after")
    def _not_empty(self) -> Style:
        if not (self.look or self.medium or self.lens or self.film or self.presets):
            raise ValueError("give at least one of look, medium, lens, film or presets")
        if self.presets:
            from kling_prompt.craft.styles import style_problems

            problems = style_problems(self)
            if problems:
                raise ValueError("\n".join(problems))
        return self


class Camera(_Model):
    """Camera work in words, plus fal's ``camera_control`` preset where the endpoint has one."""

    moves: tuple[Text, ...] = ()
    framing: Text | None = None
    lens: Text | None = None
    control: CameraPreset | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return _wrap(data, "moves", as_list=True)

    @model_validator(mode="after")
    def _not_empty(self) -> Camera:
        if not (self.moves or self.framing or self.lens or self.control):
            raise ValueError("give at least one of moves, framing, lens or control")
        return self

    @property
    def has_text(self) -> bool:
        return bool(self.moves or self.framing or self.lens)


class Element(_Model):
    """A character or object given by images (or a video), referred to as ``@Element1``...

    ``label`` says what the element is in the scene; when set, the prompt maps the reference to it
    ("@Element1 is the old fisherman"), as Kling's guides advise.
    """

    frontal_image_url: Url | None = None
    reference_image_urls: tuple[Url, ...] = ()
    video_url: Url | None = None
    voice_id: Text | None = None
    label: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return _wrap(data, "frontal_image_url")

    @model_validator(mode="after")
    def _has_media(self) -> Element:
        if not (self.frontal_image_url or self.reference_image_urls or self.video_url):
            raise ValueError("give a frontal_image_url, reference_image_urls or a video_url")
        return self


class EditOp(_Model):
    """One masked change of a video edit: replace or modify only ``target``.

    ``to`` is what the target becomes; ``image`` (1-based) points at the reference image that
    shows it, rendered as ``@Image1``.
    """

    action: EditAction
    target: Text
    to: Text | None = None
    image: PositiveInt | None = None

    @model_validator(mode="after")
    def _has_result(self) -> EditOp:
        if self.to is None and self.image is None:
            raise ValueError(f"{self.action}: say what the target becomes (to) or give an image")
        return self


class ImageRef(_Model):
    """A reference image, referred to in the prompt as ``@Image1``..."""

    url: Url
    label: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return _wrap(data, "url")


class Voice(_Model):
    """A voice id from fal's create-voice endpoint, referred to as ``<<<voice_1>>>``.

    ``speaker`` binds the voice to a dialogue speaker label, so the speaker's lines carry the tag.
    """

    voice_id: Text
    speaker: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return _wrap(data, "voice_id")


class DialogueLine(_Model):
    """One spoken line, rendered ``[Speaker, tone] says: "text"`` (Kling 2.6 dialogue form).

    ``voice`` is the 1-based index of a :class:`Voice`; ``link`` is the word that introduces the
    line when the speaker changes ("Then," or "Immediately,").
    """

    speaker: Text
    text: Text
    tone: Text | None = None
    voice: Annotated[int, Field(ge=1, le=MAX_VOICES)] | None = None
    link: Link = "then"


class Shot(_Model):
    """One shot of a multi-shot video: its own prompt parts and its duration in seconds.

    Subject, scene, camera and style left out here are taken from the spec, so a shared look is
    written once; motion and dialogue belong to a shot.
    """

    duration: PositiveInt
    subject: Subject | None = None
    scene: Scene | None = None
    motion: Motion | None = None
    camera: Camera | None = None
    style: Style | None = None
    dialogue: tuple[DialogueLine, ...] = ()
    emphasis: tuple[Term, ...] = ()

    @property
    def has_own_content(self) -> bool:
        return bool(
            self.subject
            or self.scene
            or self.motion
            or self.dialogue
            or (self.camera and self.camera.has_text)
            or self.style
        )


# Which media each mode accepts and requires (the spec field names).
_MEDIA_FIELDS = (
    "start_image",
    "end_image",
    "character_image",
    "video",
    "character_orientation",
    "keep_sound",
    "reference_images",
    "elements",
)
_MEDIA_ALLOWED: dict[str, frozenset[str]] = {
    "text-to-video": frozenset(),
    "image-to-video": frozenset({"start_image", "end_image", "elements"}),
    "reference-to-video": frozenset({"start_image", "end_image", "reference_images", "elements"}),
    "motion-control": frozenset(
        {"character_image", "video", "character_orientation", "keep_sound", "elements"}
    ),
    "video-edit": frozenset({"video", "reference_images", "elements", "keep_sound"}),
    "multi-shot": frozenset({"start_image", "end_image", "reference_images", "elements"}),
}
_MEDIA_REQUIRED: dict[str, tuple[str, ...]] = {
    "image-to-video": ("start_image",),
    "motion-control": ("character_image", "video", "character_orientation"),
    "video-edit": ("video",),
}
_MEDIA_HINT: dict[str, str] = {
    "start_image": "use Prompt.image_to_video(image)",
    "end_image": "use Prompt.image_to_video(image).end_image(url)",
    "character_image": "use Prompt.motion_control(image, video, orientation)",
    "video": "use Prompt.video_edit(video) or Prompt.motion_control(...)",
    "character_orientation": "it only applies to Prompt.motion_control(...)",
    "keep_sound": "it only applies to motion-control and video-edit",
    "reference_images": "use Prompt.reference_to_video()",
    "elements": "use Prompt.reference_to_video() or image_to_video()",
}
_NO_DURATION = frozenset({"motion-control", "video-edit"})
_NO_AUDIO = frozenset({"motion-control", "video-edit"})

_REF = re.compile(r"@(Element|Image|Video)(\d+)|<<<voice_(\d+)>>>")

# Spec keys whose strings are identifiers or URLs, not prompt text.
_NON_TEXT_KEYS = frozenset(
    {
        "mode",
        "family",
        "tier",
        "endpoint",
        "start_image",
        "end_image",
        "character_image",
        "video",
        "character_orientation",
        "aspect_ratio",
        "frontal_image_url",
        "reference_image_urls",
        "video_url",
        "voice_id",
        "url",
        "control",
        "link",
        "presets",
        "action",
        "intended_use",
    }
)


class PromptSpec(_Model):
    """A whole prompt: the mode, its parts, its media and its generation settings."""

    mode: Mode = "text-to-video"
    subject: Subject | None = None
    scene: Scene | None = None
    motion: Motion | None = None
    camera: Camera | None = None
    style: Style | None = None
    dialogue: tuple[DialogueLine, ...] = ()
    emphasis: tuple[Term, ...] = ()
    negative_prompt: Text | None = None
    edit: Text | None = None
    edits: tuple[EditOp, ...] = ()
    keep: tuple[Text, ...] = ()
    physics: tuple[Text, ...] = ()
    stability: tuple[Text, ...] = ()
    shots: tuple[Shot, ...] = ()
    voices: tuple[Voice, ...] = ()
    elements: tuple[Element, ...] = ()
    reference_images: tuple[ImageRef, ...] = ()
    start_image: Url | None = None
    end_image: Url | None = None
    character_image: Url | None = None
    video: Url | None = None
    character_orientation: Orientation | None = None
    keep_sound: bool | None = None
    intended_use: IntendedUse | None = None
    reference_duration: PositiveFloat | None = None
    duration: PositiveInt | None = None
    aspect_ratio: AspectRatio | None = None
    generate_audio: bool | None = None
    family: Text | None = None
    tier: Text | None = None
    endpoint: Url | None = None

    @model_validator(mode="after")
    def _check_combinations(self) -> PromptSpec:
        problems = list(_combination_problems(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def total_duration(self) -> int | None:
        """The clip length in seconds: ``duration``, or the sum of the shots in multi-shot."""
        if self.duration is not None:
            return self.duration
        if self.shots:
            return sum(s.duration for s in self.shots)
        return None


def _combination_problems(spec: PromptSpec) -> Iterator[str]:
    mode = spec.mode
    allowed = _MEDIA_ALLOWED[mode]
    for name in _MEDIA_FIELDS:
        value = getattr(spec, name)
        if value in (None, ()) or name in allowed:
            continue
        yield f"{name}: not used in {mode} mode; {_MEDIA_HINT[name]}"
    for name in _MEDIA_REQUIRED.get(mode, ()):
        if getattr(spec, name) is None:
            yield f"{name}: required in {mode} mode"

    if mode == "motion-control" and spec.motion is not None:
        yield (
            "motion: in motion-control mode the reference video defines the motion; describe "
            "the character, scene and style instead"
        )
    if mode == "multi-shot":
        if not spec.shots:
            yield "shots: multi-shot mode needs at least one shot; add them with .shot(...)"
        if len(spec.shots) > MAX_SHOTS:
            yield f"shots: at most {MAX_SHOTS} shots per video; split it into several requests"
        if spec.motion is not None:
            yield "motion: in multi-shot mode motion belongs to a shot; move it into shots[i]"
        if spec.dialogue:
            yield "dialogue: in multi-shot mode dialogue belongs to a shot; move it into shots[i]"
        total = sum(s.duration for s in spec.shots)
        if spec.duration is not None and spec.shots and total != spec.duration:
            yield (
                f"duration: the shots last {total} s in total but duration is {spec.duration} s; "
                "make them agree or leave duration out"
            )
        for i, shot in enumerate(spec.shots):
            if not shot.has_own_content:
                yield (
                    f"shots[{i}]: a shot needs its own subject, motion, scene, camera, style "
                    "or dialogue"
                )
    elif spec.shots:
        yield f"shots: shots are only used in multi-shot mode, not {mode}; use Prompt.multi_shot()"

    if mode in _NO_DURATION and spec.duration is not None:
        yield f"duration: {mode} output follows the input video's length; remove duration"
    if mode in _NO_DURATION and spec.aspect_ratio is not None:
        yield f"aspect_ratio: {mode} output follows the input; remove aspect_ratio"
    if mode in _NO_AUDIO:
        if spec.generate_audio is not None:
            yield f"generate_audio: {mode} does not generate audio; use keep_sound instead"
        if spec.dialogue:
            yield f"dialogue: {mode} does not generate speech; remove the dialogue"
        if spec.voices:
            yield f"voices: {mode} does not generate speech; remove the voices"
    if mode == "video-edit" and spec.edit is None and not spec.edits:
        yield "edit: video-edit mode needs the edit instruction; call .edit('replace the sky ...')"
    if mode != "video-edit":
        if spec.edit is not None:
            yield f"edit: only used in video-edit mode, not {mode}; use Prompt.video_edit(video)"
        if spec.edits:
            yield (
                f"edits: edit language needs an input video to edit, and {mode} has none; "
                "start from Prompt.video_edit(video)"
            )
        if spec.keep:
            yield f"keep: only used in video-edit mode, not {mode}; use Prompt.video_edit(video)"
    for i, op in enumerate(spec.edits):
        if op.image is not None and op.image > len(spec.reference_images):
            yield (
                f"edits[{i}].image: refers to @Image{op.image} but the spec has "
                f"{len(spec.reference_images)} reference image(s); add it with .image(url) "
                "or pass the URL as image="
            )
    if mode == "motion-control" and spec.physics:
        yield (
            "physics: in motion-control mode the reference video defines the motion, secondary "
            "motion included; describe the character, scene and style instead"
        )
    if mode != "motion-control":
        for name in ("intended_use", "reference_duration"):
            if getattr(spec, name) is not None:
                yield f"{name}: only used in motion-control mode, not {mode}; remove it"
    elif spec.intended_use is not None:
        from kling_prompt.craft.data import orientation_for

        wanted = orientation_for(spec.intended_use)
        if spec.character_orientation not in (None, wanted):
            yield (
                f"character_orientation: {spec.intended_use!r} motion needs {wanted!r} "
                f"orientation, not {spec.character_orientation!r}; set it to {wanted!r} or "
                "change intended_use"
            )
    cameras = [("camera", spec.camera)] + [
        (f"shots[{i}].camera", s.camera) for i, s in enumerate(spec.shots)
    ]
    for path, camera in cameras:
        if camera is not None and camera.control is not None and mode != "text-to-video":
            yield (
                f"{path}.control: the camera_control preset only exists on text-to-video "
                f"endpoints, not {mode}; describe the move in camera moves instead"
            )

    if mode in ("text-to-video", "reference-to-video") and not (
        spec.subject or spec.motion or spec.scene or spec.dialogue
    ):
        yield f"subject: a {mode} prompt needs at least a subject, motion, scene or dialogue"
    if mode == "image-to-video" and not (
        spec.subject or spec.motion or spec.scene or spec.dialogue or spec.camera or spec.style
    ):
        yield "motion: an image-to-video prompt needs at least the motion to animate"

    yield from _audio_problems(spec)
    yield from _timing_problems(spec)
    yield from _reference_problems(spec)


def _audio_problems(spec: PromptSpec) -> Iterator[str]:
    if len(spec.voices) > MAX_VOICES:
        yield (
            f"voices: at most {MAX_VOICES} voices per request (<<<voice_1>>>, <<<voice_2>>>); "
            f"{len(spec.voices)} given"
        )
    lines = [(f"dialogue[{i}]", line) for i, line in enumerate(spec.dialogue)]
    for s, shot in enumerate(spec.shots):
        lines += [(f"shots[{s}].dialogue[{i}]", line) for i, line in enumerate(shot.dialogue)]
    for path, line in lines:
        if line.voice is not None and line.voice > len(spec.voices):
            yield (
                f"{path}.voice: refers to voice {line.voice} but {len(spec.voices)} voice(s) are "
                "defined; add it with .voice(voice_id)"
            )
    if lines and spec.generate_audio is False:
        yield (
            f"{lines[0][0]}: generate_audio is false, so nobody would speak the line; "
            "turn audio on or remove the dialogue"
        )


def _timing_problems(spec: PromptSpec) -> Iterator[str]:
    checks: list[tuple[str, Motion | None, int | None]] = [
        ("motion", spec.motion, spec.total_duration())
    ]
    checks += [(f"shots[{i}].motion", s.motion, s.duration) for i, s in enumerate(spec.shots)]
    for path, motion, length in checks:
        if motion is None or length is None:
            continue
        for i, event in enumerate(motion.events):
            if event.at_seconds > length:
                yield (
                    f"{path}.events[{i}].at_seconds: {event.at_seconds:g} s is after the end of "
                    f"the {length}-second clip; move the event earlier"
                )


def _reference_problems(spec: PromptSpec) -> Iterator[str]:
    available = {
        "Element": (len(spec.elements), "element(s)", ".element(...)"),
        "Image": (len(spec.reference_images), "reference image(s)", ".image(url)"),
        "Video": (
            1 if spec.mode == "video-edit" and spec.video else 0,
            "input video(s)",
            "Prompt.video_edit(video)",
        ),
        "voice": (len(spec.voices), "voice(s)", ".voice(voice_id)"),
    }
    for path, text in iter_text_fields(spec):
        for match in _REF.finditer(text):
            kind = match.group(1) or "voice"
            number = int(match.group(2) or match.group(3))
            count, noun, fix = available[kind]
            if number < 1 or number > count:
                yield (
                    f"{path}: refers to {match.group(0)} but the spec has {count} {noun}; "
                    f"add it with {fix} or fix the reference"
                )


def iter_text_fields(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every author-text field of a spec (or component) as ``(field path, text)``.

    Paths use the source-map convention: ``subject.description``, ``motion.directives[1]``,
    ``shots[0].scene.environment``. URLs, ids and enum settings are skipped.
    """
    for name in type(model).model_fields:
        if name in _NON_TEXT_KEYS:
            continue
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, BaseModel):
            yield from iter_text_fields(value, f"{path}.")
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield f"{path}[{i}]", item
                elif isinstance(item, BaseModel):
                    yield from iter_text_fields(item, f"{path}[{i}].")


def load_spec(data: Any, *, source: str | None = None) -> PromptSpec:
    """Validate plain data (from YAML, JSON or a builder) into a :class:`PromptSpec`.

    Raises :class:`SpecError` naming ``source`` (a file name, when there is one) and each field.
    """
    if not isinstance(data, dict):
        where = f"{source}: " if source else ""
        raise SpecError(
            f"{where}a prompt spec must be a mapping of fields (mode, subject, ...), "
            f"not {type(data).__name__}"
        )
    try:
        return PromptSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, source=source) from None


def spec_error(exc: ValidationError, *, source: str | None = None) -> SpecError:
    """Turn a pydantic error into a :class:`SpecError` whose lines start with the field path."""
    lines: list[str] = []
    for err in exc.errors():
        loc = _loc_path(err.get("loc", ()))
        message = str(err.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            message = "unknown field; check its spelling and where it is nested"
        for part in message.split("\n"):
            lines.append(f"{loc}: {part}" if loc else part)
    where = f"{source}: " if source else ""
    if len(lines) == 1:
        return SpecError(f"{where}{lines[0]}")
    # One line, so the CLI's one-line error stays one line.
    return SpecError(f"{where}{len(lines)} problems: " + "; ".join(lines))


def _loc_path(loc: tuple[int | str, ...] | Any) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and not part.startswith("function-"):
            out += f".{part}" if out else part
    return out
