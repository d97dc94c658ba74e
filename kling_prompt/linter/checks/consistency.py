"""Consistency rules across shots and time, KP802–KP805 (KP801 is a declarative conflict rule).

Each ``multi_prompt`` shot is generated without the others' text, so a shot must stand on its
own; time marks and shot counts written in the text must agree with the request's fields.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from kling_prompt.linter.checks.audio import as_seconds, request_seconds
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lazyre import LazyPattern, lazy
from kling_prompt.linter.native import has_digit as native_has_digit
from kling_prompt.linter.rules import Context, RuleMeta, check, gate_check
from kling_prompt.linter.text import TIME_MARK, Analysis

# -- KP802 ---------------------------------------------------------------------------------------

_PRONOUN_OPENERS = frozenset(["he", "she", "they", "his", "her", "their", "its", "him", "them"])
_SEQUENCE_OPENERS = frozenset(
    ["then", "next", "afterwards", "afterward", "later", "continuing", "continues"]
)
_SUBJECT_PRONOUNS = frozenset(("he", "she", "they"))


# A word token of Analysis.tokens (its other tokens are single punctuation marks).
_WORD_TOKEN = lazy(r"[^\W_]+(?:['’][^\W_]+)*")


def _opening(a: Analysis) -> tuple[str, int, int] | None:
    """The first words of a shot after any "Shot 2:" label: (phrase, start, end).

    These are the first word tokens of :attr:`Analysis.tokens` from there, found by searching
    on from the label instead of tokenizing the whole shot: a label ends with a mark no word
    token holds, so the tokens after it are what a scan starting there finds.
    """
    skip_to = 0
    labels = a.shot_labels
    if labels and labels[0][1] <= len(a.text) - len(a.text.lstrip()) + 1:
        skip_to = labels[0][2]
    lower = a.lower
    m = _WORD_TOKEN.search(lower, skip_to)
    if m is None:
        return None
    first, start, end = m.group(), m.start(), m.end()
    if first in _PRONOUN_OPENERS or first in _SEQUENCE_OPENERS:
        return first, start, end
    if first == "after":
        second = _WORD_TOKEN.search(lower, end)
        if second is not None and second.group() in ("that", "this"):
            return "after " + second.group(), start, second.end()
    return None


def _subjects(a: Analysis) -> set[str]:
    """Names a shot gives its subjects: reference tokens and dialogue labels."""
    names = {f"{r.kind}{r.index}" for r in a.references if r.kind != "voice"}
    names.update(q.label.split(",", 1)[0].strip().lower() for q in a.quotes if q.label)
    return names


@check("KP802")
def shot_not_self_contained(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """A shot that leans on the previous one: pronoun or "then" opener, or a dropped subject."""
    shots = [a for a in ctx.analyses if a.kind == "shot"]
    if len(shots) < 2:
        return
    first_subjects = _subjects(shots[0])
    for a in shots[1:]:
        opening = _opening(a)
        if opening is not None:
            _, start, end = opening
            yield ctx.report(
                meta, field=a.field, start=start, end=end, match=a.text[start:end], shot=_n(a)
            )
            continue
        if not first_subjects or first_subjects & _subjects(a):
            continue
        pronoun = next(
            (t for t in a.tokens if t[0] in _SUBJECT_PRONOUNS and not a.in_quote(t[1])),
            None,
        )
        if pronoun is None:
            continue
        named = ", ".join(sorted(first_subjects))
        yield ctx.report(
            meta,
            _KP802_DROPPED,
            field=a.field,
            start=pronoun[1],
            end=pronoun[2],
            match=a.text[pronoun[1] : pronoun[2]],
            shot=_n(a),
            named=named,
        )


_KP802_DROPPED = (
    "Shot {shot} says '{match}' but never names the subject of shot 1 ({named}); each shot is "
    "generated on its own, so the model does not know who '{match}' is. Name the subject again."
)


def _n(a: Analysis) -> int:
    return (a.shot_index or 0) + 1


# -- KP803 ---------------------------------------------------------------------------------------

_STYLE_GROUPS = (("contradictions.medium-", "medium"), ("contradictions.colour-", "colour"))


@check("KP803")
def style_drift(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Shots of one request naming different visual media or colour treatments."""
    shots = [a for a in ctx.analyses if a.kind == "shot"]
    if len(shots) < 2:
        return
    for prefix, group in _STYLE_GROUPS:
        # The keys of the group each shot has a hit of: a drift needs two keys in two shots.
        present = [sorted(k for k in a.keys if k.startswith(prefix)) for a in shots]
        if len({k for keys in present for k in keys}) < 2 or sum(map(bool, present)) < 2:
            continue
        # Each key's first hit outside quotes, in shot order: read from that key's hits
        # alone, not from every hit of every shot.
        first: dict[str, tuple[Analysis, Any]] = {}
        for a, keys in zip(shots, present, strict=True):
            for key in keys:
                if key in first:
                    continue
                for hit in a.hits_for(key):
                    if not a.in_quote(hit.start):
                        first[key] = (a, hit)
                        break
        shot_of = {key: a.shot_index for key, (a, _) in first.items()}
        if len(first) < 2 or len(set(shot_of.values())) < 2:
            continue
        ordered = sorted(first.values(), key=lambda v: ((v[0].shot_index or 0), v[1].start))
        base_a, base_hit = ordered[0]
        for a, hit in ordered[1:]:
            if a.shot_index == base_a.shot_index:
                continue
            yield ctx.report(
                meta,
                field=a.field,
                start=hit.start,
                end=hit.end,
                first=base_a.text[base_hit.start : base_hit.end],
                first_shot=_n(base_a),
                second=a.text[hit.start : hit.end],
                second_shot=_n(a),
                group=group,
            )
            break


# -- KP804 ---------------------------------------------------------------------------------------

_DECADE = lazy(r"\d0s\b", re.IGNORECASE)
_DIGIT = lazy(r"\d")


# -- digits and time marks, found with substring searches ----------------------------------------
#
# A pattern scan costs about 15 ns a character (a long prompt: ~90 us) while ``str.find`` and
# ``in`` run at memory speed, and most prompts hold no digit at all. The helpers below answer
# exactly what the ``\d`` patterns would, through the ASCII digits, and fall back to the pattern
# when a text holds a digit of another script.

_ASCII_BYTES = bytes(range(128))
_DIGITS = lazy(r"\d+")
# The rest of Analysis.time_marks' prefilter ``\d\s*-?\s*s\b`` after a run of digits.
_S_AFTER_DIGIT = lazy(r"\s*-?\s*s\b")
# What text.TIME_MARK requires right after the digits its number starts with: its number group
# ``\d+`` takes the whole run of digits (a digit cannot follow it), so a mark numbered by a run
# is there only if this matches where the run ends.
_MARK_TAIL = lazy(r"(?:\.\d+)?\s*(?:-|\s)?\s*(?:seconds?|secs?|s)\b", re.IGNORECASE)
# Lengths of the words a time mark opens with (text.TIME_MARK): at/by/in, from, after/until,
# around/within.
_OPENER_LENGTHS = (2, 4, 5, 6)
_OPENERS = frozenset(("at", "after", "by", "until", "around", "from", "within", "in"))
# What ends right before the whitespace in front of a mark's digits in text.TIME_MARK (with
# ``search(text, pos, endpos)``, ``\Z`` is ``endpos``): an opener, or "the" / "first" after one.
_HEAD_END = lazy(r"(?:at|after|by|until|around|from|within|in|the|first)\Z", re.IGNORECASE)


def _non_ascii(text: str) -> str:
    """The non-ASCII characters of ``text``, in order (C speed: UTF-8 without the ASCII bytes)."""
    raw = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES)
    return raw.decode("utf-8", "surrogatepass")


def _other_digit(text: str) -> bool:
    """Whether ``text`` holds a decimal digit outside ASCII (Arabic-Indic, fullwidth, ...)."""
    return not text.isascii() and _DIGIT.search(_non_ascii(text)) is not None


def python_has_digit(text: str) -> bool:
    """Whether ``text`` holds a decimal digit (what ``\\d`` matches, Unicode digits included).

    Lowercasing keeps digits, so a field's ``lower`` (or ``Context.lower_text``, all fields)
    answers the same.
    """
    if (
        "0" in text
        or "1" in text
        or "2" in text
        or "3" in text
        or "4" in text
        or "5" in text
        or "6" in text
        or "7" in text
        or "8" in text
        or "9" in text
    ):
        return True
    return not text.isascii() and _other_digit(text)


# The compiled twin when it is built (one pass in C instead of ten substring searches).
has_digit: Callable[[str], bool] = native_has_digit() or python_has_digit


@gate_check("has-digit")
def any_digit(ctx: Context) -> bool:
    """Whether some text field holds a decimal digit (``when: {check: [has-digit]}``).

    Every time mark (KP804), duration note (KP805), frame rate (KP904) and counted number
    written in digits (KP901) holds one, and most prompts hold none: the engine runs this once
    per request for all of them, instead of calling each rule to find that out.
    """
    return has_digit(ctx.lower_text)


def digit_runs(text: str) -> list[tuple[int, int]]:
    """Spans of the maximal runs of decimal digits, in order (what ``\\d+`` finds)."""
    if _other_digit(text):
        return [m.span() for m in _DIGITS.finditer(text)]
    positions: list[int] = []
    find = text.find
    for digit in "0123456789":
        i = find(digit)
        while i != -1:
            positions.append(i)
            i = find(digit, i + 1)
    if not positions:
        return []
    positions.sort()
    runs: list[tuple[int, int]] = []
    start = end = positions[0]
    for i in positions:
        if i != end:
            runs.append((start, end))
            start = i
        end = i + 1
    runs.append((start, end))
    return runs


def text_digit_runs(a: Analysis) -> list[tuple[int, int]]:
    """:func:`digit_runs` of a field's text, computed once per text."""
    return a.memo("kp.digit-runs", lambda a: digit_runs(a.text))


def find_time_marks(a: Analysis) -> list[tuple[float, int, int]]:
    """Exactly :attr:`Analysis.time_marks`, without scanning the whole text with ``TIME_MARK``.

    A mark is "<opener> [the] [first] <digits> ... s": its digits follow whitespace, and its
    opener ends one, two or three words before them. So ``TIME_MARK`` is tried only where an
    opener could start before a run of digits that follows whitespace; taken in text order,
    skipping starts inside the previous match, that is what ``finditer`` returns.
    """
    return a.memo("kp8.time-marks", _find_time_marks)


def _find_time_marks(a: Analysis) -> list[tuple[float, int, int]]:
    text, lower = a.text, a.lower
    if len(lower) != len(text):
        return a.time_marks  # lowercasing changed offsets (rare): let the analysis scan
    runs = text_digit_runs(a)
    starts: set[int] = set()
    for run_start, run_end in runs:
        if (
            run_start > 0
            and text[run_start - 1].isspace()
            and _MARK_TAIL.match(text, run_end) is not None
            and _may_follow_opener(text, run_start)
        ):
            _opener_starts(text, run_start, starts)
    if not starts:
        return []  # no number a mark could start with (most digits follow a letter: @Image1)
    # Analysis.time_marks only scans texts with "sec" or a digit followed by an "s" (any digit:
    # "at 2.5s" passes through the run "5"). Tested second, as fewer texts get this far.
    if "sec" not in lower and not any(_S_AFTER_DIGIT.match(lower, end) for _, end in runs):
        return []
    marks: list[tuple[float, int, int]] = []
    last_end = 0
    for start in sorted(starts):
        if start < last_end:
            continue
        m = TIME_MARK.match(text, start)
        if m is not None:
            marks.append((float(m.group(1)), m.start(), m.end()))
            last_end = m.end()
    return marks


def _may_follow_opener(text: str, pos: int) -> bool:
    """Whether a time mark's number may start at ``pos``, tested in C before the Python walk of
    :func:`_opener_starts`: ``TIME_MARK`` has an opener, "the" or "first" right before the
    whitespace in front of its number (read case-insensitively, as ``TIME_MARK`` reads them)."""
    end = space_before(text, pos)
    return _HEAD_END.search(text, max(0, end - 6), end) is not None


def _opener_starts(text: str, pos: int, starts: set[int]) -> None:
    """Where an opener may start for digits at ``pos``: it ends the word before them, or the
    word before "the" / "first" (so, one of the three words before ``pos``).

    Only the last six characters of a word can hold an opener, and an ASCII word's lowercase
    tells what it is; other words (a dotless i folds to i) are left to the pattern.
    """
    for _ in range(3):
        word_end = pos
        while word_end > 0 and text[word_end - 1].isspace():
            word_end -= 1
        if word_end == pos or word_end == 0:
            return  # an opener needs whitespace after it and a word before that
        word_start = word_end
        while word_start > word_end - 7 and word_start > 0 and not text[word_start - 1].isspace():
            word_start -= 1
        word = text[word_start:word_end]
        ascii_word = word.isascii()
        for length in _OPENER_LENGTHS:
            if len(word) >= length and (not ascii_word or word[-length:].lower() in _OPENERS):
                starts.add(word_end - length)
        whole = word_start == 0 or text[word_start - 1].isspace()
        if not whole or (ascii_word and word.lower() not in ("the", "first")):
            return  # not "the" or "first": the opener must end this word
        pos = word_start


def anchored_finditer(
    pattern: LazyPattern,
    a: Analysis,
    anchors: tuple[str, ...],
    starts: Callable[[str, int], Iterable[int]],
    variants: str = "",
) -> list[re.Match[str]]:
    """``list(pattern.finditer(a.text))`` for a case-insensitive pattern whose every match holds
    one of ``anchors``, tried only where a match can start.

    Anchors are found with ``str.find`` in the lowercased text; ``starts(text, at)`` gives every
    position where a match holding the anchor found at ``at`` may start. Taken in text order,
    skipping those inside the previous match, that is what ``finditer`` returns. ``variants``
    are the characters other than upper and lower case that the pattern's case folding matches
    to an anchor's letters (the dotless i, the long s): a text holding one, or whose lowercase
    has other offsets, is scanned whole.
    """
    text, lower = a.text, a.lower
    if len(lower) != len(text) or (variants and any(ch in text for ch in variants)):
        return list(pattern.finditer(text))
    candidates: set[int] = set()
    for anchor in anchors:
        at = lower.find(anchor)
        while at != -1:
            candidates.update(starts(text, at))
            at = lower.find(anchor, at + 1)
    found: list[re.Match[str]] = []
    last_end = 0
    for start in sorted(candidates):
        if start < last_end:
            continue
        m = pattern.match(text, start)
        if m is not None:
            found.append(m)
            last_end = m.end()
    return found


def space_before(text: str, pos: int, also: str = "") -> int:
    """Where the run of whitespace (and characters of ``also``) that ends at ``pos`` starts."""
    while pos > 0 and (text[pos - 1].isspace() or text[pos - 1] in also):
        pos -= 1
    return pos


def time_marks(a: Analysis) -> list[tuple[float, int, int, bool]]:
    """Time marks as ``(seconds, start, end, absolute)``; decades ("the 80s") are left out."""
    out: list[tuple[float, int, int, bool]] = []
    for seconds, start, end in find_time_marks(a):
        phrase = a.text[start:end]
        lower = phrase.lower()
        if "mark" not in lower and _DECADE.search(phrase) and seconds >= 20:
            continue
        if a.in_quote(start):
            continue
        first_word = lower.split(None, 1)[0]
        out.append((seconds, start, end, first_word in ("at", "by") or "mark" in lower))
    return out


_KP804_ORDER = (
    "The time mark '{match}' ({seconds:g} s) comes after '{previous}' ({previous_seconds:g} s) "
    "in the text but earlier in the video; the model follows the text order. Put the marks in "
    "time order."
)


@check("KP804")
def time_mark_out_of_range(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """Time marks past the video's duration, or out of order.

    Every time mark has a number: the ``has-digit`` gate keeps the rule from being called on
    the many prompts without a digit, and a text without one is skipped here.
    """
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        if not has_digit(a.lower):
            continue
        marks = time_marks(a)
        if marks:
            out.extend(_time_mark_reports(ctx, meta, a, marks))
    return out


def _time_mark_reports(
    ctx: Context, meta: RuleMeta, a: Analysis, marks: list[tuple[float, int, int, bool]]
) -> Iterator[Diagnostic]:
    seconds = shot_seconds(ctx, a)
    if seconds is not None:
        for value, start, end, _ in marks:
            if value > seconds + 1e-9:
                yield ctx.report(
                    meta,
                    field=a.field,
                    start=start,
                    end=end,
                    match=a.text[start:end],
                    seconds=f"{value:g}",
                    duration=f"{seconds:g}",
                )
    absolute = [mark[0] for mark in marks if mark[3]]
    if all(earlier <= later for earlier, later in itertools.pairwise(absolute)):
        return  # in time order everywhere, so in every shot: no need to split the text
    for seg_start, seg_end in a.segments():
        previous: tuple[float, int, int, bool] | None = None
        for mark in marks:
            if not (seg_start <= mark[1] < seg_end and mark[3]):
                continue
            if previous is not None and mark[0] < previous[0]:
                yield ctx.report(
                    meta,
                    _KP804_ORDER,
                    field=a.field,
                    start=mark[1],
                    end=mark[2],
                    match=a.text[mark[1] : mark[2]],
                    seconds=mark[0],
                    previous=a.text[previous[1] : previous[2]],
                    previous_seconds=previous[0],
                )
            previous = mark


def shot_seconds(ctx: Context, a: Analysis) -> float | None:
    """The seconds a text covers: its own shot's duration when given, else the request's."""
    if a.shot_index is not None:
        shot = _shot_entry(ctx, a.shot_index)
        if shot is not None:
            own = as_seconds(shot.get("duration"))
            if own is not None:
                return own
    return request_seconds(ctx)


def _shot_entry(ctx: Context, index: int) -> dict[str, Any] | None:
    shots = ctx.arguments.get("multi_prompt")
    if isinstance(shots, list) and 0 <= index < len(shots):
        shot = shots[index]
        if isinstance(shot, dict):
            return shot
    return None


# -- KP805 ---------------------------------------------------------------------------------------

_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_SHOT_COUNT = lazy(
    r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)[\s-]+shots?\b"
    r"(?!\s+of\s+(?:espresso|tequila|vodka|whiske?y|rum|gin|coffee|liquor))"
    r"(?:\s+(?:sequence|video|film|sequences))?",
    re.IGNORECASE,
)
_DURATION_NOTE = lazy(
    r"\(?\s*duration\s*[:=]?\s*(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)\b\s*\)?", re.IGNORECASE
)


def _shot_count_starts(text: str, at: int) -> range:
    """A shot count ends one to five characters (a number word or two digits) before the
    whitespace or hyphens in front of "shot"."""
    end = space_before(text, at, "-")
    return range(max(0, end - 5), end)


def _duration_note_starts(text: str, at: int) -> range:
    """A duration note starts at "duration", in the whitespace before it, or at an opening
    parenthesis right before that whitespace."""
    start = space_before(text, at)
    if start > 0 and text[start - 1] == "(":
        start -= 1
    return range(start, at + 1)


_KP805_LABEL = (
    "The text labels 'Shot {number}' but multi_prompt has {count} shot(s); the extra shot will "
    "not exist. Make the labels match the multi_prompt entries, or add the missing shot."
)
_KP805_DURATION = (
    "The text says '{match}' but the {target} is {seconds} s; the field wins and the text "
    "misleads. Make the annotation match the duration field, or drop the annotation."
)


@check("KP805")
def shot_count_mismatch(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Announced shot counts and "(Duration: 5s)" notes that disagree with the request."""
    shots = ctx.arguments.get("multi_prompt")
    count = len(shots) if isinstance(shots, list) and shots else None
    for a in ctx.texts(meta):
        if count is not None:
            yield from _count_notes(ctx, meta, a, count)
        if "duration" in a.lower:
            yield from _duration_notes(ctx, meta, a)


def _count_notes(ctx: Context, meta: RuleMeta, a: Analysis, count: int) -> Iterator[Diagnostic]:
    if "shot" not in a.lower:
        return
    for m in anchored_finditer(_SHOT_COUNT, a, ("shot",), _shot_count_starts, "ſ"):
        if a.in_quote(m.start()):
            continue
        word = m.group(1).lower()
        announced = int(word) if word.isdigit() else _NUMBERS[word]
        if announced != count and announced > 1:
            yield ctx.report(
                meta,
                field=a.field,
                start=m.start(),
                end=m.end(),
                match=m.group(),
                announced=announced,
                count=count,
            )
    for number, start, end in a.shot_labels:
        if number > count:
            yield ctx.report(
                meta, _KP805_LABEL, field=a.field, start=start, end=end, number=number, count=count
            )


def _duration_notes(ctx: Context, meta: RuleMeta, a: Analysis) -> Iterator[Diagnostic]:
    if a.shot_index is not None:
        shot = _shot_entry(ctx, a.shot_index)
        expected = as_seconds(shot.get("duration")) if shot is not None else None
        target = f"duration of shot {a.shot_index + 1}"
    else:
        expected = request_seconds(ctx)
        target = "request's duration"
    if expected is None:
        return
    notes = [
        m
        for m in anchored_finditer(_DURATION_NOTE, a, ("duration",), _duration_note_starts, "ıİ")
        if not a.in_quote(m.start())
    ]
    if not notes:
        return
    stated = sum(float(m.group(1)) for m in notes)
    if abs(stated - expected) < 1e-9:
        return
    last = notes[-1]
    match = last.group().strip() if len(notes) == 1 else f"{stated:g} s in total"
    yield ctx.report(
        meta,
        _KP805_DURATION,
        field=a.field,
        start=last.start(),
        end=last.end(),
        match=match,
        target=target,
        seconds=f"{expected:g}",
    )
