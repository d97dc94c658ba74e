"""Routing: which endpoint serves a spec, and why; refusals that say where to go instead.

A spec is described by its mode, the abstract inputs it has (roles such as ``start_image``,
``end_image``, ``voices``) and the capabilities it needs (``native_audio``, ``multi_shot``...).
Field names differ per family, so routing works on roles and the chosen endpoint's ``roles`` map
gives the names to send. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kling_prompt.catalog import data
from kling_prompt.errors import CatalogError, RoutingError

TIER_ORDER = ("pro", "standard", "master", "turbo-pro", "turbo-standard", "4k", None)
PREFERENCES = ("newest", "cheapest", "quality", "fast")
_QUALITY_ORDER = ("4k", "master", "pro", "turbo-pro", "standard", "turbo-standard", None)
_FAST_ORDER = ("turbo-pro", "turbo-standard", "standard", "pro", "master", "4k", None)

FEATURE_ALIASES = {
    "audio": "native_audio",
    "native-audio": "native_audio",
    "multi-shot": "multi_shot",
    "multishot": "multi_shot",
    "end-frame": "end_frame",
    "camera-control": "camera_control",
}

# Fal-style argument names -> the abstract role they fill, for route_request.
ARGUMENT_ROLES = {
    "prompt": "prompt",
    "image_url": "start_image",
    "start_image_url": "start_image",
    "end_image_url": "end_image",
    "tail_image_url": "end_image",
    "image_urls": "reference_images",
    "input_image_urls": "reference_images",
    "middle_image_urls": "keyframes",
    "video_url": "video",
    "video_urls": "reference_videos",
    "elements": "elements",
    "voice_ids": "voices",
    "multi_prompt": "multi_prompt",
    "shot_type": "shot_type",
    "generate_audio": "audio",
    "duration": "duration",
    "aspect_ratio": "aspect_ratio",
    "resolution": "resolution",
    "negative_prompt": "negative_prompt",
    "cfg_scale": "cfg_scale",
    "camera_control": "camera_control",
    "advanced_camera_control": "advanced_camera_control",
    "character_orientation": "character_orientation",
    "keep_original_sound": "keep_sound",
    "keep_audio": "keep_sound",
    "static_mask_url": "static_mask",
    "dynamic_masks": "dynamic_masks",
    "effect_scene": "effect",
    "audio_url": "audio_file",
}

# Extra advice for refusals, keyed by what is missing.
_ADVICE = {
    "voices": "v3 and O3 bind voices per element (elements[].voice_id, v3 image-to-video and "
    "O3 reference-to-video); voice_ids (max 2) exists only on "
    "fal-ai/kling-video/v2.6/pro/image-to-video",
    "camera_control": "camera_control presets exist only on "
    "fal-ai/kling-video/v1/standard/text-to-video; on newer models describe the camera move "
    "in the prompt",
    "multi_shot": "multi-shot (multi_prompt) starts with v3 and O3",
    "native_audio": "native audio (generate_audio) exists on v2.6 pro, v3 and O3; O1 has none "
    "(its video-to-video endpoints can only keep the input's audio)",
}


class Route:
    """The chosen endpoint, the reasons for the choice and the other endpoints that would fit."""

    __slots__ = ("alternatives", "endpoint", "info", "reasons")

    def __init__(
        self, info: data.EndpointInfo, reasons: list[str], alternatives: list[str]
    ) -> None:
        self.info = info
        self.endpoint = info.id
        self.reasons = reasons
        self.alternatives = alternatives

    def field(self, role: str) -> str | None:
        """The chosen endpoint's field name for an abstract role."""
        return self.info.roles.get(role)

    def __repr__(self) -> str:
        return f"Route({self.endpoint!r}, reasons={self.reasons!r})"


def _features(features: Iterable[str]) -> list[str]:
    out = []
    for feature in features:
        name = FEATURE_ALIASES.get(feature, feature)
        if name not in data.FEATURES:
            raise RoutingError(
                f"unknown feature {feature!r}; known features: {', '.join(data.FEATURES)}"
            )
        out.append(name)
    return out


def _family_rank(info: data.EndpointInfo) -> int:
    order = data.families()
    return order.index(info.family) if info.family in order else -1


def _tier_rank(info: data.EndpointInfo, order: tuple[str | None, ...]) -> int:
    return order.index(info.tier) if info.tier in order else len(order)


def _rate(info: data.EndpointInfo) -> float:
    rate = info.price.usd_per_second
    return rate if rate is not None else float("inf")


def _sort_key(info: data.EndpointInfo, prefer: str) -> tuple[Any, ...]:
    newest = -_family_rank(info)
    if prefer == "cheapest":
        return (_rate(info), newest, _tier_rank(info, TIER_ORDER), info.id)
    if prefer == "quality":
        return (newest, _tier_rank(info, _QUALITY_ORDER), info.id)
    if prefer == "fast":
        return (newest, _tier_rank(info, _FAST_ORDER), info.id)
    return (newest, _tier_rank(info, TIER_ORDER), info.id)


def _missing(info: data.EndpointInfo, roles: list[str], features: list[str]) -> list[str]:
    missing = [f"input {role}" for role in roles if role not in info.roles]
    missing += [f"feature {feature}" for feature in features if not info.capabilities.has(feature)]
    return missing


def _supporters(mode: str, roles: list[str], features: list[str]) -> list[str]:
    found = []
    for info in data.endpoints(mode=mode):
        if not _missing(info, roles, features):
            found.append(info.id)
    return found


def _refuse(
    what: str, mode: str, roles: list[str], features: list[str], wanted: list[str]
) -> RoutingError:
    lines = [f"no {what} {'accepts' if roles else 'offers'} {', '.join(wanted)}"]
    supporters = _supporters(mode, roles, features)
    if supporters:
        lines.append(f"{mode} endpoints that do: {', '.join(supporters)}")
    else:
        elsewhere = sorted(
            {info.id for info in data.endpoints(video=True) if not _missing(info, roles, features)}
        )
        if elsewhere:
            shown = ", ".join(elsewhere[:6]) + (", ..." if len(elsewhere) > 6 else "")
            lines.append(f"endpoints of other modes that do: {shown}")
    if mode == "motion-control" and "native_audio" in features:
        lines.append(
            "motion control has no generate_audio; keep_original_sound=true keeps the "
            "reference video's sound"
        )
        features = [f for f in features if f != "native_audio"]
    for key in [*roles, *features]:
        if key in _ADVICE:
            lines.append(_ADVICE[key])
        elif key == "voices" or key == "element_voices":
            lines.append(_ADVICE["voices"])
    return RoutingError("; ".join(lines))


def route(
    *,
    mode: str,
    family: str | None = None,
    tier: str | None = None,
    roles: Iterable[str] = (),
    features: Iterable[str] = (),
    prefer: str | None = None,
) -> Route:
    """The endpoint that serves ``mode`` with these inputs and capabilities.

    Without ``family`` the newest family wins and legacy, preview or unconfirmed-schema
    endpoints are left out; without ``tier`` pro is preferred. ``prefer`` reorders the
    candidates: ``newest`` (default), ``cheapest`` (known price per second), ``quality``
    (4k, master, pro first) or ``fast`` (turbo first). Raises :class:`RoutingError` naming what
    is missing and the endpoints that do support it.
    """
    try:
        mode = data.normalize_mode(mode)
        family = data.normalize_family(family) if family else None
    except CatalogError as exc:
        raise RoutingError(str(exc)) from None
    preference = prefer or "newest"
    if preference not in PREFERENCES:
        raise RoutingError(f"unknown preference {prefer!r}; use one of {', '.join(PREFERENCES)}")
    wanted_roles = list(dict.fromkeys(roles))
    wanted_features = list(dict.fromkeys(_features(features)))

    pool = data.endpoints(mode=mode)
    if not pool:
        raise RoutingError(f"the catalog has no {mode} endpoint")
    reasons = [f"mode {mode}"]
    if family is not None:
        in_family = [i for i in pool if i.family == family]
        if not in_family:
            offered = sorted({i.family for i in pool}, key=lambda f: data.families().index(f))
            raise RoutingError(
                f"family {family} has no {mode} endpoint; {mode} is offered by "
                f"{', '.join(offered)}: {', '.join(i.id for i in pool if i.routable)}"
            )
        pool = in_family
        reasons.append(f"family {family} (asked for)")
    else:
        pool = [i for i in pool if i.routable]
    if tier is not None:
        in_tier = [i for i in pool if i.tier == tier]
        if not in_tier:
            tiers = sorted({str(i.tier) for i in pool})
            raise RoutingError(
                f"no {mode} endpoint{' in ' + family if family else ''} has tier {tier!r}; "
                f"tiers offered: {', '.join(tiers)}"
            )
        pool = in_tier
        reasons.append(f"tier {tier} (asked for)")

    fitting = [i for i in pool if not _missing(i, wanted_roles, wanted_features)]
    if not fitting:
        what = f"{mode} endpoint" + (f" in family {family}" if family else "")
        what += f" with tier {tier}" if tier else ""
        wanted = [*wanted_roles, *wanted_features]
        raise _refuse(what, mode, wanted_roles, wanted_features, wanted)

    fitting.sort(key=lambda i: _sort_key(i, preference))
    if family is None:
        current = [i for i in fitting if i.routable]
        fitting = current or fitting
    chosen = fitting[0]
    if family is None:
        reasons.append(f"family {chosen.family}: the newest that fits")
    if tier is None:
        reasons.append(
            f"tier {chosen.tier}: "
            + ("the default" if chosen.tier == "pro" else "the preferred tier available")
        )
    if preference != "newest":
        reasons.append(f"preference {preference}")
    for role in wanted_roles:
        reasons.append(f"input {role} -> {chosen.roles[role]}")
    for feature in wanted_features:
        reasons.append(f"feature {feature}")
    if chosen.status != "current":
        reasons.append(f"note: status {chosen.status} ({chosen.status_text})")
    return Route(chosen, reasons, [i.id for i in fitting[1:]])


def default_endpoint(mode: str) -> str:
    """The endpoint a builder uses for ``mode`` when the author names none."""
    return route(mode=mode).endpoint


def _element_voices(arguments: Mapping[str, Any]) -> bool:
    elements = arguments.get("elements")
    return isinstance(elements, list) and any(
        isinstance(e, Mapping) and e.get("voice_id") for e in elements
    )


def infer_mode(arguments: Mapping[str, Any]) -> str:
    """A best guess of the mode from fal-style argument names."""
    if "character_orientation" in arguments:
        return "motion-control"
    if "effect_scene" in arguments:
        return "effects"
    if "video_url" in arguments:
        return "video-reference" if "duration" in arguments else "video-edit"
    if "input_image_urls" in arguments:
        return "elements"
    if "image_urls" in arguments or "elements" in arguments or "video_urls" in arguments:
        return "reference-to-video"
    if "image_url" in arguments or "start_image_url" in arguments:
        return "image-to-video"
    return "text-to-video"


def roles_and_features(arguments: Mapping[str, Any], mode: str) -> tuple[list[str], list[str]]:
    """The abstract roles and features that fal-style ``arguments`` need."""
    roles: list[str] = []
    for name, value in arguments.items():
        if value is None or value is False:
            continue
        role = ARGUMENT_ROLES.get(name)
        if role is None:
            continue
        if name == "image_url" and mode in {"motion-control", "avatar"}:
            role = "character_image"
        roles.append(role)
    features: list[str] = []
    if arguments.get("generate_audio"):
        features.append("native_audio")
    if _element_voices(arguments):
        features.append("voices")
    return list(dict.fromkeys(roles)), features


def route_request(
    request_or_arguments: Any,
    *,
    mode: str | None = None,
    family: str | None = None,
    tier: str | None = None,
    prefer: str | None = None,
) -> Route:
    """Route a :class:`~kling_prompt.request.Request` or a fal-style arguments mapping.

    Roles and features are derived from the argument names (``tail_image_url`` -> end_image,
    ``generate_audio: true`` -> native_audio, ``elements[].voice_id`` -> voices); the mode comes
    from ``mode``, else the request's mode, else a guess from the arguments.
    """
    arguments = getattr(request_or_arguments, "arguments", request_or_arguments)
    if not isinstance(arguments, Mapping):
        raise RoutingError("route_request needs a Request or a mapping of fal arguments")
    chosen_mode = mode or getattr(request_or_arguments, "mode", None) or infer_mode(arguments)
    chosen_mode = data.normalize_mode(chosen_mode)
    roles, features = roles_and_features(arguments, chosen_mode)
    return route(
        mode=chosen_mode, family=family, tier=tier, roles=roles, features=features, prefer=prefer
    )
