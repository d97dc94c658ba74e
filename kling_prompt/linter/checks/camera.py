"""KP7xx camera checks: counting moves, ambiguous zooms, the ``camera_control`` preset."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.rules import Context, RuleMeta, check

from .motion import camera_moves, clause_start, move_of


@check("KP702")
def too_many_camera_moves(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """More than ``max`` distinct camera moves in one shot."""
    maximum = int(ctx.option(meta, "max", 2))
    for a in ctx.texts(meta):
        if len(a.hits_for("camera")) <= maximum:
            continue  # moves are camera hits: too few to be too many
        moves = [h for h in camera_moves(a) if not a.in_quote(h.start)]
        if len(moves) <= maximum:
            continue
        for seg_start, seg_end in a.segments():
            found: dict[str, Any] = {}
            for hit in moves:
                move = move_of(hit)
                if (
                    move is not None
                    and move != "camera.static"
                    and seg_start <= hit.start < seg_end
                ):
                    found.setdefault(move, hit)
            if len(found) > maximum:
                hits = sorted(found.values(), key=lambda h: h.start)
                yield ctx.report(
                    meta,
                    field=a.field,
                    start=hits[0].start,
                    end=hits[-1].end,
                    count=len(found),
                    max=maximum,
                    matches=", ".join(a.text[h.start : h.end] for h in hits),
                )


# Words that may stand before "zoom in" without naming who moves ("a slow zoom in").
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "then",
        "slow",
        "slowly",
        "smooth",
        "smoothly",
        "quick",
        "quickly",
        "gradual",
        "gradually",
        "gentle",
        "gently",
        "subtle",
        "subtly",
        "steady",
        "steadily",
        "sudden",
        "suddenly",
        "fast",
        "rapid",
        "rapidly",
        "dramatic",
        "dramatically",
        "and",
        "finally",
        "now",
        "we",
        "also",
        "continuous",
        "continuously",
    ]
)
_TOKENS = lazy(r"[^\W\d_]+")


@check("KP703")
def ambiguous_camera(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """ "zoom in" / "move closer" with no subject: the camera or the subject may move."""
    for a in ctx.texts(meta):
        for hit in a.hits_for("camera-ambiguous"):
            if a.in_quote(hit.start) or any(k == "camera.operator" for k in hit.keys):
                continue
            operators = [o.start for o in a.hits_for("camera.operator") if o.start < hit.start]
            if operators:  # one in this sentence names the camera
                sentence = max((s for s, _ in a.sentences if s <= hit.start), default=0)
                if any(sentence <= start for start in operators):
                    continue
            words = _TOKENS.findall(a.lower[clause_start(a, hit.start) : hit.start])
            if any(w not in _FILLER for w in words):
                continue  # "she moves closer": a subject is named
            if "zoom" in hit.phrase and (words or not hit.phrase.startswith("zoom")):
                continue  # "a slow zoom in": a zoom is a lens move, so the camera is meant
            tail = a.lower[hit.end : hit.end + 30]
            if re.match(r"\s+(?:to|toward|towards)\s+(?:the\s+)?(?:camera|lens|viewer)", tail):
                continue
            yield ctx.report(
                meta, field=a.field, start=hit.start, end=hit.end, match=a.text[hit.start : hit.end]
            )
            break


# What each fal preset does, and the prompt moves that contradict it.
_PRESETS: dict[str, tuple[str, frozenset[str]]] = {
    "down_back": (
        "moves down and back",
        frozenset(("camera.push-in", "camera.zoom-in", "camera.crane-up", "camera.static")),
    ),
    "forward_up": (
        "moves forward and up",
        frozenset(("camera.pull-back", "camera.zoom-out", "camera.crane-down", "camera.static")),
    ),
    "right_turn_forward": (
        "turns right while moving forward",
        frozenset(("camera.pan-left", "camera.pull-back", "camera.zoom-out", "camera.static")),
    ),
    "left_turn_forward": (
        "turns left while moving forward",
        frozenset(("camera.pan-right", "camera.pull-back", "camera.zoom-out", "camera.static")),
    ),
}
# Kling's advanced camera axes: (negative direction, positive direction) as prompt categories.
# Kling's "pan" turns about the x-axis (down/up) and its "tilt" about the y-axis (left/right).
_AXES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "horizontal": (("moves left", "camera.truck-left"), ("moves right", "camera.truck-right")),
    "vertical": (("moves down", "camera.crane-down"), ("moves up", "camera.crane-up")),
    "pan": (("turns down", "camera.tilt-down"), ("turns up", "camera.tilt-up")),
    "tilt": (("turns left", "camera.pan-left"), ("turns right", "camera.pan-right")),
    "zoom": (("zooms in", "camera.zoom-in"), ("zooms out", "camera.zoom-out")),
}
_OPPOSITE = {
    "camera.truck-left": "camera.truck-right",
    "camera.crane-down": "camera.crane-up",
    "camera.tilt-down": "camera.tilt-up",
    "camera.pan-left": "camera.pan-right",
    "camera.zoom-in": "camera.zoom-out",
}
_OPPOSITE.update({v: k for k, v in list(_OPPOSITE.items())})


def _requested(arguments: Mapping[str, Any]) -> list[tuple[str, frozenset[str]]]:
    """(description, contradicting prompt categories) for each camera setting of the request."""
    out: list[tuple[str, frozenset[str]]] = []
    preset = arguments.get("camera_control")
    if isinstance(preset, str) and preset in _PRESETS:
        said, against = _PRESETS[preset]
        out.append((f"camera_control '{preset}' {said}", against))
    for name in ("camera_control", "advanced_camera_control"):
        value = arguments.get(name)
        if isinstance(value, Mapping):
            out.extend(_axes(name, value))
    return out


def _axes(name: str, value: Mapping[str, Any]) -> list[tuple[str, frozenset[str]]]:
    config = value.get("config") if isinstance(value.get("config"), Mapping) else None
    pairs: dict[str, Any] = {}
    if config is not None:
        pairs.update(config)
    elif "movement_type" in value:
        pairs[str(value["movement_type"])] = value.get("movement_value")
    out = []
    for axis, amount in pairs.items():
        if axis not in _AXES or isinstance(amount, bool) or not isinstance(amount, (int, float)):
            continue
        if amount == 0:
            continue
        said, category = _AXES[axis][0 if amount < 0 else 1]
        against = frozenset((_OPPOSITE[category], "camera.static"))
        out.append((f"{name} ({axis} {amount:g}) {said}", against))
    return out


@check("KP704")
def camera_control_conflict(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """A ``camera_control`` setting that contradicts the camera words of the prompt."""
    if "camera_control" not in ctx.arguments and "advanced_camera_control" not in ctx.arguments:
        return
    settings = _requested(ctx.arguments)
    if not settings:
        return
    for a in ctx.texts(meta):
        for hit in camera_moves(a):
            if a.in_quote(hit.start):
                continue
            keys = set(hit.keys)
            for said, against in settings:
                if keys & against:
                    yield ctx.report(
                        meta,
                        field=a.field,
                        start=hit.start,
                        end=hit.end,
                        match=a.text[hit.start : hit.end],
                        setting=said,
                    )
                    break
