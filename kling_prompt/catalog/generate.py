"""Build the shipped ``endpoints.json`` from the research file ``kling_endpoints.json``.

The research file describes fal's Kling endpoints the way its sources did (free-text modes, tiers
such as ``"pro (unlabelled)"``, prices as sentences). This module turns it into one normalized
shape the rest of the package reads without further parsing: fixed vocabularies for mode, family
and tier, JSON types per field, role and capability maps, cross-field rules and a price model.
Facts that the research states only in prose are written down here once, next to their source,
so that they are reviewable and the catalog stays a pure function of the reference.

Run ``python -m kling_prompt.catalog.generate PATH/TO/kling_endpoints.json [--output FILE]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
OUTPUT = Path(__file__).with_name("endpoints.json")

DEFAULT_NEGATIVE_PROMPT = "blur, distort, and low quality"
IMAGE_FORMATS = ["JPG", "PNG", "WEBP", "GIF", "AVIF"]
VIDEO_FORMATS = ["MP4", "MOV", "WEBM", "M4V", "GIF"]
MULTI_SHOT_LIMITS: dict[str, Any] = {
    "min_shots": 1,
    "max_shots": 6,
    "shot_durations": [str(n) for n in range(1, 16)],
    "max_total_seconds": 15,
    "shot_prompt_max_chars": 512,
    "shot_prompt_max_chars_source": "official Kling API (not stated by fal; not enforced)",
    "source": "fal v3 turbo description: 1-6 shots, total <= 15 s; shot duration enum from schema",
}

NON_VIDEO_MODES = {"tts", "voice-clone", "video-to-audio"}

_MODE_PREFIXES = (
    ("avatar", "avatar"),
    ("voice clone", "voice-clone"),
    ("lipsync", "lipsync"),
    ("text-to-speech", "tts"),
    ("video-to-audio", "video-to-audio"),
    ("video-edit", "video-edit"),
    ("video-reference", "video-reference"),
    ("effects", "effects"),
    ("elements", "elements"),
    ("motion-control", "motion-control"),
    ("text-to-video", "text-to-video"),
    ("image-to-video", "image-to-video"),
    ("reference-to-video", "reference-to-video"),
)

_SCHEMA_CONFIDENCE_PREFIXES = (
    ("schema", "schema"),
    ("prose", "prose"),
    ("inferred", "inferred"),
    ("historical", "historical"),
    ("partial", "partial"),
    ("names only", "names-only"),
)

INPUT_TYPES = (
    "KlingV3MultiPromptElement",
    "KlingV3ComboElementInput",
    "KlingV3ImageElementInput",
    "OmniVideoElementInput",
    "ElementInput",
    "DynamicMask",
    "Trajectory",
    "CameraControl",
)

# Kling 4.0 shots are described only as "per-shot prompts; video duration = sum of shot
# durations": the field names below are inferred from the v3 shot type.
KLING_V4_SHOT: dict[str, Any] = {
    "source": "inferred (kling/v4 llms.txt excerpt names per-shot prompts and durations only)",
    "required": ["prompt"],
    "fields": {
        "prompt": {"type": "string", "required": True, "nullable": False, "file": False},
        "duration": {
            "type": "integer",
            "required": False,
            "nullable": False,
            "file": False,
            "minimum": 1,
            "maximum": 30,
        },
    },
}

# Integer-typed fields that the research lists as "number" (its notes say integer).
_INTEGER_FIELDS = {("CameraControl", "movement_value"), ("Trajectory", "x"), ("Trajectory", "y")}

# Per-element reference images: "1-3 images supported" (prose, all element types).
_ELEMENT_MAX_REFERENCE_IMAGES = 3

# List-size caps that fal states only in field descriptions: (endpoint suffix, field) -> bounds.
_PROSE_LIST_LIMITS: dict[tuple[str, str], dict[str, int]] = {
    ("v2.6/pro/image-to-video", "voice_ids"): {"max_items": 2},
    ("v1.6/pro/elements", "input_image_urls"): {"max_items": 4, "min_items": 1},
    ("v1.6/standard/elements", "input_image_urls"): {"max_items": 4, "min_items": 1},
    ("v3/pro/motion-control", "elements"): {"max_items": 1},
    ("v3/standard/motion-control", "elements"): {"max_items": 1},
    ("kling/v4/image-to-video", "middle_image_urls"): {"max_items": 8},
    ("kling/v4/reference-to-video", "image_urls"): {"max_items": 10},
}

_O3_V2V_VIDEO_LIMITS = {
    "min_duration": 3,
    "max_duration": 15,
    "min_width": 720,
    "min_height": 720,
    "max_width": 3840,
    "max_height": 3840,
    "max_file_size": 209715200,
}

_PRICE_PATCHES: dict[str, dict[str, Any]] = {
    "fal-ai/kling-video/v3/standard/image-to-video": {
        "audio_on": 0.126,
        "voice_control": 0.154,
        "note": "audio and voice-control rates inferred from v3 standard text-to-video",
    },
    "kling/v4/text-to-video": {"by_resolution": {"720p": 0.157, "1080p": 0.235}},
    "kling/v4/image-to-video": {"by_resolution": {"720p": 0.157, "1080p": 0.235}},
    "kling/v4/reference-to-video": {
        "by_resolution": {"720p": 0.157, "1080p": 0.235},
        "video_reference": {
            "by_resolution": {"720p": 0.094, "1080p": 0.141},
            "billing": "input_plus_output_min_2x_output",
            "applies_when": ["video_urls"],
        },
    },
    "kling/v4/video-to-video/edit": {
        "by_resolution": {"720p": 0.094, "1080p": 0.141},
        "billing": "input_plus_output_min_2x_output",
    },
}

_PER_5S = re.compile(r"\$([\d.]+) for 5 s \+ \$([\d.]+) per additional second")


def _mode(raw: str) -> str:
    for prefix, mode in _MODE_PREFIXES:
        if raw.startswith(prefix):
            return mode
    raise ValueError(f"unrecognised mode {raw!r} in the reference")


def _family(version: str, endpoint_id: str) -> str:
    if "/ai-avatar/v2/" in endpoint_id:
        return "avatar-v2"
    if endpoint_id.endswith("/ai-avatar"):
        return "avatar-v1"
    if endpoint_id.endswith("/v1/tts"):
        return "tts-v1"
    if version in {"lipsync", "create-voice", "video-to-audio"}:
        return version
    if version in {"o1", "o3"}:
        return version.upper()
    return version


def _tier(raw: str | None) -> str | None:
    if raw is None or "|" in raw:
        return None
    return raw.split(" ", 1)[0]


def _status(raw: str, family: str) -> str:
    if raw.startswith("LEGACY"):
        return "legacy"
    if family == "v4":
        return "preview"
    if raw.startswith(("listed in fal-js", "live per fal")):
        return "current"
    return "unconfirmed"


def _schema_confidence(raw: str) -> str:
    for prefix, value in _SCHEMA_CONFIDENCE_PREFIXES:
        if raw.startswith(prefix):
            return value
    raise ValueError(f"unrecognised schema confidence {raw!r}")


def _field(raw: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """One field in the catalog's shape; keys whose value is empty are left out."""
    text = str(raw["type"])
    name = str(raw["name"])
    out: dict[str, Any] = {}
    items: str | None = None
    ref: str | None = None
    if text.startswith("list["):
        kind = "array"
        inner = text[5:-1]
        items = "string" if inner == "str" else inner
    elif text.startswith(("str", "string")):
        kind = "string"
    elif text == "bool":
        kind = "boolean"
    elif text == "number":
        kind = "integer" if (owner, name) in _INTEGER_FIELDS else "number"
    elif text == "integer":
        kind = "integer"
    else:
        kind = "object"
        ref = text
    required = bool(raw["required"])
    json_type = raw.get("json_type")
    nullable = "null" in json_type if isinstance(json_type, str) else not required
    is_file = "(URL" in text or (
        kind == "array" and items == "string" and name.endswith("_urls") and name != "voice_ids"
    )
    out["type"] = kind
    out["required"] = required
    out["nullable"] = nullable
    out["file"] = is_file
    if items is not None:
        out["items"] = items
    if ref is not None:
        out["ref"] = ref
    if raw.get("default") is not None:
        out["default"] = raw["default"]
    for source, target in (
        ("enum", "enum"),
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("maxLength", "max_length"),
        ("file_limits", "file_limits"),
    ):
        if raw.get(source) is not None:
            out[target] = raw[source]
    if name == "reference_image_urls":
        out["max_items"] = _ELEMENT_MAX_REFERENCE_IMAGES
        out["limit_source"] = "prose"
    if items == "KlingV3MultiPromptElement":
        out["min_items"] = MULTI_SHOT_LIMITS["min_shots"]
        out["max_items"] = MULTI_SHOT_LIMITS["max_shots"]
        out["limit_source"] = "prose"
    description = str(raw.get("description") or "").strip()
    if description:
        out["description"] = description
    if raw.get("notes"):
        out["notes"] = list(raw["notes"])
    return out


def _types(reference: Mapping[str, Any]) -> dict[str, Any]:
    shared = reference["shared_types"]
    types: dict[str, Any] = {}
    for name in INPUT_TYPES:
        raw = shared[name]
        fields = {str(f["name"]): _field(f, name) for f in raw["fields"]}
        types[name] = {
            "source": f"schema ({raw['resolved_type']})",
            "required": [n for n, f in fields.items() if f["required"]],
            "fields": fields,
        }
    types["KlingV4Shot"] = KLING_V4_SHOT
    return types


def _roles(fields: Mapping[str, Any], mode: str, types: Mapping[str, Any]) -> dict[str, str]:
    """Abstract input roles -> this endpoint's field names (they differ per family)."""
    roles: dict[str, str] = {}

    def put(role: str, *candidates: str) -> None:
        for name in candidates:
            if name in fields:
                roles[role] = name
                return

    put("prompt", "prompt")
    if mode == "motion-control" or mode == "avatar":
        put("character_image", "image_url")
    else:
        put("start_image", "start_image_url", "image_url")
    put("end_image", "end_image_url", "tail_image_url")
    put("reference_images", "image_urls", "input_image_urls")
    put("keyframes", "middle_image_urls")
    put("video", "video_url")
    put("reference_videos", "video_urls")
    put("elements", "elements")
    put("voices", "voice_ids")
    element_type = fields.get("elements", {}).get("items")
    if element_type and "voice_id" in types[element_type]["fields"]:
        roles["element_voices"] = "elements[].voice_id"
    put("multi_prompt", "multi_prompt")
    put("shot_type", "shot_type")
    put("audio", "generate_audio")
    put("duration", "duration")
    put("aspect_ratio", "aspect_ratio")
    put("resolution", "resolution")
    put("negative_prompt", "negative_prompt")
    put("cfg_scale", "cfg_scale")
    put("camera_control", "camera_control")
    put("advanced_camera_control", "advanced_camera_control")
    put("character_orientation", "character_orientation")
    put("keep_sound", "keep_original_sound", "keep_audio")
    put("static_mask", "static_mask_url")
    put("dynamic_masks", "dynamic_masks")
    put("effect", "effect_scene")
    put("audio_file", "audio_url")
    put("voice_sample", "voice_url")
    put("speech_text", "text")
    put("speech_voice", "voice_id")
    put("speech_language", "voice_language")
    put("speech_speed", "voice_speed")
    for name in ("sound_effect_prompt", "background_music_prompt", "asmr_mode"):
        put(name, name)
    return roles


def _media_kind(name: str) -> str:
    if "video" in name:
        return "video"
    if "audio" in name or name == "voice_url":
        return "audio"
    return "image"


def _media(endpoint_id: str, mode: str, family: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Accepted formats and size/length limits per file-input field."""
    media: dict[str, Any] = {}
    for name, field in fields.items():
        if not field["file"]:
            continue
        kind = _media_kind(name)
        entry: dict[str, Any] = {"kind": kind}
        if kind == "image":
            entry["formats"] = list(IMAGE_FORMATS)
        elif kind == "video":
            entry["formats"] = list(VIDEO_FORMATS)
        limits = dict(field.get("file_limits") or {})
        if family == "O3" and mode in {"video-edit", "video-reference"} and name == "video_url":
            entry["formats"] = ["MP4", "MOV"]
            limits.update(_O3_V2V_VIDEO_LIMITS)
            entry["note"] = (
                "2026-08 description: 3-15 s, 720-3840 px, <=200 MB (x-fal 2026-05-12 said "
                "3-10.05 s, 720-2160 px, 24-60 fps)"
            )
        elif mode in {"video-edit", "video-reference", "lipsync"} and name == "video_url":
            entry["formats"] = ["MP4", "MOV"]
        if family == "v3" and "/turbo/" in endpoint_id and name == "image_url":
            entry["formats"] = ["JPG", "PNG"]
            limits.update({"max_file_size": 52428800, "min_width": 300, "min_height": 300})
            limits.update({"min_aspect_ratio": 0.4, "max_aspect_ratio": 2.5})
        if mode == "motion-control" and name == "video_url":
            entry["orientation_seconds"] = {"image": [3, 10], "video": [3, 30]}
            entry["note"] = "character_orientation=image: 3-10 s; =video: 3-30 s"
        if name == "voice_url":
            entry["formats"] = ["MP3", "WAV", "MP4", "MOV"]
            limits.update({"min_duration": 5, "max_duration": 30})
        if limits:
            entry["limits"] = limits
        media[name] = entry
    return media


def _reference_rules(endpoint_id: str, mode: str, family: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if family == "O1" and mode == "reference-to-video":
        rules.append(
            {
                "kind": "max_total",
                "fields": ["elements", "image_urls"],
                "max": 7,
                "when_video": False,
                "text": "at most 7 in total: elements + reference images (+ start image)",
                "source": "prose",
            }
        )
    elif family in {"O1", "O3"} and mode in {"video-edit", "video-reference"}:
        rules.append(
            {
                "kind": "max_total",
                "fields": ["elements", "image_urls"],
                "max": 4,
                "when_video": False,
                "text": "at most 4 in total: elements + reference images, since a video is given",
                "source": "prose",
            }
        )
    elif family == "O3" and mode == "reference-to-video":
        rules.append(
            {
                "kind": "max_total",
                "fields": ["elements", "image_urls"],
                "max": 4,
                "when_video": True,
                "text": "at most 4 in total: elements + reference images when an element has a video",
                "source": "prose (2026-08; the 2026-05-12 o3/4k text said 7)",
            }
        )
    return rules


def _rules(
    endpoint_id: str, mode: str, family: str, fields: Mapping[str, Any], types: Mapping[str, Any]
) -> list[dict[str, Any]]:
    rules = _reference_rules(endpoint_id, mode, family)
    element_type = fields.get("elements", {}).get("items")
    if element_type and "video_url" in types[element_type]["fields"]:
        rules.append(
            {
                "kind": "max_video_elements",
                "field": "elements",
                "max": 1,
                "text": "a request can only have one element with a video",
                "source": "prose",
            }
        )
    if mode == "motion-control" and "elements" in fields:
        rules.append(
            {
                "kind": "requires",
                "field": "elements",
                "requires": {"character_orientation": "video"},
                "text": "elements are only allowed with character_orientation='video'",
                "source": "prose",
            }
        )
    multi = fields.get("multi_prompt")
    if multi is not None and multi.get("items") == "KlingV3MultiPromptElement":
        rules.append(
            {
                "kind": "max_total_shot_seconds",
                "field": "multi_prompt",
                "max": MULTI_SHOT_LIMITS["max_total_seconds"],
                "text": "shot durations must not add up to more than 15 s",
                "source": "prose (v3 turbo description)",
            }
        )
    return rules


def _duration(raw: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    field = fields.get("duration")
    if field is None:
        return {"durations": None, "duration_type": None, "duration_default": None}
    if field["type"] == "integer":
        low, high = int(field.get("minimum", 1)), int(field.get("maximum", 1))
        return {
            "durations": list(range(low, high + 1)),
            "duration_type": "integer",
            "duration_default": field.get("default"),
        }
    return {
        "durations": list(field.get("enum") or raw.get("durations") or []),
        "duration_type": "string",
        "duration_default": field.get("default"),
    }


def _output_seconds(mode: str, fields: Mapping[str, Any]) -> str:
    """What the output length follows, so pricing knows which seconds it bills."""
    if mode == "lipsync":
        return "input"
    if mode in {"avatar", "video-to-audio"}:
        return "input"
    if mode in {"motion-control", "video-edit"} or "duration" not in fields:
        return "input" if "video_url" in fields else "unknown"
    if "default" not in fields["duration"]:
        return "duration_or_input"
    return "duration"


def _capabilities(
    raw: Mapping[str, Any],
    endpoint_id: str,
    mode: str,
    family: str,
    fields: Mapping[str, Any],
    types: Mapping[str, Any],
    rules: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    audio = fields.get("generate_audio")
    elements = fields.get("elements")
    element_type = elements.get("items") if elements else None
    element_fields = types[element_type]["fields"] if element_type else {}
    if "voice_ids" in fields:
        voices: str | None = "voice_ids"
    elif "voice_id" in element_fields:
        voices = "element_voice_id"
    else:
        voices = None
    max_references: int | None = None
    for rule in rules:
        if rule["kind"] == "max_total":
            max_references = int(rule["max"])
    for name in ("input_image_urls", "image_urls"):
        if max_references is None and fields.get(name, {}).get("max_items") is not None:
            max_references = int(fields[name]["max_items"])
    prompt = fields.get("prompt")
    prompt_max = raw.get("prompt_max_chars") if "prompt" in fields else None
    negative = fields.get("negative_prompt")
    caps: dict[str, Any] = {
        "native_audio": audio is not None,
        "audio_field": "generate_audio" if audio is not None else None,
        "audio_default": audio.get("default", False) if audio is not None else None,
        "voices": voices,
        "max_voices": fields["voice_ids"].get("max_items") if "voice_ids" in fields else None,
        "elements": elements is not None,
        "element_type": element_type,
        "max_elements": elements.get("max_items") if elements else None,
        "max_video_elements": 1 if "video_url" in element_fields else None,
        "multi_shot": "multi_prompt" in fields,
        "end_frame": "end_image_url" in fields or "tail_image_url" in fields,
        "camera_control": "camera_control" in fields or "advanced_camera_control" in fields,
        "max_references": max_references,
        "reference_rules": [r["text"] for r in rules if r["kind"] == "max_total"],
        **_duration(raw, fields),
        "output_seconds": _output_seconds(mode, fields),
        "aspect_ratios": list(fields["aspect_ratio"]["enum"])
        if fields.get("aspect_ratio", {}).get("enum")
        else None,
        "prompt_max_chars": prompt_max,
        "prompt_max_chars_enforced": bool(prompt and prompt.get("max_length")),
        "negative_prompt_max_chars": negative.get("max_length") if negative else None,
        "default_negative_prompt": negative.get("default") if negative else None,
        "media": _media(endpoint_id, mode, family, fields),
        "multi_shot_limits": dict(MULTI_SHOT_LIMITS) if "multi_prompt" in fields else None,
    }
    if mode == "motion-control":
        caps["motion_control"] = {
            "orientations": list(fields["character_orientation"]["enum"]),
            "reference_seconds": {"image": [3, 10], "video": [3, 30]},
            "elements_require_orientation": "video" if elements is not None else None,
        }
    return caps


def _price(entries: Sequence[Mapping[str, Any]], endpoint_id: str) -> dict[str, Any]:
    """The normalized price model from the current (non-superseded) pricing entry."""
    current = next(
        (e for e in entries if not re.search(r"superseded|older", str(e["confidence"]))),
        entries[0],
    )
    text = str(current["text"])
    rate = current.get("usd_per_second")
    price: dict[str, Any] = {
        "kind": "unknown",
        "usd_per_second": rate,
        "audio_on": current.get("per_second_audio_on"),
        "voice_control": current.get("per_second_voice_control"),
        "billing": "output",
        "text": text,
        "date": current.get("date"),
        "confidence": current["confidence"],
        "source": current.get("source"),
    }
    if rate is not None:
        per_5s = _PER_5S.search(text)
        if per_5s:
            price.update(kind="per_5s_plus_per_second", base_usd=float(per_5s.group(1)))
            price["base_seconds"] = 5
        elif "regardless of audio" in text:
            price["kind"] = "flat_per_second"
        elif "per INPUT" in text:
            price.update(kind="per_input_second_rounded_5", round_up_to=5, billing="input")
        else:
            price["kind"] = "per_second"
    patch = _PRICE_PATCHES.get(endpoint_id)
    if patch:
        price.update(patch)
    return price


def _pricing_entries(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    keys = (
        "text",
        "usd_per_second",
        "per_second_audio_on",
        "per_second_voice_control",
        "date",
        "confidence",
        "source",
    )
    out = []
    for entry in entries:
        item = {k: entry.get(k) for k in keys}
        item["superseded"] = bool(re.search(r"superseded|older", str(entry["confidence"])))
        out.append(item)
    return out


def _removed_fields(history: Sequence[str]) -> dict[str, str]:
    removed: dict[str, str] = {}
    for line in history:
        match = re.match(r"(\d{4}-\d{2}-\d{2}): - (\w+)$", line)
        if match:
            removed[match.group(2)] = match.group(1)
    return removed


def _endpoint(raw: Mapping[str, Any], types: Mapping[str, Any]) -> dict[str, Any]:
    endpoint_id = str(raw["endpoint_id"])
    mode = _mode(str(raw["mode"]))
    family = _family(str(raw["version"]), endpoint_id)
    fields: dict[str, Any] = {}
    for item in raw["fields"]:
        field = _field(item, endpoint_id)
        for (suffix, name), bounds in _PROSE_LIST_LIMITS.items():
            if endpoint_id.endswith(suffix) and name == item["name"]:
                field.update(bounds)
                field["limit_source"] = "prose"
        fields[str(item["name"])] = field
    rules = _rules(endpoint_id, mode, family, fields, types)
    confidence = _schema_confidence(str(raw["schema_confidence"]))
    removed = {
        name: date for name, date in _removed_fields(raw["history"]).items() if name not in fields
    }
    return {
        "id": endpoint_id,
        "mode": mode,
        "family": family,
        "tier": _tier(raw.get("tier")),
        "video": mode not in NON_VIDEO_MODES,
        "status": _status(str(raw["status"]), family),
        "status_text": raw["status"],
        "schema_confidence": confidence,
        "schema_complete": confidence not in {"partial", "names-only"},
        "required": [str(n) for n in raw["required_fields"]],
        "exclusive": [list(group) for group in raw["mutually_exclusive"]],
        "fields": fields,
        "rules": rules,
        "roles": _roles(fields, mode, types),
        "capabilities": _capabilities(raw, endpoint_id, mode, family, fields, types, rules),
        "price": _price(raw["pricing"], endpoint_id),
        "pricing": _pricing_entries(raw["pricing"]),
        "removed_fields": removed,
        "prose_constraints": list(raw.get("prose_constraints") or []),
        "history": list(raw["history"]),
    }


def build(reference: Mapping[str, Any]) -> dict[str, Any]:
    """The catalog document for a parsed research file."""
    types = _types(reference)
    endpoints = sorted(
        (_endpoint(raw, types) for raw in reference["endpoints"]), key=lambda e: str(e["id"])
    )
    return {
        "format": FORMAT_VERSION,
        "generated_from": "kling_endpoints.json (research snapshot; see shared/reference)",
        "snapshot_sources": reference.get("snapshot_sources"),
        "constants": {
            "default_negative_prompt": DEFAULT_NEGATIVE_PROMPT,
            "image_formats": IMAGE_FORMATS,
            "video_formats": VIDEO_FORMATS,
            "multi_shot_limits": MULTI_SHOT_LIMITS,
        },
        "types": types,
        "endpoints": {str(e["id"]): e for e in endpoints},
    }


def render(catalog: Mapping[str, Any]) -> str:
    """Serialize deterministically, so regenerating gives a byte-identical file."""
    return json.dumps(catalog, indent=1, ensure_ascii=False) + "\n"


def generate(reference_path: Path, output: Path = OUTPUT) -> Path:
    with reference_path.open(encoding="utf-8") as handle:
        reference = json.load(handle)
    output.write_text(render(build(reference)), encoding="utf-8")
    return output


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kling_prompt.catalog.generate",
        description="Regenerate the shipped endpoint catalog from the research JSON.",
    )
    parser.add_argument("reference", type=Path, help="path to kling_endpoints.json")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="file to write")
    args = parser.parse_args(argv)
    try:
        path = generate(args.reference, args.output)
    except (OSError, ValueError, KeyError) as exc:
        print(f"generate: cannot build the catalog from {args.reference}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
