"""``kling-prompt endpoints``, ``endpoint ID`` and ``schema ID``: browse the endpoint catalog.

Only argparse is imported at module level; the catalog (and pydantic, for ``schema``) are
imported inside the handlers so that other commands start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kling_prompt.catalog import EndpointInfo

_FLAG_FILTERS = (
    ("audio", "native_audio", "native audio (generate_audio)"),
    ("voices", "voices", "voices (voice_ids or per-element voice_id)"),
    ("elements", "elements", "elements (@Element1 ...)"),
    ("multi_shot", "multi_shot", "multi-shot prompts (multi_prompt)"),
    ("end_frame", "end_frame", "an end frame (end_image_url / tail_image_url)"),
    ("camera_control", "camera_control", "camera_control presets"),
)


def register(subparsers: Any) -> None:
    listing = subparsers.add_parser(
        "endpoints",
        help="list fal's Kling endpoints, filtered by mode, family, tier or capability",
        description="List the endpoints in the catalog with their durations, audio and price.",
    )
    listing.add_argument("--mode", help="e.g. text-to-video, image-to-video, motion-control")
    listing.add_argument("--family", help="e.g. v2.6, v3, O1, O3, v4")
    listing.add_argument("--tier", help="e.g. standard, pro, master, 4k, turbo-pro")
    for dest, _feature, text in _FLAG_FILTERS:
        listing.add_argument(
            "--" + dest.replace("_", "-"),
            dest=dest,
            action="store_true",
            help=f"only endpoints with {text}",
        )
    listing.add_argument(
        "--output-format", choices=("table", "json"), default="table", help="default: table"
    )
    listing.set_defaults(func=_endpoints)

    detail = subparsers.add_parser(
        "endpoint",
        help="show one endpoint: fields, limits, capabilities, roles and price",
        description="Show everything the catalog knows about one endpoint.",
    )
    detail.add_argument(
        "endpoint_id", metavar="ID", help="e.g. fal-ai/kling-video/v3/pro/text-to-video"
    )
    detail.add_argument(
        "--output-format", choices=("text", "json"), default="text", help="default: text"
    )
    detail.set_defaults(func=_endpoint)

    schema = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of an endpoint's input (or of prompt-file front matter)",
        description="Print a JSON Schema: of an endpoint's input, or with --prompt-file of the "
        "front matter of prompt files.",
    )
    schema.add_argument("endpoint_id", metavar="ID", nargs="?", help="endpoint id")
    schema.add_argument(
        "--prompt-file", action="store_true", help="print the prompt-file front-matter schema"
    )
    schema.set_defaults(func=_schema)


def _durations(info: EndpointInfo) -> str:
    caps = info.capabilities
    if not caps.durations:
        return "input" if caps.output_seconds != "unknown" else "-"
    values = [int(d) for d in caps.durations]
    contiguous = values == list(range(values[0], values[-1] + 1))
    text = (
        f"{values[0]}-{values[-1]}"
        if contiguous and len(values) > 2
        else ",".join(map(str, values))
    )
    return text + (" (int)" if caps.duration_type == "integer" else "")


def _audio(info: EndpointInfo) -> str:
    caps = info.capabilities
    if not caps.native_audio:
        return "-"
    return "on" if caps.audio_default else "off"


def _rate(info: EndpointInfo) -> str:
    price = info.price
    if not price.known:
        return "unknown"
    if price.by_resolution:
        rates = "/".join(f"{v:g}" for v in price.by_resolution.values())
        return f"${rates} ({price.confidence})"
    rate = f"${price.usd_per_second:g}"
    if price.audio_on is not None:
        rate += f"/{price.audio_on:g}"
    if price.voice_control is not None:
        rate += f"/{price.voice_control:g}"
    return f"{rate} ({price.confidence})"


def _summary(info: EndpointInfo) -> dict[str, Any]:
    price = info.price
    return {
        "id": info.id,
        "mode": info.mode,
        "family": info.family,
        "tier": info.tier,
        "status": info.status,
        "video": info.video,
        "durations": list(info.capabilities.durations or []),
        "duration_type": info.capabilities.duration_type,
        "native_audio": info.capabilities.native_audio,
        "audio_default": info.capabilities.audio_default,
        "price": {
            "kind": price.kind,
            "usd_per_second": price.usd_per_second,
            "audio_on": price.audio_on,
            "voice_control": price.voice_control,
            "by_resolution": price.by_resolution,
            "date": price.date,
            "confidence": price.confidence,
        },
    }


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _endpoints(args: argparse.Namespace) -> int:
    from kling_prompt import catalog

    filters: dict[str, Any] = {}
    for name in ("mode", "family", "tier"):
        if getattr(args, name):
            filters[name] = getattr(args, name)
    for dest, feature, _text in _FLAG_FILTERS:
        if getattr(args, dest):
            filters[feature] = True
    found = catalog.endpoints(**filters)
    if args.output_format == "json":
        print(json.dumps([_summary(i) for i in found], indent=2))
        return 0 if found else 1
    if not found:
        print("no endpoint matches these filters", file=sys.stderr)
        return 1
    rows = [["ID", "MODE", "FAMILY", "TIER", "DURATIONS", "AUDIO", "PRICE/S", "STATUS"]]
    for info in found:
        rows.append(
            [
                info.id,
                info.mode,
                info.family,
                info.tier or "-",
                _durations(info),
                _audio(info),
                _rate(info),
                info.status,
            ]
        )
    print(_table(rows))
    return 0


def _limits(field: Any) -> str:
    parts = []
    if field.max_length is not None:
        parts.append(f"max {field.max_length} chars")
    if field.minimum is not None or field.maximum is not None:
        parts.append(f"range {field.minimum}..{field.maximum}")
    if field.min_items is not None or field.max_items is not None:
        low = field.min_items if field.min_items is not None else 0
        high = field.max_items if field.max_items is not None else "*"
        parts.append(f"{low}-{high} items" + (" (prose)" if field.limit_source == "prose" else ""))
    if field.file:
        parts.append("file")
    return ", ".join(parts)


def _endpoint(args: argparse.Namespace) -> int:
    from kling_prompt import catalog

    try:
        info = catalog.get(args.endpoint_id)
    except catalog.CatalogError:
        nearest = catalog.close_matches(args.endpoint_id, catalog.endpoint_ids())
        hint = f"; did you mean {nearest[0]}?" if nearest else "; run 'kling-prompt endpoints'"
        print(
            f"kling-prompt endpoint: unknown endpoint {args.endpoint_id!r}{hint}", file=sys.stderr
        )
        return 2
    if args.output_format == "json":
        print(json.dumps(info.to_dict(), indent=2, ensure_ascii=False))
        return 0
    caps = info.capabilities
    out = [
        info.id,
        f"  mode {info.mode}, family {info.family}, tier {info.tier or '-'}, "
        f"status {info.status} ({info.status_text}), schema {info.schema_confidence}",
        "",
        "fields:",
    ]
    rows = [["NAME", "TYPE", "REQUIRED", "DEFAULT", "LIMITS"]]
    for field in info.fields.values():
        rows.append(
            [
                field.name,
                field.type_label(),
                "yes" if field.required else "",
                json.dumps(field.default) if field.has_default else "",
                _limits(field),
            ]
        )
    out += ["  " + line for line in _table(rows).splitlines()]
    if info.exclusive:
        out.append("  exactly one of: " + "; ".join(" | ".join(g) for g in info.exclusive))
    for rule in info.rules:
        out.append(f"  rule: {rule['text']} [{rule['source']}]")
    out += ["", "capabilities:"]
    flags = [f for f in catalog.FEATURES if caps.has(f)]
    out.append("  " + (", ".join(flags) if flags else "none of " + ", ".join(catalog.FEATURES)))
    if caps.native_audio:
        out.append(f"  audio: {caps.audio_field} (default {json.dumps(caps.audio_default)})")
    if caps.voices:
        limit = f", max {caps.max_voices}" if caps.max_voices else ""
        out.append(f"  voices: {caps.voices}{limit}")
    if caps.elements:
        out.append(f"  elements: {caps.element_type}")
    if caps.durations:
        out.append(f"  durations: {_durations(info)} s (default {caps.duration_default})")
    else:
        out.append(f"  output length: follows the {caps.output_seconds}")
    if caps.aspect_ratios:
        out.append(f"  aspect ratios: {', '.join(caps.aspect_ratios)}")
    if caps.prompt_max_chars:
        soft = "" if caps.prompt_max_chars_enforced else " (recommended, not enforced)"
        out.append(f"  prompt: max {caps.prompt_max_chars} chars{soft}")
    if caps.default_negative_prompt:
        out.append(f"  default negative prompt: {caps.default_negative_prompt!r}")
    for text in caps.reference_rules:
        out.append(f"  references: {text}")
    for name, media in caps.media.items():
        formats = ", ".join(media.get("formats", [])) or "?"
        limits = ", ".join(f"{k}={v}" for k, v in media.get("limits", {}).items())
        out.append(f"  {name}: {media['kind']} ({formats}){' ' + limits if limits else ''}")
    out += ["", "roles:"]
    out += [f"  {role} -> {name}" for role, name in info.roles.items()]
    out += ["", "price:"]
    price = info.price
    out.append(f"  {price.text}")
    out.append(
        f"  kind {price.kind}, date {price.date or 'unknown'}, confidence {price.confidence}"
    )
    for entry in info.pricing:
        if entry.superseded:
            out.append(f"  superseded: {entry.text} ({entry.date}, {entry.confidence})")
    print("\n".join(out))
    return 0


def _schema(args: argparse.Namespace) -> int:
    if args.prompt_file:
        if args.endpoint_id:
            print(
                "kling-prompt schema: give either an endpoint ID or --prompt-file", file=sys.stderr
            )
            return 2
        import importlib

        try:
            library = importlib.import_module("kling_prompt.library")
        except ModuleNotFoundError as exc:
            if exc.name not in {"kling_prompt.library", "kling_prompt"}:
                raise
            print(
                "kling-prompt schema: the prompt-file schema is not available in this version "
                "(kling_prompt.library is missing)",
                file=sys.stderr,
            )
            return 2
        front_matter_schema = getattr(library, "front_matter_schema", None)
        if front_matter_schema is None:
            print(
                "kling-prompt schema: kling_prompt.library has no front_matter_schema()",
                file=sys.stderr,
            )
            return 2
        print(json.dumps(front_matter_schema(), indent=2, ensure_ascii=False))
        return 0
    if not args.endpoint_id:
        print("kling-prompt schema: give an endpoint ID (or --prompt-file)", file=sys.stderr)
        return 2
    from kling_prompt import catalog

    print(json.dumps(catalog.json_schema(args.endpoint_id), indent=2, ensure_ascii=False))
    return 0
