"""Read-only access to the shipped endpoint catalog, with the standard library only.

The linter imports this module on every commit, so it must not pull in pydantic or anything else
heavy: the JSON file is parsed once, on first use, into small ``__slots__`` classes. The typed
pydantic input models live in :mod:`kling_prompt.catalog.models` and are built on demand.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from kling_prompt.errors import CatalogError, Problem, ValidationError

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "endpoints.json")

MODES = (
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
    "tts",
    "voice-clone",
    "video-to-audio",
)

# Generation families from oldest to newest; routing prefers the later ones.
FAMILY_ORDER = ("v1", "v1.5", "v1.6", "v2", "v2.1", "v2.5-turbo", "v2.6", "O1", "O3", "v3", "v4")

FEATURES = (
    "native_audio",
    "voices",
    "elements",
    "multi_shot",
    "end_frame",
    "camera_control",
)


class FieldInfo:
    """One input field of an endpoint or shared type, as fal's schema describes it."""

    __slots__ = (
        "default",
        "description",
        "enum",
        "file",
        "file_limits",
        "has_default",
        "items",
        "limit_source",
        "max_items",
        "max_length",
        "maximum",
        "min_items",
        "minimum",
        "name",
        "notes",
        "nullable",
        "ref",
        "required",
        "type",
    )

    def __init__(self, name: str, raw: Mapping[str, Any]) -> None:
        self.name = name
        self.type: str = raw["type"]
        self.required: bool = raw["required"]
        self.nullable: bool = raw["nullable"]
        self.file: bool = raw["file"]
        self.has_default = "default" in raw
        self.default: Any = raw.get("default")
        enum = raw.get("enum")
        self.enum: tuple[Any, ...] | None = tuple(enum) if enum is not None else None
        self.minimum: float | None = raw.get("minimum")
        self.maximum: float | None = raw.get("maximum")
        self.max_length: int | None = raw.get("max_length")
        self.min_items: int | None = raw.get("min_items")
        self.max_items: int | None = raw.get("max_items")
        self.limit_source: str | None = raw.get("limit_source")
        self.items: str | None = raw.get("items")
        self.ref: str | None = raw.get("ref")
        self.file_limits: dict[str, float] | None = raw.get("file_limits")
        self.description: str | None = raw.get("description")
        self.notes: tuple[str, ...] = tuple(raw.get("notes", ()))

    @property
    def nested(self) -> str | None:
        """The shared type this field holds (directly or as list items), if any."""
        if self.ref is not None:
            return self.ref
        if self.items is not None and self.items != "string":
            return self.items
        return None

    def type_label(self) -> str:
        """A short human type such as ``list[string]`` or ``"5" | "10"``."""
        if self.enum is not None and len(self.enum) <= 16:
            label = " | ".join(json.dumps(v) for v in self.enum)
        elif self.enum is not None:
            label = f"enum ({len(self.enum)} values)"
        elif self.type == "array":
            label = f"list[{self.items}]"
        elif self.type == "object":
            label = str(self.ref)
        else:
            label = self.type
        return f"{label} | null" if self.nullable and not self.required else label

    def __repr__(self) -> str:
        return f"FieldInfo({self.name!r}, {self.type_label()!r}, required={self.required})"


class TypeInfo:
    """A shared nested input type such as ``KlingV3MultiPromptElement``."""

    __slots__ = ("fields", "name", "required", "source")

    def __init__(self, name: str, raw: Mapping[str, Any]) -> None:
        self.name = name
        self.source: str = raw.get("source", "")
        self.required: tuple[str, ...] = tuple(raw.get("required", ()))
        self.fields: dict[str, FieldInfo] = {
            key: FieldInfo(key, value) for key, value in raw["fields"].items()
        }

    def __repr__(self) -> str:
        return f"TypeInfo({self.name!r}, fields={list(self.fields)})"


class Capabilities:
    """What an endpoint can do, summarised for routing, lint rules and builders."""

    __slots__ = (
        "aspect_ratios",
        "audio_default",
        "audio_field",
        "camera_control",
        "default_negative_prompt",
        "duration_default",
        "duration_type",
        "durations",
        "element_type",
        "elements",
        "end_frame",
        "max_elements",
        "max_references",
        "max_video_elements",
        "max_voices",
        "media",
        "motion_control",
        "multi_shot",
        "multi_shot_limits",
        "native_audio",
        "negative_prompt_max_chars",
        "output_seconds",
        "prompt_max_chars",
        "prompt_max_chars_enforced",
        "reference_rules",
        "voices",
    )

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.native_audio: bool = raw["native_audio"]
        self.audio_field: str | None = raw["audio_field"]
        self.audio_default: bool | None = raw["audio_default"]
        self.voices: str | None = raw["voices"]
        self.max_voices: int | None = raw["max_voices"]
        self.elements: bool = raw["elements"]
        self.element_type: str | None = raw["element_type"]
        self.max_elements: int | None = raw["max_elements"]
        self.max_video_elements: int | None = raw["max_video_elements"]
        self.multi_shot: bool = raw["multi_shot"]
        self.end_frame: bool = raw["end_frame"]
        self.camera_control: bool = raw["camera_control"]
        self.max_references: int | None = raw["max_references"]
        self.reference_rules: tuple[str, ...] = tuple(raw["reference_rules"])
        self.durations: tuple[str | int, ...] | None = (
            tuple(raw["durations"]) if raw["durations"] is not None else None
        )
        self.duration_type: str | None = raw["duration_type"]
        self.duration_default: str | int | None = raw["duration_default"]
        self.output_seconds: str = raw["output_seconds"]
        self.aspect_ratios: tuple[str, ...] | None = (
            tuple(raw["aspect_ratios"]) if raw["aspect_ratios"] is not None else None
        )
        self.prompt_max_chars: int | None = raw["prompt_max_chars"]
        self.prompt_max_chars_enforced: bool = raw["prompt_max_chars_enforced"]
        self.negative_prompt_max_chars: int | None = raw["negative_prompt_max_chars"]
        self.default_negative_prompt: str | None = raw["default_negative_prompt"]
        self.media: dict[str, dict[str, Any]] = raw["media"]
        self.multi_shot_limits: dict[str, Any] | None = raw["multi_shot_limits"]
        self.motion_control: dict[str, Any] | None = raw.get("motion_control")

    def has(self, feature: str) -> bool:
        """Whether the endpoint offers ``feature`` (one of :data:`FEATURES`)."""
        if feature not in FEATURES:
            raise CatalogError(
                f"unknown feature {feature!r}; known features: {', '.join(FEATURES)}"
            )
        return bool(getattr(self, feature))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out


class PriceModel:
    """How fal bills an endpoint, normalized from the current pricing entry."""

    __slots__ = (
        "audio_on",
        "base_seconds",
        "base_usd",
        "billing",
        "by_resolution",
        "confidence",
        "date",
        "kind",
        "note",
        "round_up_to",
        "source",
        "text",
        "usd_per_second",
        "video_reference",
        "voice_control",
    )

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.kind: str = raw["kind"]
        self.usd_per_second: float | None = raw.get("usd_per_second")
        self.audio_on: float | None = raw.get("audio_on")
        self.voice_control: float | None = raw.get("voice_control")
        self.base_usd: float | None = raw.get("base_usd")
        self.base_seconds: int | None = raw.get("base_seconds")
        self.round_up_to: int | None = raw.get("round_up_to")
        self.by_resolution: dict[str, float] | None = raw.get("by_resolution")
        self.video_reference: dict[str, Any] | None = raw.get("video_reference")
        self.billing: str = raw.get("billing", "output")
        self.text: str = raw.get("text", "")
        self.date: str | None = raw.get("date")
        self.confidence: str = raw.get("confidence", "unknown")
        self.source: str | None = raw.get("source")
        self.note: str | None = raw.get("note")

    @property
    def known(self) -> bool:
        return self.kind != "unknown" and self.usd_per_second is not None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class PriceEntry:
    """One price statement from the research, with its date, confidence and source."""

    __slots__ = (
        "confidence",
        "date",
        "per_second_audio_on",
        "per_second_voice_control",
        "source",
        "superseded",
        "text",
        "usd_per_second",
    )

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.text: str = raw["text"]
        self.usd_per_second: float | None = raw.get("usd_per_second")
        self.per_second_audio_on: float | None = raw.get("per_second_audio_on")
        self.per_second_voice_control: float | None = raw.get("per_second_voice_control")
        self.date: str | None = raw.get("date")
        self.confidence: str = raw["confidence"]
        self.source: str | None = raw.get("source")
        self.superseded: bool = raw.get("superseded", False)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class EndpointInfo:
    """Everything the catalog knows about one fal endpoint."""

    __slots__ = (
        "capabilities",
        "exclusive",
        "family",
        "fields",
        "history",
        "id",
        "mode",
        "price",
        "pricing",
        "prose_constraints",
        "raw",
        "removed_fields",
        "required",
        "roles",
        "rules",
        "schema_complete",
        "schema_confidence",
        "status",
        "status_text",
        "tier",
        "video",
    )

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.id: str = raw["id"]
        self.mode: str = raw["mode"]
        self.family: str = raw["family"]
        self.tier: str | None = raw["tier"]
        self.video: bool = raw["video"]
        self.status: str = raw["status"]
        self.status_text: str = raw["status_text"]
        self.schema_confidence: str = raw["schema_confidence"]
        self.schema_complete: bool = raw["schema_complete"]
        self.required: tuple[str, ...] = tuple(raw["required"])
        self.exclusive: tuple[tuple[str, ...], ...] = tuple(tuple(g) for g in raw["exclusive"])
        self.fields: dict[str, FieldInfo] = {
            name: FieldInfo(name, value) for name, value in raw["fields"].items()
        }
        self.rules: tuple[dict[str, Any], ...] = tuple(raw["rules"])
        self.roles: dict[str, str] = dict(raw["roles"])
        self.capabilities = Capabilities(raw["capabilities"])
        self.price = PriceModel(raw["price"])
        self.pricing: tuple[PriceEntry, ...] = tuple(PriceEntry(p) for p in raw["pricing"])
        self.removed_fields: dict[str, str] = dict(raw["removed_fields"])
        self.prose_constraints: tuple[str, ...] = tuple(raw["prose_constraints"])
        self.history: tuple[str, ...] = tuple(raw["history"])

    @property
    def routable(self) -> bool:
        """Chosen by routing without being asked for: live, with a schema fal published."""
        return self.status == "current" and self.schema_confidence in {"schema", "prose"}

    def field(self, name: str) -> FieldInfo:
        """The field called ``name``; raises :class:`CatalogError` naming the close matches."""
        try:
            return self.fields[name]
        except KeyError:
            hint = _suggest(name, self.fields)
            raise CatalogError(
                f"{self.id} has no input field {name!r}{hint}; "
                f"its fields are: {', '.join(self.fields)}"
            ) from None

    def accepts(self, name: str) -> bool:
        return name in self.fields

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the catalog record, in the data file's layout."""
        copied: dict[str, Any] = json.loads(json.dumps(self.raw))
        return copied

    def role_field(self, role: str) -> str | None:
        """This endpoint's field name for an abstract input role, or None if it has none."""
        return self.roles.get(role)

    def duration_value(self, seconds: int | str | float) -> str | int:
        """``seconds`` serialized the way this endpoint wants it (``"5"`` or ``5`` on v4).

        Raises :class:`ValidationError` when the endpoint has no duration input or does not
        offer that length, listing the lengths it does offer.
        """
        caps = self.capabilities
        if caps.durations is None:
            raise ValidationError(
                self.id,
                [
                    Problem(
                        "duration",
                        "this endpoint has no duration input: the output length follows the "
                        "input video; drop the duration",
                        "extra_forbidden",
                    )
                ],
            )
        number = _as_whole_seconds(seconds)
        offered = [int(d) for d in caps.durations]
        if number is None or number not in offered:
            choices = (
                f"{offered[0]}..{offered[-1]}"
                if caps.duration_type == "integer"
                else ", ".join(str(d) for d in offered)
            )
            raise ValidationError(
                self.id,
                [
                    Problem(
                        "duration",
                        f"{seconds!r} s is not offered; choose one of {choices}",
                        "literal_error",
                    )
                ],
            )
        return number if caps.duration_type == "integer" else str(number)

    def __repr__(self) -> str:
        return f"EndpointInfo({self.id!r}, mode={self.mode!r}, family={self.family!r}, tier={self.tier!r})"


def _as_whole_seconds(value: int | str | float) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = value.strip().lower().removesuffix("s").strip()
    return int(text) if text.isdigit() else None


def close_matches(name: str, choices: Iterable[str]) -> list[str]:
    """Up to three entries of ``choices`` that look like ``name`` (for "did you mean")."""
    import difflib

    return difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)


def _suggest(name: str, choices: Iterable[str]) -> str:
    matches = close_matches(name, choices)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"


class _Catalog:
    """The parsed data file; endpoint records become :class:`EndpointInfo` on first use."""

    __slots__ = ("_all", "_families", "_field_roles", "_infos", "_raw", "constants", "types")

    def __init__(self, document: Mapping[str, Any]) -> None:
        if document.get("format") != 1:
            raise CatalogError(
                f"the endpoint catalog {DATA_FILE} has format {document.get('format')!r}, "
                "expected 1; reinstall kling-prompt"
            )
        self.constants: dict[str, Any] = document["constants"]
        self.types: dict[str, TypeInfo] = {
            name: TypeInfo(name, value) for name, value in document["types"].items()
        }
        self._raw: dict[str, Any] = document["endpoints"]
        self._infos: dict[str, EndpointInfo] = {}
        self._all = False
        self._families: list[str] | None = None
        self._field_roles: dict[str, set[str]] | None = None

    def ids(self) -> list[str]:
        return list(self._raw)

    def info(self, endpoint_id: str) -> EndpointInfo | None:
        info = self._infos.get(endpoint_id)
        if info is None:
            raw = self._raw.get(endpoint_id)
            if raw is None:
                return None
            info = self._infos[endpoint_id] = EndpointInfo(raw)
        return info

    def all(self) -> list[EndpointInfo]:
        return [info for key in self._raw if (info := self.info(key)) is not None]

    def families(self) -> list[str]:
        if self._families is None:
            present = {raw["family"] for raw in self._raw.values()}
            ordered = [f for f in FAMILY_ORDER if f in present]
            self._families = sorted(present - set(ordered)) + ordered
        return self._families

    def field_roles(self) -> dict[str, set[str]]:
        if self._field_roles is None:
            roles: dict[str, set[str]] = {}
            for raw in self._raw.values():
                for role, name in raw["roles"].items():
                    roles.setdefault(name, set()).add(role)
            self._field_roles = roles
        return self._field_roles


_lock = threading.Lock()
_loaded: _Catalog | None = None


def _catalog() -> _Catalog:
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                try:
                    with open(DATA_FILE, encoding="utf-8") as handle:
                        document = json.load(handle)
                except (OSError, ValueError) as exc:
                    raise CatalogError(
                        f"cannot read the endpoint catalog {DATA_FILE}: {exc}; reinstall "
                        "kling-prompt or regenerate it with python -m kling_prompt.catalog.generate"
                    ) from exc
                _loaded = _Catalog(document)
    return _loaded


def get(endpoint_id: str) -> EndpointInfo:
    """The endpoint ``endpoint_id``; unknown ids raise :class:`CatalogError` with suggestions."""
    catalog = _catalog()
    info = catalog.info(endpoint_id)
    if info is not None:
        return info
    known = catalog.ids()
    import difflib

    matches = difflib.get_close_matches(endpoint_id, known, n=3, cutoff=0.5)
    if not matches and "/" not in endpoint_id:
        matches = [k for k in known if endpoint_id in k][:3]
    hint = f"; did you mean {' or '.join(matches)}?" if matches else ""
    raise CatalogError(
        f"unknown endpoint {endpoint_id!r}{hint} (run 'kling-prompt endpoints' to list them)"
    )


def endpoint_ids() -> list[str]:
    return _catalog().ids()


def text_limits() -> set[int]:
    """Every character limit a catalog endpoint puts on its ``prompt`` or ``negative_prompt``:
    the field's ``maxLength``, else the capability (``prompt_max_chars``,
    ``negative_prompt_max_chars``), for the endpoints that have the field. Read from the data
    file's records without building an :class:`EndpointInfo` for each."""
    found: set[int] = set()
    for raw in _catalog()._raw.values():
        caps = raw["capabilities"]
        for name, capability in (
            ("prompt", "prompt_max_chars"),
            ("negative_prompt", "negative_prompt_max_chars"),
        ):
            field = raw["fields"].get(name)
            if field is None:
                continue
            limit = field.get("max_length")
            if limit is None:
                limit = caps[capability]
            if limit is not None:
                found.add(int(limit))
    return found


def shared_type(name: str) -> TypeInfo:
    """A shared nested input type (``KlingV3ComboElementInput``, ``CameraControl``, ...)."""
    types = _catalog().types
    try:
        return types[name]
    except KeyError:
        hint = _suggest(name, types)
        raise CatalogError(
            f"unknown shared type {name!r}{hint}; known types: {', '.join(types)}"
        ) from None


def shared_types() -> dict[str, TypeInfo]:
    return dict(_catalog().types)


def constants() -> dict[str, Any]:
    """Catalog-wide facts: default negative prompt, media formats, multi-shot limits."""
    return dict(_catalog().constants)


def families() -> list[str]:
    """Every family in the catalog: the others (avatar, lipsync, ...) by name, then the
    generation families oldest first, so that a later position means "preferred"."""
    return list(_catalog().families())


def normalize_family(name: str) -> str:
    """``"o3"`` -> ``"O3"``, ``"3"`` -> ``"v3"``, ``"2.5"`` -> ``"v2.5-turbo"``; else CatalogError."""
    known = families()
    lowered = name.strip().lower()
    for candidate in (lowered, "v" + lowered, "v" + lowered + "-turbo"):
        for family in known:
            if family.lower() == candidate:
                return family
    hint = _suggest(name, known)
    raise CatalogError(f"unknown family {name!r}{hint}; known families: {', '.join(known)}")


def normalize_mode(name: str) -> str:
    mode = name.strip().lower().replace("_", "-").replace(" ", "-")
    if mode in MODES:
        return mode
    hint = _suggest(mode, MODES)
    raise CatalogError(f"unknown mode {name!r}{hint}; known modes: {', '.join(MODES)}")


def field_roles(name: str) -> set[str]:
    """The abstract roles a field name plays on any endpoint (``image_url`` -> start_image, ...)."""
    return set(_catalog().field_roles().get(name, ()))


_FILTERS = (
    "mode",
    "family",
    "tier",
    "status",
    "video",
    "routable",
    "accepts",
    "role",
    *FEATURES,
)


def endpoints(**filters: Any) -> list[EndpointInfo]:
    """Endpoints matching every filter, sorted by id.

    ``mode``, ``family``, ``tier`` and ``status`` compare values (family case-insensitively);
    ``accepts`` and ``role`` keep endpoints with that input field or abstract role; ``video``,
    ``routable`` and the capability flags (``native_audio``, ``voices``, ``elements``,
    ``multi_shot``, ``end_frame``, ``camera_control``) keep endpoints whose flag equals the
    given truth value. ``endpoints(mode="motion-control", native_audio=True)`` answers
    "which endpoints can do motion control with audio?".
    """
    unknown = sorted(set(filters) - set(_FILTERS))
    if unknown:
        raise CatalogError(
            f"unknown endpoint filter(s) {', '.join(unknown)}; use: {', '.join(_FILTERS)}"
        )
    mode = filters.get("mode")
    if mode is not None:
        mode = normalize_mode(mode)
    family = filters.get("family")
    if family is not None:
        family = normalize_family(family)
    out: list[EndpointInfo] = []
    for info in _catalog().all():
        if mode is not None and info.mode != mode:
            continue
        if family is not None and info.family != family:
            continue
        if "tier" in filters and info.tier != filters["tier"]:
            continue
        if "status" in filters and info.status != filters["status"]:
            continue
        if "video" in filters and info.video != bool(filters["video"]):
            continue
        if "routable" in filters and info.routable != bool(filters["routable"]):
            continue
        if "accepts" in filters and not info.accepts(filters["accepts"]):
            continue
        if "role" in filters and filters["role"] not in info.roles:
            continue
        if any(
            info.capabilities.has(feature) != bool(filters[feature])
            for feature in FEATURES
            if feature in filters
        ):
            continue
        out.append(info)
    return sorted(out, key=lambda e: e.id)


def _reset_cache() -> None:
    """Forget the parsed catalog (tests that swap the data file use this)."""
    global _loaded
    with _lock:
        _loaded = None
