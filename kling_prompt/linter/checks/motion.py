"""KP3xx motion and mode checks that need sentence structure (the rest are declarative).

The helpers here (clause starts, camera-move hits) are shared with the camera checks.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.lexicon import Hit
from kling_prompt.linter.rules import Context, RuleMeta, check
from kling_prompt.linter.text import Analysis

# Where a clause starts: punctuation, brackets, quotes, or a joining word.
_CLAUSE_BREAK = lazy(
    r"[,.;:!?\n()\[\]\"“”]|\b(?:while|whilst|as|and|then|but|when|whereas|with|before|after)\b"
)
_SEPARATORS = lazy(r"[,.;:!?\n]+")
_NEXT_WORD = lazy(r"[\s\-]*([^\W_]+)")

CHOREOGRAPHY_CATEGORIES = tuple(
    f"choreography.{c}" for c in ("dance", "named-dance", "spin", "jump", "kick", "step", "limbs")
)
_CHOREOGRAPHY_SET = frozenset(CHOREOGRAPHY_CATEGORIES)
# Camera categories that name a move (the operator and framing categories do not).
_NOT_MOVES = frozenset(("camera", "camera.operator", "camera.framing-portrait"))
# Words after a participle that show it is used as a verb ("spinning around", "jumping high").
_VERBAL_FOLLOWERS = frozenset(
    [
        "and",
        "or",
        "then",
        "with",
        "on",
        "in",
        "at",
        "around",
        "across",
        "to",
        "toward",
        "towards",
        "into",
        "onto",
        "through",
        "while",
        "as",
        "the",
        "a",
        "an",
        "her",
        "his",
        "their",
        "its",
        "my",
        "up",
        "down",
        "back",
        "forward",
        "forwards",
        "backward",
        "backwards",
        "away",
        "off",
        "over",
        "under",
        "along",
        "past",
        "together",
        "alone",
        "again",
        "fast",
        "hard",
        "high",
        "low",
        "solo",
        "freely",
        "before",
        "after",
        "until",
        "like",
        "nonstop",
        "from",
        "for",
        "so",
        "during",
        "between",
        "among",
        "amid",
        "beside",
        "in",
        "of",
        "is",
        "are",
        "non",
        "repeatedly",
    ]
)
_ADJECTIVAL_BASES = frozenset(("kick", "spin", "jump", "hop", "leap", "punch"))


def has_motion(a: Analysis) -> bool:
    """Whether the text asks for any motion: a motion verb, a body move, a camera move, a
    participle ("kneading", "arguing") or a labelled line of dialogue. Generous on purpose."""
    return a.memo("kp3.motion", _has_motion)


def _has_motion(a: Analysis) -> bool:
    if a.has_key("motion-verbs") or a.has_any_key(_CHOREOGRAPHY_SET):
        return True
    # A participle decides most texts without a motion verb; the camera moves need hits.
    return moving_words(a) or bool(camera_moves(a))


def moving_words(a: Analysis) -> bool:
    """The motion :func:`has_motion` finds without the lexicon: a participle or a labelled line
    of dialogue (when true, so is ``has_motion``)."""
    return a.memo("kp3.moving-words", _moving_words)


def _moving_words(a: Analysis) -> bool:
    lower = a.lower
    if "ing" in lower and not _NOT_PARTICIPLES_REVERSED.issuperset(
        _PARTICIPLE_REVERSED.findall(lower[::-1])
    ):
        return True
    return any(q.label is not None for q in a.quotes)


# A participle: a word of two or more letters a-z and "ing" (r"\b[a-z]{2,}ing\b"), found in the
# reversed text, where the pattern opens with the literal "gni" that the regex engine skips to in
# C (the boundary before "ing" is checked behind it).
_PARTICIPLE_REVERSED = lazy(r"gni(?<!\wgni)[a-z]{2,}\b")
# -ing words that are nouns or adjectives, so they say nothing about motion.
_NOT_PARTICIPLES = frozenset(
    [
        "nothing",
        "something",
        "anything",
        "everything",
        "morning",
        "evening",
        "building",
        "buildings",
        "ceiling",
        "clothing",
        "lighting",
        "ring",
        "king",
        "thing",
        "string",
        "spring",
        "wing",
        "sibling",
        "pudding",
        "wedding",
        "setting",
        "awning",
        "bedding",
        "railing",
        "icing",
        "frosting",
        "feeling",
        "meaning",
        "being",
        "earring",
        "viking",
        "darling",
        "dumpling",
        "during",
        "stunning",
        "amazing",
        "interesting",
        "charming",
        "breathtaking",
        "striking",
        "fascinating",
        "inviting",
        "soothing",
        "relaxing",
        "calming",
        "refreshing",
        "exciting",
        "surprising",
        "boring",
        "outstanding",
        "appealing",
        "pleasing",
        "engaging",
        "captivating",
        "mesmerizing",
        "imposing",
        "towering",
        "sprawling",
        "living",
        "dining",
        "parking",
        "ceiling",
        "ping",
        "sing",
        "bring",
        "sling",
        "swing",
        "cling",
        "fling",
        "sting",
        "thing",
    ]
)
_NOT_PARTICIPLES_REVERSED = frozenset(word[::-1] for word in _NOT_PARTICIPLES)


def clause_start(a: Analysis, pos: int, reach: int = 80) -> int:
    """The start of the clause that contains ``pos`` (looking back at most ``reach`` chars)."""
    start = max(0, pos - reach)
    for m in _CLAUSE_BREAK.finditer(a.lower, start, pos):
        start = m.end()
    return start


def next_word(a: Analysis, pos: int) -> str | None:
    """The word right after ``pos`` (``None`` at punctuation or the end of the text)."""
    m = _NEXT_WORD.match(a.lower, pos)
    return m.group(1) if m else None


def camera_moves(a: Analysis) -> list[Hit]:
    """Hits that name a camera move (any camera category but the operator and framing).

    Cached on the analysis and shared: do not modify the list.
    """
    if not a.has_key("camera"):
        return []
    return a.memo("kp3.camera-moves", _camera_moves)


def _camera_moves(a: Analysis) -> list[Hit]:
    return [
        h
        for h in a.hits_for("camera")
        if any(k not in _NOT_MOVES for k in h.keys if k.startswith("camera"))
    ]


def move_of(hit: Hit) -> str | None:
    """The most specific camera-move category of a hit (``camera.pan-left`` over ``camera.pan``)."""
    keys = [k for k in hit.keys if k.startswith("camera.") and k not in _NOT_MOVES]
    return max(keys, key=len) if keys else None


def camera_driven(a: Analysis, hit: Hit) -> bool:
    """Whether a motion word is said of the camera ("the camera spins", "spinning camera")."""
    start = clause_start(a, hit.start)
    for other in a.hits_for("camera.operator"):
        if start <= other.start < hit.start or 0 <= other.start - hit.end <= 1:
            return True
    return False


def choreography_hits(a: Analysis) -> list[Hit]:
    """Body-motion hits said of the character: not of the camera, a bystander or an object."""
    seen: set[tuple[int, int]] = set()
    out: list[Hit] = []
    for key in CHOREOGRAPHY_CATEGORIES:
        for hit in a.hits_for(key):
            if (hit.start, hit.end) in seen:
                continue
            seen.add((hit.start, hit.end))
            if "choreography.not" in hit.keys or any(
                k.startswith(("camera", "scene-cuts")) for k in hit.keys
            ):
                continue
            if a.in_quote(hit.start) or camera_driven(a, hit) or _bystander(a, hit):
                continue
            if _adjectival(a, hit):
                continue
            out.append(hit)
    out.sort(key=lambda h: h.start)
    return out


def _adjectival(a: Analysis, hit: Hit) -> bool:
    """ "a spinning disco ball", "kick drum": the word modifies a noun and describes no dance."""
    phrase = hit.phrase
    if " " in phrase or not (phrase.endswith("ing") or phrase in _ADJECTIVAL_BASES):
        return False
    if "choreography.dance" in hit.keys and not phrase.startswith("danc"):
        return False
    follower = next_word(a, hit.end)
    if follower is None or follower in _VERBAL_FOLLOWERS or follower.endswith("ly"):
        return False
    return follower not in {
        "movements",
        "moves",
        "motions",
        "steps",
        "routine",
        "sequence",
        "combo",
    }


def _bystander(a: Analysis, hit: Hit) -> bool:
    start = clause_start(a, hit.start)
    for other in a.hits_for("choreography.bystander"):
        if start <= other.start < hit.start or 0 <= other.start - hit.end <= 24:
            return True
    return any(start <= o.start < hit.start for o in a.hits_for("choreography.thing"))


@check("KP301")
def choreography_in_motion_control(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Body motion described in a motion-control prompt, where the reference video sets it."""
    limit = int(ctx.option(meta, "max_reports", 3))
    for a in ctx.texts(meta):
        for hit in choreography_hits(a)[:limit]:
            yield ctx.report(
                meta, field=a.field, start=hit.start, end=hit.end, match=a.text[hit.start : hit.end]
            )


@check("KP303")
def no_motion(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """No motion verb and no camera move anywhere in the text."""
    # A plain function, not a generator: it runs on almost every prompt and rarely reports.
    # The words decide most texts (a participle) before the lexicon keys, which no other rule
    # may need for the text.
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        if (
            a.text.strip()
            and not moving_words(a)
            and not a.has_key("motion-verbs")
            and not has_motion(a)
        ):
            out.append(ctx.report(meta, field=a.field, start=0, end=len(a.text)))
    return out


@check("KP304")
def appearance_heavy(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Most words of an image-to-video prompt go to clauses that only describe appearance."""
    share = float(ctx.option(meta, "max_share", 0.5))
    min_words = int(ctx.option(meta, "min_words", 12))
    for a in ctx.texts(meta):
        total = a.word_count
        if total < min_words:
            continue
        looks = a.hits_for("appearance")
        if len(looks) < 2:
            continue
        bounds = list(map(re.Match.end, _SEPARATORS.finditer(a.text)))
        clauses = {bisect_right(bounds, h.start) for h in looks if not a.in_quote(h.start)}
        moving = a.hits_for("motion-verbs") + camera_moves(a)
        clauses -= {bisect_right(bounds, h.start) for h in moving}
        if len(clauses) < 2:
            continue
        edges = [0, *bounds, len(a.text)]
        words = sum(len(a.text[edges[i] : edges[i + 1]].split()) for i in clauses)
        if words / total > share:
            first = min(clauses)
            yield ctx.report(
                meta,
                field=a.field,
                start=edges[first],
                end=edges[max(clauses) + 1],
                share=round(100 * words / total),
            )


@check("KP306")
def orientation_hint(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Prompt wording that suits the other ``character_orientation``."""
    orientation = ctx.arguments.get("character_orientation")
    if orientation not in ("image", "video"):
        return
    for a in ctx.texts(meta):
        if orientation == "image":
            hits = choreography_hits(a) or a.hits_for("choreography.genre")
            better, reason = "video", "dance or athletic motion"
        else:
            hits = [h for h in camera_moves(a) if "camera.static" not in h.keys]
            hits = hits or a.hits_for("camera.framing-portrait")
            better, reason = "image", "camera work or a portrait"
        hits = [h for h in hits if not a.in_quote(h.start)]
        if hits:
            hit = hits[0]
            yield ctx.report(
                meta,
                field=a.field,
                start=hit.start,
                end=hit.end,
                match=a.text[hit.start : hit.end],
                orientation=orientation,
                better=better,
                reason=reason,
            )
            return


@check("KP307")
def scenes_in_single_shot(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Several scenes or cuts written into one prompt of a model that cannot cut."""
    for a in ctx.texts(meta):
        labels = a.shot_labels if _two_labels_possible(a.lower) else []
        if len({n for n, _, _ in labels}) >= 2:
            start, end = labels[1][1], labels[1][2]
            yield ctx.report(
                meta, field=a.field, start=start, end=end, match=a.text[start:end].strip()
            )
            continue
        cuts = [
            h
            for h in a.hits_for("scene-cuts")
            if not a.in_quote(h.start) and not _cut_to_a_sound(a, h)
        ]
        if cuts:
            hit = cuts[0]
            yield ctx.report(
                meta, field=a.field, start=hit.start, end=hit.end, match=a.text[hit.start : hit.end]
            )


def _cut_to_a_sound(a: Analysis, hit: Hit) -> bool:
    """ "cuts to a background sound": the audio changes, not the scene (a sound word within a
    few words after the cut, in the same clause)."""
    if not a.has_key("audio"):
        return False
    for sound in a.hits_for("audio.generic"):
        if 0 <= sound.start - hit.end <= 24 and not any(
            c in a.lower[hit.end : sound.start] for c in ".,;:!?"
        ):
            return True
    return False


def _two_labels_possible(lower: str) -> bool:
    """Whether the text can hold two "Shot 1:" / "Scene 2:" labels: it has two of those words
    with a number after them (labels match case-insensitively, so a long s, "ſhot", is a label
    too, lower or not)."""
    if "ſ" in lower:
        return True
    if lower.count("shot") + lower.count("scene") < 2:
        return False
    return len(_NUMBERED_SHOT.findall(lower)) >= 2


# What every label starts with: its word and number.
_NUMBERED_SHOT = lazy(r"(?:shot|scene)\s*\d")
