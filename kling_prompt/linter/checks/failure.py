"""Known failure modes, KP901–KP905 (KP902 is a declarative existence rule).

These are info-level: the prompt is valid, but the model is known to get these things wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kling_prompt.linter.checks.consistency import (
    anchored_finditer,
    space_before,
    text_digit_runs,
)
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.rules import Context, RuleMeta, check
from kling_prompt.linter.text import Analysis

# -- KP901 ---------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "dozen": 12,
}  # fmt: skip
_IRREGULAR_PLURALS = frozenset(
    [
        "people",
        "men",
        "women",
        "children",
        "mice",
        "geese",
        "sheep",
        "fish",
        "deer",
        "cattle",
        "teeth",
        "oxen",
    ]
)


_NEXT_WORD = lazy(r"\s+([^\W\d_][\w'’-]*)|\s*([.!?;:,(\[\"“])")


def _plural(word: str) -> bool:
    if word in _IRREGULAR_PLURALS:
        return True
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is"))


@check("KP901")
def exact_count(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Four or more counted objects: the model does not keep exact numbers.

    A count is digits or a number word of the lexicon; most prompts have neither, and the gate
    (the ``has-digit`` pre-check or a ``counting.numbers`` key) does not call the rule on them.
    """
    minimum = int(ctx.option(meta, "min", 4))
    for a in ctx.texts(meta):
        candidates = _candidates(a, minimum)
        if not candidates:
            continue
        stops: set[int] | None = None  # built for the first plural after a number
        reported = 0
        for value, start, end in candidates:
            if value < minimum:
                continue
            # The noun first: most numbers count nothing, and then neither the units nor the
            # quotes need to be looked up.
            found = _counted_noun(a.lower, end)
            if found is None:
                continue
            noun, words = found
            if stops is None:
                stops = {h.start for h in a.hits_for("counting.units")}
                stops.update(h.start for h in a.hits_for("counting.natural"))
            if not stops.isdisjoint(words) or a.in_quote(start):
                continue  # "5 seconds", "10 steps": units and natural quantities are not counts
            reported += 1
            if reported > 3:
                break
            yield ctx.report(
                meta,
                field=a.field,
                start=start,
                end=noun,
                match=a.text[start:noun],
                count=value,
            )


def _candidates(a: Analysis, minimum: int = 0) -> list[tuple[int, int, int]]:
    """Numbers from ``minimum`` up that may count something: ``(value, start, end)`` in text
    order.

    Digits count something only with whitespace after them, before the noun (see
    :func:`_counted_noun`): so never digits before a letter, "%", ":", "/", "×", "-" or a decimal
    part ("4K", "16:9", "24fps", "5%", "3.5"), and those are left out before anything else.
    """
    out = [
        (_NUMBER_WORDS[h.phrase.rsplit(" ", 1)[-1]], h.start, h.end)
        for h in a.hits_for("counting.numbers")
    ]
    runs = text_digit_runs(a)
    if runs:
        text = a.text
        for start, end in runs:
            if (
                end - start > 3
                or not text[end : end + 1].isspace()
                or (start > 0 and text[start - 1] in "-.,:#$£€_")
            ):
                continue
            value = int(text[start:end])
            if value < minimum:
                continue
            out.append((value, start, end))
        out.sort(key=lambda c: c[1])
    return out


def _counted_noun(lower: str, pos: int) -> tuple[int, list[int]] | None:
    """The end of the plural noun within three words after a number, if there is one, and where
    the words up to it start (the noun is not counted if one of them starts a unit)."""
    starts: list[int] = []
    for _ in range(3):
        m = _NEXT_WORD.match(lower, pos)
        if m is None or m.group(2) is not None:
            return None
        word = m.group(1)
        if word in ("of", "to", "and", "or", "times", "x"):
            return None
        starts.append(m.start(1))
        if _plural(word):
            return m.end(1), starts
        pos = m.end()
    return None


# -- KP903 ---------------------------------------------------------------------------------------

_KP903_QUOTE = (
    "'{match}' asks for on-screen text without giving it in quotes; Kling 3.0 renders short text "
    'best when the exact words are quoted. Write it as: a sign that reads "OPEN".'
)
_KP903_LONG = (
    "The on-screen text after '{match}' is {words} words long; Kling 3.0 renders short text "
    "(about {max} words) reliably and garbles longer text. Shorten it, or add it in post."
)


@check("KP903")
def on_screen_text(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """On-screen text: weak before Kling 3.0; on 3.0 keep it short and quoted."""
    legacy = set(ctx.option(meta, "legacy_families", ()))
    maximum = int(ctx.option(meta, "max_words", 5))
    if ctx.family is None:
        return
    for a in ctx.texts(meta):
        cues = a.hits_for("on-screen-text.cues")
        if not cues:
            continue
        absent = a.hits_for("on-screen-text.absent")
        for hit in cues:
            if a.in_quote(hit.start):
                continue
            if "on-screen-text.absent" in hit.keys or any(
                h.end <= hit.start and hit.start - h.end <= 16 for h in absent
            ):
                continue
            match = a.text[hit.start : hit.end]
            if ctx.family in legacy:
                yield ctx.report(
                    meta, field=a.field, start=hit.start, end=hit.end, match=match,
                    family=ctx.family,
                )  # fmt: skip
                break
            quoted = _quote_after(a, hit.end)
            if quoted is None:
                yield ctx.report(
                    meta, _KP903_QUOTE, field=a.field, start=hit.start, end=hit.end, match=match
                )
                break
            words = len(a.text[quoted[0] : quoted[1]].split())
            if words > maximum:
                yield ctx.report(
                    meta,
                    _KP903_LONG,
                    field=a.field,
                    start=quoted[0],
                    end=quoted[1],
                    match=match,
                    words=words,
                    max=maximum,
                )
                break


def _quote_after(a: Analysis, pos: int) -> tuple[int, int] | None:
    for q_open, q_close in a.quote_spans:
        if q_open >= pos:
            gap = a.text[pos:q_open]
            if len(gap) <= 40 and not re.search(r"[.!?\n]", gap):
                return q_open + 1, q_close - 1
            return None
    return None


# -- KP904 ---------------------------------------------------------------------------------------

_FPS = lazy(
    r"\b(\d{1,3}(?:,\d{3})*|\d+)\s*(?:fps|frames?\s*(?:per|a|/)\s*(?:second|sec|s))\b",
    re.IGNORECASE,
)


def _fps_starts(text: str, at: int) -> list[int]:
    """A frame rate's number is the run of digits and commas before the whitespace in front of
    "fps" / "frame"; it starts at one of those digits."""
    end = space_before(text, at)
    start = end
    while start > 0 and (text[start - 1].isdecimal() or text[start - 1] == ","):
        start -= 1
    return [i for i in range(start, end) if text[i].isdecimal()]


@check("KP904")
def extreme_frame_rate(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Frame rates or slow-motion factors the model cannot produce."""
    max_fps = float(ctx.option(meta, "max_fps", 60))
    for a in ctx.texts(meta):
        spans: list[tuple[int, int]] = []
        for hit in a.hits_for("frame-rate.extreme"):
            if not a.in_quote(hit.start):
                spans.append((hit.start, hit.end))
        if "fps" in a.lower or "frame" in a.lower:  # "frames per second", "frame per second"
            for m in anchored_finditer(_FPS, a, ("fps", "frame"), _fps_starts, "ſ"):
                if float(m.group(1).replace(",", "")) > max_fps and not a.in_quote(m.start()):
                    spans.append(m.span())
        spans.sort()
        last_end = -1
        for start, end in spans:
            if start < last_end:
                continue
            last_end = end
            yield ctx.report(
                meta, field=a.field, start=start, end=end, match=a.text[start:end], max=max_fps
            )


# -- KP905 ---------------------------------------------------------------------------------------


@check("KP905")
def known_ip_name(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """A fictional character named without saying how they look."""
    for a in ctx.texts(meta):
        names = a.hits_for("ip-names.characters")
        if not names:
            continue
        looks = [h.start for h in a.hits_for("ip-names.looks")]
        sentences = a.sentences
        described: set[str] = set()
        first: dict[str, tuple[int, int]] = {}
        for hit in names:
            if a.in_quote(hit.start):
                continue
            name = hit.phrase
            first.setdefault(name, (hit.start, hit.end))
            lo, hi = _sentence_of(sentences, hit.start, len(a.text))
            if any(lo <= pos < hi for pos in looks):
                described.add(name)
        for name, (start, end) in first.items():
            if name in described:
                continue
            yield ctx.report(meta, field=a.field, start=start, end=end, match=a.text[start:end])


def _sentence_of(sentences: list[tuple[int, int]], pos: int, length: int) -> tuple[int, int]:
    for start, end in sentences:
        if start <= pos < end:
            return start, end
    return 0, length
