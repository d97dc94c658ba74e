"""Rendering a :class:`~kling_prompt.spec.PromptSpec` into a :class:`~kling_prompt.request.Request`.

The prompt text comes from the Jinja templates in ``templates/`` (one per mode, plus partials per
component), rendered in a sandboxed environment with ``StrictUndefined`` so a template typo fails
loudly instead of dropping a part of the prompt.

Source map convention
---------------------
Every author value reaches a template as a :class:`Field`, which prints as the value wrapped in
private-use markers carrying its field path (``U+E000 path U+E001 value U+E002``). After
rendering, :func:`_finish` strips the markers and records which field produced each character.
Normalization (whitespace, doubled punctuation at the seams between parts, capitals at sentence
starts) only deletes characters or changes their case, so every kept character keeps its origin.
The result: one :class:`~kling_prompt.request.Span` per field occurrence, with
``Origin(field="subject.description")``, ``Origin(field="motion.directives[1]")``,
``Origin(field="shots[0].scene.environment")``, ... Text the templates add themselves (``"At the "``,
``"Foreground: "``, ``"++"``, ``"@Element1 is "``) is glue and is deliberately left unmapped, so
``SourceMap.locate`` returns ``None`` there and lint reports fall back to the request field.

Endpoint routing goes through :func:`_resolve` only: the catalog's ``route`` when it is available,
otherwise a small per-mode default table.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from kling_prompt.errors import RoutingError, TemplateError
from kling_prompt.request import Origin, Request, SourceMap, Span
from kling_prompt.resources import templates_dir
from kling_prompt.spec import (
    Camera,
    DialogueLine,
    Element,
    Motion,
    PromptSpec,
    Scene,
    Shot,
    Style,
    Subject,
)

__all__ = ["Field", "format_seconds", "prompt_text", "render", "template_environment"]

_OPEN, _MID, _CLOSE = "\ue000", "\ue001", "\ue002"
_GLUE = -1
_PUNCT = ",.;:!?…"
_TERMINAL = ".!?…"
_STRENGTH = {".": 4, "!": 4, "?": 4, "…": 4, ";": 3, ":": 2, ",": 1}
_OPENERS = " \"'[(“‘"
_CLOSERS = "\"')]”’"


class Field:
    """An author value inside a template; prints as the value wrapped in source-map markers.

    Templates should place fields, not transform them: a filter such as ``upper`` would also
    change the marker's path.
    """

    __slots__ = ("path", "value")

    def __init__(self, value: str, path: str) -> None:
        self.value = value
        self.path = path

    def __str__(self) -> str:
        return f"{_OPEN}{self.path}{_MID}{self.value}{_CLOSE}"

    def __repr__(self) -> str:
        return f"Field({self.value!r}, {self.path!r})"


def format_seconds(value: float) -> str:
    """How a time in seconds is written in a prompt: ``3``, ``2.5``."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- templates


@functools.lru_cache(maxsize=4)
def _environment(directory: str) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def template_environment() -> SandboxedEnvironment:
    """The sandboxed Jinja environment over :func:`~kling_prompt.resources.templates_dir`.

    Created on first use and cached per templates folder, so importing this module stays cheap
    and ``KLING_PROMPT_TEMPLATES_DIR`` can point at another folder.
    """
    return _environment(str(templates_dir()))


def _template_name(mode: str) -> str:
    return mode.replace("-", "_") + ".j2"


def _render_template(name: str, context: Mapping[str, Any]) -> str:
    try:
        return template_environment().get_template(name).render(context)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"template {exc.name!r} not found in {templates_dir()}; reinstall kling-prompt or "
            "fix KLING_PROMPT_TEMPLATES_DIR"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"{exc.filename or exc.name or name}:{exc.lineno}: template syntax error: {exc.message}"
        ) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{name}: template failed: {exc}") from None


# --------------------------------------------------------------------------- views


def _opt(value: str | None, path: str) -> Field | None:
    return None if value is None else Field(value, path)


def _many(values: Sequence[str], path: str) -> list[Field]:
    return [Field(v, f"{path}[{i}]") for i, v in enumerate(values)]


def _subject_view(subject: Subject | None, p: str) -> dict[str, Any] | None:
    if subject is None:
        return None
    return {
        "description": Field(subject.description, f"{p}subject.description"),
        "attributes": _many(subject.attributes, f"{p}subject.attributes"),
    }


def _motion_view(motion: Motion | None, p: str) -> dict[str, Any] | None:
    if motion is None:
        return None
    layers = motion.layers
    # Timed events are told in clip order; each keeps the index the author gave it.
    events = sorted(enumerate(motion.events), key=lambda pair: pair[1].at_seconds)
    return {
        "directives": _many(motion.directives, f"{p}motion.directives"),
        "sequence": _many(motion.sequence, f"{p}motion.sequence"),
        "layers": {
            name: _opt(getattr(layers, name) if layers else None, f"{p}motion.layers.{name}")
            for name in ("foreground", "midground", "background")
        },
        "events": [
            {
                "at": Field(format_seconds(e.at_seconds), f"{p}motion.events[{i}].at_seconds"),
                "description": Field(e.description, f"{p}motion.events[{i}].description"),
            }
            for i, e in events
        ],
    }


def _dialogue_view(lines: Sequence[DialogueLine], p: str, spec: PromptSpec) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    previous: str | None = None
    for i, line in enumerate(lines):
        voice = line.voice
        if voice is None:
            voice = next(
                (n for n, v in enumerate(spec.voices, 1) if v.speaker == line.speaker), None
            )
        link = None
        if previous is not None and line.speaker != previous:
            link = "Immediately" if line.link == "immediately" else "Then"
        previous = line.speaker
        out.append(
            {
                "link": link,
                "speaker": Field(line.speaker, f"{p}dialogue[{i}].speaker"),
                "tone": _opt(line.tone, f"{p}dialogue[{i}].tone"),
                "voice": f"<<<voice_{voice}>>>" if voice is not None else None,
                "text": Field(line.text, f"{p}dialogue[{i}].text"),
            }
        )
    return out


def _scene_view(scene: Scene | None, p: str) -> dict[str, Any] | None:
    if scene is None:
        return None
    return {
        name: _opt(getattr(scene, name), f"{p}scene.{name}")
        for name in ("environment", "time_of_day", "weather", "lighting")
    }


def _camera_view(camera: Camera | None, p: str) -> dict[str, Any] | None:
    if camera is None or not camera.has_text:
        return None
    return {
        "framing": _opt(camera.framing, f"{p}camera.framing"),
        "moves": _many(camera.moves, f"{p}camera.moves"),
        "lens": _opt(camera.lens, f"{p}camera.lens"),
    }


def _style_view(style: Style | None, p: str) -> dict[str, Any] | None:
    if style is None:
        return None
    presets: list[Field] = []
    if style.presets:
        from kling_prompt.craft.styles import resolve

        for i, preset in enumerate(resolve(style.presets)):
            presets += [Field(text, f"{p}style.presets[{i}]") for text in preset.phrases]
    return {
        "look": _opt(style.look, f"{p}style.look"),
        "medium": _opt(style.medium, f"{p}style.medium"),
        "lens": _opt(style.lens, f"{p}style.lens"),
        "film": _many(style.film, f"{p}style.film") + presets,
    }


def _references_view(spec: PromptSpec) -> dict[str, Any]:
    return {
        "elements": [
            {"tag": f"@Element{i + 1}", "label": Field(e.label, f"elements[{i}].label")}
            for i, e in enumerate(spec.elements)
            if e.label is not None
        ],
        "images": [
            {"tag": f"@Image{i + 1}", "label": Field(r.label, f"reference_images[{i}].label")}
            for i, r in enumerate(spec.reference_images)
            if r.label is not None
        ],
    }


def _edit_view(spec: PromptSpec) -> dict[str, Any] | None:
    if spec.edit is None and not spec.edits:
        return None
    return {
        "instruction": _opt(spec.edit, "edit"),
        "mentions_video": spec.edit is not None and "@Video1" in spec.edit,
        "ops": [
            {
                "verb": op.action.capitalize(),
                "target": Field(op.target, f"edits[{i}].target"),
                "to": _opt(op.to, f"edits[{i}].to"),
                "image": f"@Image{op.image}" if op.image is not None else None,
            }
            for i, op in enumerate(spec.edits)
        ],
        "keep": _many(spec.keep, "keep"),
    }


def _context(spec: PromptSpec) -> dict[str, Any]:
    return {
        "mode": spec.mode,
        "lead": _many(spec.emphasis, "emphasis"),
        "subject": _subject_view(spec.subject, ""),
        "references": _references_view(spec),
        "motion": _motion_view(spec.motion, ""),
        "dialogue": _dialogue_view(spec.dialogue, "", spec),
        "scene": _scene_view(spec.scene, ""),
        "camera": _camera_view(spec.camera, ""),
        "style": _style_view(spec.style, ""),
        "edit": _edit_view(spec),
        "physics": _many(spec.physics, "physics"),
        "stability": _many(spec.stability, "stability"),
    }


def _shot_context(spec: PromptSpec, index: int, shot: Shot) -> dict[str, Any]:
    """A shot's own parts, with the spec's subject, scene, camera and style where it has none."""
    p = f"shots[{index}]."

    def own_or_shared(name: str) -> tuple[Any, str]:
        value = getattr(shot, name)
        return (value, p) if value is not None else (getattr(spec, name), "")

    subject, sp = own_or_shared("subject")
    scene, cp = own_or_shared("scene")
    camera, kp = own_or_shared("camera")
    style, yp = own_or_shared("style")
    references = _references_view(spec) if index == 0 else {"elements": [], "images": []}
    return {
        "mode": spec.mode,
        "lead": _many(spec.emphasis, "emphasis") + _many(shot.emphasis, f"{p}emphasis"),
        "subject": _subject_view(subject, sp),
        "references": references,
        "motion": _motion_view(shot.motion, p),
        "dialogue": _dialogue_view(shot.dialogue, p, spec),
        "scene": _scene_view(scene, cp),
        "camera": _camera_view(camera, kp),
        "style": _style_view(style, yp),
        "edit": None,
        "physics": _many(spec.physics, "physics"),
        "stability": _many(spec.stability, "stability"),
    }


# --------------------------------------------------------------------------- normalization


@dataclass
class _Text:
    """Characters with the occurrence (marker) each came from; ``_GLUE`` for template text."""

    chars: list[str]
    occ: list[int]
    paths: list[str]

    def keep(self, mask: Sequence[bool]) -> None:
        self.chars = [c for c, k in zip(self.chars, mask, strict=True) if k]
        self.occ = [o for o, k in zip(self.occ, mask, strict=True) if k]


def _parse(rendered: str) -> _Text:
    chars: list[str] = []
    occ: list[int] = []
    paths: list[str] = []
    current = _GLUE
    i = 0
    while i < len(rendered):
        ch = rendered[i]
        if ch == _OPEN:
            mid = rendered.find(_MID, i)
            if current != _GLUE or mid < 0:
                raise TemplateError("a template nested or broke a field marker; print fields as-is")
            paths.append(rendered[i + 1 : mid])
            current = len(paths) - 1
            i = mid + 1
            continue
        if ch == _CLOSE:
            if current == _GLUE:
                raise TemplateError("a template broke a field marker; print fields as-is")
            current = _GLUE
        elif ch == _MID:
            raise TemplateError("a template broke a field marker; print fields as-is")
        else:
            chars.append(ch)
            occ.append(current)
        i += 1
    if current != _GLUE:
        raise TemplateError("a template cut a field marker short; print fields as-is")
    return _Text(chars, occ, paths)


def _squeeze_spaces(t: _Text) -> None:
    """One space between words, none at the ends or before punctuation."""
    t.chars = [" " if c.isspace() else c for c in t.chars]
    n = len(t.chars)
    mask = [True] * n
    i = 0
    while i < n:
        if t.chars[i] != " ":
            i += 1
            continue
        j = i
        while j < n and t.chars[j] == " ":
            j += 1
        run = range(i, j)
        if i == 0 or j == n or t.chars[j] in _PUNCT:
            for k in run:
                mask[k] = False
        else:
            keep = next((k for k in run if t.occ[k] == _GLUE), i)
            for k in run:
                mask[k] = k == keep
        i = j
    t.keep(mask)


def _fix_seams(t: _Text) -> None:
    """Resolve punctuation doubled where two parts meet (``"rope,." -> "rope."``).

    Runs inside one author value are left alone ("...", "?!"). Where glue meets author text the
    template's mark wins, except that the sentence end an author wrote at the end of a value
    replaces the template's period; marks leading the next value always give way.
    """
    n = len(t.chars)
    mask = [True] * n
    i = 0
    while i < n:
        if t.chars[i] not in _PUNCT:
            i += 1
            continue
        marks = [i]
        j = i + 1
        while j < n:
            if t.chars[j] in _PUNCT:
                marks.append(j)
                j += 1
            elif t.chars[j] == " " and j + 1 < n and t.chars[j + 1] in _PUNCT:
                j += 1
            else:
                break
        i = j
        owners = {t.occ[k] for k in marks}
        if len(marks) < 2 or (len(owners) == 1 and _GLUE not in owners):
            continue
        glue = [k for k in marks if t.occ[k] == _GLUE]
        field = [k for k in marks if t.occ[k] != _GLUE]
        if not glue:
            first = t.occ[field[0]]
            drop = [k for k in field if t.occ[k] != first]
        else:
            best = max(glue, key=lambda k: _STRENGTH[t.chars[k]])
            before = [k for k in field if k < best]
            ender = t.occ[before[-1]] if before else None
            if t.chars[best] == "." and any(
                t.chars[k] in _TERMINAL and t.occ[k] == ender for k in before
            ):
                drop = [k for k in marks if t.occ[k] != ender]
            else:
                drop = [k for k in marks if k != best]
        for k in drop:
            mask[k] = False
    t.keep(mask)


def _trim_edges(t: _Text) -> None:
    n = len(t.chars)
    start = 0
    while start < n and t.chars[start] in _PUNCT + " ":
        start += 1
    t.keep([k >= start for k in range(n)])


def _end_sentence(t: _Text) -> None:
    while t.chars and t.chars[-1] in ",;: ":
        t.keep([True] * (len(t.chars) - 1) + [False])
    if not t.chars:
        return
    k = len(t.chars) - 1
    while k > 0 and t.chars[k] in _CLOSERS:
        k -= 1
    if t.chars[k] not in _TERMINAL:
        t.chars.append(".")
        t.occ.append(_GLUE)


def _capitalize(t: _Text) -> None:
    """Capitalize an author value that starts a sentence, unless its first word has capitals."""
    seen: set[int] = set()
    for i, (ch, owner) in enumerate(zip(t.chars, t.occ, strict=True)):
        if owner == _GLUE or owner in seen or not ch.isalnum():
            continue
        seen.add(owner)
        if not ch.islower():
            continue
        k = i - 1
        emphasized = False
        while k >= 0 and (t.chars[k] in _OPENERS or t.chars[k] == "+"):
            emphasized = emphasized or t.chars[k] == "+"
            k -= 1
        if k >= 0 and t.occ[k] == owner:
            continue
        if emphasized or (k >= 0 and (t.chars[k] not in _TERMINAL or t.occ[k] == owner)):
            continue
        end = i
        while end < len(t.chars) and t.occ[end] == owner and t.chars[end].isalpha():
            end += 1
        upper = ch.upper()
        if len(upper) == 1 and "".join(t.chars[i:end]).islower():
            t.chars[i] = upper


def _finish(rendered: str, request_field: str, *, sentence: bool) -> tuple[str, list[Span]]:
    """Strip the field markers, normalize the text and return it with its spans."""
    t = _parse(rendered)
    _squeeze_spaces(t)
    _fix_seams(t)
    _squeeze_spaces(t)
    _trim_edges(t)
    if sentence:
        _end_sentence(t)
        _capitalize(t)
    text = "".join(t.chars)
    spans: list[Span] = []
    i = 0
    n = len(t.occ)
    while i < n:
        owner = t.occ[i]
        j = i
        while j < n and t.occ[j] == owner:
            j += 1
        if owner != _GLUE:
            start, end = i, j
            while start < end and text[start] == " ":
                start += 1
            while end > start and text[end - 1] == " ":
                end -= 1
            if start < end:
                spans.append(Span(request_field, start, end, Origin(t.paths[owner])))
        i = j
    return text, spans


# --------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class _Target:
    endpoint: str
    roles: Mapping[str, str]
    duration: Callable[[int], str | int]
    reference_seconds: Mapping[str, Sequence[float]] | None = None


# Abstract role -> the spec field that needs it (for error messages).
_ROLE_FIELDS = {
    "start_image": "start_image",
    "end_image": "end_image",
    "reference_images": "reference_images",
    "video": "video",
    "character_image": "character_image",
    "elements": "elements",
    "voices": "voices",
    "element_voices": "elements[].voice_id",
    "multi_prompt": "shots",
    "audio": "generate_audio",
    "duration": "duration",
    "aspect_ratio": "aspect_ratio",
    "negative_prompt": "negative_prompt",
    "camera_control": "camera.control",
    "character_orientation": "character_orientation",
    "keep_sound": "keep_sound",
}

_T2V_ROLES = {
    "duration": "duration",
    "aspect_ratio": "aspect_ratio",
    "audio": "generate_audio",
    "negative_prompt": "negative_prompt",
    "multi_prompt": "multi_prompt",
    "shot_type": "shot_type",
}
_I2V_ROLES = {
    "start_image": "start_image_url",
    "end_image": "end_image_url",
    "elements": "elements",
    "element_voices": "elements[].voice_id",
    "duration": "duration",
    "audio": "generate_audio",
    "negative_prompt": "negative_prompt",
    "multi_prompt": "multi_prompt",
    "shot_type": "shot_type",
}
_R2V_ROLES = {
    "start_image": "start_image_url",
    "end_image": "end_image_url",
    "reference_images": "image_urls",
    "elements": "elements",
    "element_voices": "elements[].voice_id",
    "duration": "duration",
    "aspect_ratio": "aspect_ratio",
    "audio": "generate_audio",
    "multi_prompt": "multi_prompt",
    "shot_type": "shot_type",
}
# Used only until kling_prompt.catalog provides route(); keep every endpoint fact here.
_FALLBACK: dict[str, tuple[str, dict[str, str]]] = {
    "text-to-video": ("fal-ai/kling-video/v3/pro/text-to-video", _T2V_ROLES),
    "image-to-video": ("fal-ai/kling-video/v3/pro/image-to-video", _I2V_ROLES),
    "reference-to-video": ("fal-ai/kling-video/o3/pro/reference-to-video", _R2V_ROLES),
    "motion-control": (
        "fal-ai/kling-video/v3/pro/motion-control",
        {
            "character_image": "image_url",
            "video": "video_url",
            "character_orientation": "character_orientation",
            "keep_sound": "keep_original_sound",
            "elements": "elements",
        },
    ),
    "video-edit": (
        "fal-ai/kling-video/o3/pro/video-to-video/edit",
        {
            "video": "video_url",
            "reference_images": "image_urls",
            "elements": "elements",
            "keep_sound": "keep_audio",
        },
    ),
}


def _roles(spec: PromptSpec) -> list[str]:
    """The abstract input roles a spec fills, which the chosen endpoint must accept."""
    wanted = {
        "start_image": spec.start_image is not None,
        "end_image": spec.end_image is not None,
        "reference_images": bool(spec.reference_images),
        "video": spec.video is not None,
        "character_image": spec.character_image is not None,
        "elements": bool(spec.elements),
        "voices": bool(spec.voices),
        "element_voices": any(e.voice_id is not None for e in spec.elements),
        "multi_prompt": bool(spec.shots),
        "audio": spec.generate_audio is not None,
        "duration": spec.total_duration() is not None,
        "aspect_ratio": spec.aspect_ratio is not None,
        "negative_prompt": spec.negative_prompt is not None,
        "camera_control": spec.camera is not None and spec.camera.control is not None,
        "character_orientation": spec.character_orientation is not None,
        "keep_sound": spec.keep_sound is not None,
    }
    return [role for role, used in wanted.items() if used]


def _catalog_api() -> Any | None:
    """``kling_prompt.catalog`` when it offers ``route`` and ``get``, else ``None``."""
    try:
        catalog = importlib.import_module("kling_prompt.catalog")
    except ImportError:
        return None
    if callable(getattr(catalog, "route", None)) and callable(getattr(catalog, "get", None)):
        return catalog
    return None


def _base_mode(spec: PromptSpec) -> str:
    """The generation mode an endpoint must serve; multi-shot rides on t2v, i2v or r2v."""
    if spec.mode != "multi-shot":
        return spec.mode
    if spec.reference_images or spec.elements:
        return "reference-to-video"
    if spec.start_image is not None:
        return "image-to-video"
    return "text-to-video"


def _resolve(spec: PromptSpec, roles: Sequence[str]) -> _Target:
    """Pick the endpoint, its field name per role and its duration format.

    The only place that knows about endpoints: it asks the catalog when there is one and falls
    back to one default endpoint per mode otherwise.
    """
    mode = _base_mode(spec)
    catalog = _catalog_api()
    if catalog is not None:
        if spec.endpoint is not None:
            info = catalog.get(spec.endpoint)
            if getattr(info, "mode", mode) != mode:
                raise RoutingError(
                    f"endpoint: {spec.endpoint} is a {info.mode} endpoint but the spec needs "
                    f"{mode}; choose a {mode} endpoint or leave endpoint out"
                )
        else:
            info = catalog.route(
                mode=mode, family=spec.family, tier=spec.tier, roles=tuple(roles)
            ).info
        capabilities = getattr(info, "capabilities", None)
        motion_control = getattr(capabilities, "motion_control", None) or {}
        return _Target(
            str(info.id),
            dict(info.roles),
            info.duration_value,
            motion_control.get("reference_seconds"),
        )

    default, table = _FALLBACK[mode]
    if spec.endpoint is None:
        parts = default.split("/")
        for name, wanted, actual in (
            ("family", spec.family, parts[2]),
            ("tier", spec.tier, parts[3]),
        ):
            if wanted is not None and wanted != actual:
                raise RoutingError(
                    f"{name}: choosing {name} {wanted!r} needs the endpoint catalog, which is "
                    f"not available in this installation; the default for {spec.mode} is "
                    f"{default}, or set the endpoint id explicitly"
                )
    return _Target(spec.endpoint or default, table, str)


# --------------------------------------------------------------------------- render


def render(spec: PromptSpec) -> Request:
    """Render a spec into the request fal will receive, with a source map back to the spec.

    Raises :class:`RoutingError` when the endpoint has no input for something the spec uses,
    :class:`TemplateError` for a broken template, and whatever the catalog raises for values
    the endpoint does not offer (a duration it lacks, an unknown endpoint id).
    """
    roles = _roles(spec)
    target = _resolve(spec, roles)

    def field_for(role: str) -> str:
        name = target.roles.get(role)
        if name is None:
            raise RoutingError(
                f"{_ROLE_FIELDS.get(role, role)}: endpoint {target.endpoint} has no input for "
                f"it; remove it or choose another endpoint (family, tier or endpoint id)"
            )
        return name

    for role in roles:
        field_for(role)
    _check_reference_duration(spec, target)
    source_map = SourceMap()
    arguments: dict[str, Any] = {}
    template = _template_name(spec.mode)
    if spec.shots:
        multi = field_for("multi_prompt")
        # Shot lengths follow the multi_prompt item type (1..15 s), not the clip's duration
        # enum, so only the endpoint's number format is borrowed.
        whole = target.duration(sum(s.duration for s in spec.shots))
        shot_duration: Callable[[int], str | int] = int if isinstance(whole, int) else str
        shots: list[dict[str, Any]] = []
        for i, shot in enumerate(spec.shots):
            text, spans = _finish(
                _render_template(template, _shot_context(spec, i, shot)),
                f"{multi}[{i}].prompt",
                sentence=True,
            )
            source_map.extend(spans)
            shots.append({"prompt": text, "duration": shot_duration(shot.duration)})
        arguments[multi] = shots
        if "shot_type" in target.roles:
            arguments[target.roles["shot_type"]] = "customize"
    else:
        prompt = target.roles.get("prompt", "prompt")
        text, spans = _finish(_render_template(template, _context(spec)), prompt, sentence=True)
        if text:
            arguments[prompt] = text
            source_map.extend(spans)

    for role, value in _media_arguments(spec, target):
        arguments[field_for(role)] = value
    if spec.negative_prompt is not None:
        name = field_for("negative_prompt")
        text, spans = _finish(
            str(Field(spec.negative_prompt, "negative_prompt")), name, sentence=False
        )
        arguments[name] = text
        source_map.extend(spans)
    # The request's mode is the endpoint's (multi-shot runs on a t2v, i2v or r2v endpoint), so
    # lint and the catalog can read it; the spec keeps "multi-shot".
    return Request(
        target.endpoint, arguments, source_map=source_map, mode=_base_mode(spec), spec=spec
    )


def _check_reference_duration(spec: PromptSpec, target: _Target) -> None:
    """Refuse a motion-control reference video outside the endpoint's range for the orientation."""
    seconds = spec.reference_duration
    if seconds is None or target.reference_seconds is None or spec.character_orientation is None:
        return
    from kling_prompt.craft.motion import reference_problem
    from kling_prompt.errors import SpecError

    problem = reference_problem(
        seconds, spec.character_orientation, target.reference_seconds, target.endpoint
    )
    if problem is not None:
        raise SpecError(problem)


def _media_arguments(spec: PromptSpec, target: _Target) -> Iterable[tuple[str, Any]]:
    total = spec.total_duration()
    values: list[tuple[str, Any]] = [
        ("start_image", spec.start_image),
        ("end_image", spec.end_image),
        ("character_image", spec.character_image),
        ("video", spec.video),
        ("character_orientation", spec.character_orientation),
        ("reference_images", [r.url for r in spec.reference_images] or None),
        ("elements", [_element_argument(e) for e in spec.elements] or None),
        ("voices", [v.voice_id for v in spec.voices] or None),
        ("duration", None if total is None else target.duration(total)),
        ("aspect_ratio", spec.aspect_ratio),
        ("audio", spec.generate_audio),
        ("keep_sound", spec.keep_sound),
        ("camera_control", spec.camera.control if spec.camera else None),
    ]
    return [(role, value) for role, value in values if value is not None]


def _element_argument(element: Element) -> dict[str, Any]:
    data = {
        "frontal_image_url": element.frontal_image_url,
        "reference_image_urls": list(element.reference_image_urls) or None,
        "video_url": element.video_url,
        "voice_id": element.voice_id,
    }
    return {key: value for key, value in data.items() if value is not None}


def prompt_text(request: Request) -> str:
    """The prompt of a request as one string: the prompt, or the shots' prompts one per line."""
    if request.prompt is not None:
        return request.prompt
    return "\n".join(text for field, text in request.text_fields() if field != "negative_prompt")
