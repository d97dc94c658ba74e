"""KP7xx camera checks: counting moves, ambiguous zooms, the ``camera_control`` preset."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.lexicon import Hit, Matcher
from kling_prompt.linter.rules import Context, RuleMeta, check

from .motion import camera_moves, clause_start, move_of

# Per lexicon matcher: every move a camera hit can count as (``move_of`` of a hit of a phrase
# that carries the key ``camera``, as ``camera_moves`` takes them), but the static camera.
_MOVE_KEYS: dict[Matcher, frozenset[str]] = {}


def _move_keys(matcher: Matcher) -> frozenset[str]:
    found = _MOVE_KEYS.get(matcher)
    if found is None:
        # Once per matcher (a fraction of a millisecond): phrases share a few sets of keys.
        key_sets = {matcher.keys_of_match(phrase) for phrase in matcher.phrases("camera")}
        moves = {move_of(Hit(0, 0, "", keys, None)) for keys in key_sets}
        if len(_MOVE_KEYS) > 16:
            _MOVE_KEYS.clear()
        found = _MOVE_KEYS[matcher] = frozenset(m for m in moves if m and m != "camera.static")
    return found


@check("KP702")
def too_many_camera_moves(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """More than ``max`` distinct camera moves in one shot."""
    if ctx.matcher is None:
        return ()  # no lexicon, no hits
    maximum = max(0, int(ctx.option(meta, "max", 2)))  # below zero reads as zero
    # Each move counted is a key of the text: too few move keys, too few moves.
    moves = _move_keys(ctx.matcher)
    for a in ctx.texts(meta):
        if len(a.keys & moves) > maximum:
            return _too_many_camera_moves(ctx, meta, maximum, moves)
    return ()


def _too_many_camera_moves(
    ctx: Context, meta: RuleMeta, maximum: int, move_keys: frozenset[str]
) -> Iterator[Diagnostic]:
    for a in ctx.texts(meta):
        if len(a.keys & move_keys) <= maximum or len(a.hits_for("camera")) <= maximum:
            continue  # each move is a camera hit and a key: too few to be too many
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
_TOWARD_CAMERA = lazy(r"\s+(?:to|toward|towards)\s+(?:the\s+)?(?:camera|lens|viewer)")


@check("KP703")
def ambiguous_camera(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """ "zoom in" / "move closer" with no subject: the camera or the subject may move."""
    # Each test below only excuses a hit; the cheap ones come first.
    for a in ctx.texts(meta):
        for hit in a.hits_for("camera-ambiguous"):
            phrase = hit.phrase
            zoom = "zoom" in phrase
            if (zoom and not phrase.startswith("zoom")) or "camera.operator" in hit.keys:
                continue  # a zoom named after another word is a lens move; or the camera is named
            words = _TOKENS.findall(a.lower[clause_start(a, hit.start) : hit.start])
            if words and (zoom or any(w not in _FILLER for w in words)):
                continue  # "she moves closer": a subject is named; "a slow zoom in": a lens move
            if _TOWARD_CAMERA.match(a.lower[hit.end : hit.end + 30]) or a.in_quote(hit.start):
                continue
            operators = [o.start for o in a.hits_for("camera.operator") if o.start < hit.start]
            if operators:  # one in this sentence names the camera
                sentence = max((s for s, _ in a.sentences if s <= hit.start), default=0)
                if any(sentence <= start for start in operators):
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
