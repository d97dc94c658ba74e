"""Cost estimates from the catalog's price models, with their date and confidence.

An estimate is never a guess dressed up as a number: when the price or the billed seconds are
unknown (a price nobody published, a lipsync input whose length was not given), ``usd`` is None
and ``basis`` says what is missing. Prices changed several times in 2026, so every estimate
carries the date and confidence of the rate it used; users can override rates from config.
Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kling_prompt.catalog import data
from kling_prompt.errors import ConfigError, SpecError

PRICE_KINDS = (
    "per_second",
    "per_5s_plus_per_second",
    "flat_per_second",
    "per_input_second_rounded_5",
    "unknown",
)
_NUMBER_KEYS = ("usd_per_second", "audio_on", "voice_control", "base_usd", "base_seconds")
_TEXT_KEYS = ("date", "confidence", "source", "note")
_KEY_ALIASES = {
    "per_second_audio_on": "audio_on",
    "per_second_voice_control": "voice_control",
}
OVERRIDE_KEYS = (*_NUMBER_KEYS, *_KEY_ALIASES, "kind", "by_resolution", *_TEXT_KEYS)


class CostEstimate:
    """The estimated price of one request and how it was computed."""

    __slots__ = (
        "basis",
        "confidence",
        "date",
        "endpoint",
        "known",
        "notes",
        "rate",
        "seconds",
        "usd",
    )

    def __init__(
        self,
        endpoint: str,
        *,
        usd: float | None,
        seconds: float | None,
        rate: float | None,
        basis: str,
        date: str | None,
        confidence: str,
        notes: list[str],
    ) -> None:
        self.endpoint = endpoint
        self.usd = usd
        self.known = usd is not None
        self.seconds = seconds
        self.rate = rate
        self.basis = basis
        self.date = date
        self.confidence = confidence
        self.notes = notes

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        usd = f"${self.usd:.4f}" if self.usd is not None else "unknown"
        return f"CostEstimate({self.endpoint!r}, {usd}, basis={self.basis!r})"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def load_price_overrides(mapping: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Check a ``{endpoint_id: {"usd_per_second": ..., "date": ...}}`` mapping from config.

    Returns the normalized mapping; raises :class:`ConfigError` naming the bad key and the fix.
    """
    if not isinstance(mapping, Mapping):
        raise ConfigError(
            "prices: expected a table of endpoint ids, e.g. "
            "{'fal-ai/kling-video/v3/pro/text-to-video': {'usd_per_second': 0.112}}"
        )
    known = data.endpoint_ids()
    out: dict[str, dict[str, Any]] = {}
    for endpoint_id, entry in mapping.items():
        if endpoint_id not in known:
            close = data.close_matches(str(endpoint_id), known)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise ConfigError(f"prices.{endpoint_id}: unknown endpoint id{hint}")
        if not isinstance(entry, Mapping):
            raise ConfigError(
                f"prices.{endpoint_id}: expected a table such as {{usd_per_second = 0.1}}"
            )
        normalized: dict[str, Any] = {}
        for key, value in entry.items():
            where = f"prices.{endpoint_id}.{key}"
            name = _KEY_ALIASES.get(str(key), str(key))
            if key not in OVERRIDE_KEYS:
                raise ConfigError(f"{where}: unknown key; use one of {', '.join(OVERRIDE_KEYS)}")
            if name in _NUMBER_KEYS:
                if not _number(value):
                    raise ConfigError(f"{where}: expected a non-negative number, got {value!r}")
                value = float(value) if name != "base_seconds" else int(value)
            elif name == "kind":
                if value not in PRICE_KINDS:
                    raise ConfigError(
                        f"{where}: unknown kind {value!r}; use {', '.join(PRICE_KINDS)}"
                    )
            elif name == "by_resolution":
                if not isinstance(value, Mapping) or not all(
                    isinstance(k, str) and _number(v) for k, v in value.items()
                ):
                    raise ConfigError(
                        f"{where}: expected a table of resolution -> USD per second, "
                        "e.g. {'720p': 0.157, '1080p': 0.235}"
                    )
                value = {k: float(v) for k, v in value.items()}
            elif not isinstance(value, str):
                raise ConfigError(f"{where}: expected a string, got {value!r}")
            normalized[name] = value
        out[str(endpoint_id)] = normalized
    return out


def _price(info: data.EndpointInfo, override: Mapping[str, Any] | None) -> dict[str, Any]:
    price = info.price.as_dict()
    if override:
        price.update(override)
        price["confidence"] = override.get("confidence", "override")
        price["date"] = override.get("date")
        price["text"] = f"override: {dict(override)}"
        if price["kind"] == "unknown" and price.get("usd_per_second") is not None:
            price["kind"] = "per_second"
    return price


def _seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _voice_control(arguments: Mapping[str, Any]) -> bool:
    if arguments.get("voice_ids"):
        return True
    elements = arguments.get("elements")
    return isinstance(elements, list) and any(
        isinstance(e, Mapping) and e.get("voice_id") for e in elements
    )


def _output_seconds(
    info: data.EndpointInfo,
    arguments: Mapping[str, Any],
    input_seconds: float | None,
    notes: list[str],
) -> tuple[float | None, str]:
    """The output length and, when it is unknown, why."""
    caps = info.capabilities
    how = caps.output_seconds
    if how in {"duration", "duration_or_input"}:
        if "duration" in arguments:
            value = _seconds(arguments["duration"])
            offered = [int(d) for d in caps.durations or ()]
            if value is None or value not in offered:
                return None, (
                    f"duration {arguments['duration']!r} is not offered by {info.id}, so fal "
                    "would reject the request"
                )
            return float(value), ""
        shots = arguments.get("multi_prompt")
        if caps.duration_type == "integer" and isinstance(shots, list) and shots:
            lengths = [
                _seconds(s.get("duration")) if isinstance(s, Mapping) else None for s in shots
            ]
            if all(n is not None and n > 0 for n in lengths):
                notes.append("length = the sum of the shot durations")
                return float(sum(n for n in lengths if n is not None)), ""
        if how == "duration":
            notes.append(f"duration not given: the default {caps.duration_default} s is used")
            return float(_seconds(caps.duration_default) or 0), ""
    if input_seconds is not None:
        if info.mode == "motion-control":
            orientation = arguments.get("character_orientation", "image")
            limits = (caps.motion_control or {}).get("reference_seconds", {})
            low, high = limits.get(orientation, [3, 30])
            if not low <= input_seconds <= high:
                notes.append(
                    f"a {input_seconds:g} s reference video is outside the {low}-{high} s "
                    f"allowed with character_orientation={orientation!r}"
                )
        notes.append(f"output length follows the {input_seconds:g} s input")
        return float(input_seconds), ""
    return None, "the output length follows the input, whose length is unknown: pass input_seconds"


def estimate_cost(
    endpoint_id: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    input_seconds: float | None = None,
) -> CostEstimate:
    """What a request with ``arguments`` would cost on ``endpoint_id``.

    ``input_seconds`` is the length of the input video or audio, for endpoints whose output or
    bill follows it (lipsync, motion control, video edits, avatars). ``overrides`` are config
    prices as accepted by :func:`load_price_overrides`; they win over the catalog.
    """
    info = data.get(endpoint_id)
    if input_seconds is not None and not (_number(input_seconds) and math.isfinite(input_seconds)):
        raise SpecError(
            f"input_seconds must be a non-negative number of seconds, got {input_seconds!r}"
        )
    args: Mapping[str, Any] = arguments or {}
    override = load_price_overrides(overrides).get(endpoint_id) if overrides else None
    price = _price(info, override)
    notes: list[str] = []
    if price.get("note"):
        notes.append(str(price["note"]))
    if "unconfirmed" in price["confidence"] or "inferred" in price["confidence"]:
        notes.append(f"price confidence is {price['confidence']}: {price['text']}")

    def result(
        usd: float | None, seconds: float | None, rate: float | None, basis: str
    ) -> CostEstimate:
        return CostEstimate(
            endpoint_id,
            usd=round(usd, 6) if usd is not None else None,
            seconds=seconds,
            rate=rate,
            basis=basis,
            date=price.get("date"),
            confidence=str(price["confidence"]),
            notes=notes,
        )

    kind = price["kind"]
    rate: float | None = price.get("usd_per_second")
    if kind == "unknown" or rate is None:
        return result(
            None,
            None,
            None,
            f"no known price for {endpoint_id} (research says: {info.price.text}); "
            "set one with a price override",
        )

    label = "per second"
    billing = price.get("billing", "output")
    by_resolution = price.get("by_resolution")
    resolution: str | None = None
    if by_resolution:
        field = info.fields.get("resolution")
        resolution = str(args.get("resolution") or (field.default if field else "1080p"))
        video_reference = price.get("video_reference")
        if video_reference and any(args.get(n) for n in video_reference["applies_when"]):
            by_resolution = video_reference["by_resolution"]
            billing = video_reference["billing"]
            notes.append("video references are billed on input + output length")
        if resolution not in by_resolution:
            return result(
                None, None, None, f"no rate known for resolution {resolution!r} on {endpoint_id}"
            )
        rate = float(by_resolution[resolution])
        label = f"per second at {resolution}"
    caps = info.capabilities
    if caps.native_audio and kind == "per_second":
        audio = bool(args.get(str(caps.audio_field), caps.audio_default))
        voices = _voice_control(args)
        if voices and not audio:
            notes.append("voices are given but generate_audio is false: no speech is generated")
        if audio and voices and price.get("voice_control") is not None:
            rate, label = float(price["voice_control"]), "per second with audio and voice control"
        elif audio and price.get("audio_on") is not None:
            rate, label = float(price["audio_on"]), "per second with native audio"
            if voices:
                notes.append("no voice-control surcharge is known for this endpoint")
        elif audio:
            notes.append("no separate audio-on rate is known; the base rate is used")
        else:
            label = "per second without audio"
    elif kind == "flat_per_second":
        label = "per second, the same with or without audio"

    if billing == "input" or kind == "per_input_second_rounded_5":
        if input_seconds is None:
            return result(
                None,
                None,
                rate,
                f"${rate} per input second, but the input length is unknown: pass input_seconds",
            )
        step = int(price.get("round_up_to") or 1)
        billed = float(math.ceil(input_seconds / step) * step)
        basis = (
            f"${rate} per input second x {billed:g} s ({input_seconds:g} s rounded up to {step} s)"
        )
        return result(rate * billed, billed, rate, basis)

    output, why = _output_seconds(info, args, input_seconds, notes)
    if output is None:
        return result(None, None, rate, f"${rate} {label}, but {why}")
    if billing == "input_plus_output_min_2x_output":
        if input_seconds is None:
            return result(
                None,
                None,
                rate,
                f"${rate} {label} on input + output length (at least 2x output, so at least "
                f"${rate * 2 * output:.4f}); pass input_seconds",
            )
        billed = max(input_seconds + output, 2 * output)
        basis = f"${rate} {label} x {billed:g} s (input + output, at least 2x output)"
        return result(rate * billed, billed, rate, basis)
    if kind == "per_5s_plus_per_second":
        base_usd = float(price.get("base_usd") or 0.0)
        base_seconds = int(price.get("base_seconds") or 5)
        extra = max(0.0, output - base_seconds)
        basis = f"${base_usd} for the first {base_seconds} s + ${rate} x {extra:g} additional s"
        return result(base_usd + rate * extra, output, rate, basis)
    basis = f"${rate} {label} x {output:g} s"
    return result(rate * output, output, rate, basis)
