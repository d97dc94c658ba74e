"""The second round of fast paths in the KP6xx-KP9xx checks reports exactly what they did before.

Each rule changed for speed is compared, on generated requests rich in what it looks for (and on
the real corpus when it is beside the project), with its previous definition, kept below as the
reference; the helpers that skip work are compared with the plain scans they stand in for.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.catalog import data as catalog
from kling_prompt.linter import Linter
from kling_prompt.linter.checks import camera, consistency, failure, negative
from kling_prompt.linter.checks.consistency import has_digit
from kling_prompt.linter.checks.motion import camera_moves, clause_start, move_of
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lexicon import Hit
from kling_prompt.linter.rules import Context, RuleMeta
from kling_prompt.linter.text import TIME_MARK, Analysis
from kling_prompt.request import Request

LINTER = Linter()
META = {rule.meta.code: rule.meta for rule in LINTER.rules}
CHECKS = {rule.meta.code: rule.fn for rule in LINTER.rules if rule.fn is not None}
SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "real_prompts.jsonl"


# -- reference definitions (the checks as they were) ---------------------------------------------


REF_NOT_A_COUNT_AFTER = re.compile(r"[\w%:/×-]|[.,]\d")


def ref_candidates(a: Analysis, minimum: int) -> list[tuple[int, int, int]]:
    out = [
        (failure._NUMBER_WORDS[h.phrase.rsplit(" ", 1)[-1]], h.start, h.end)
        for h in a.hits_for("counting.numbers")
    ]
    text = a.text
    for m in re.finditer(r"\d+", text):
        start, end = m.span()
        if end - start > 3 or (start > 0 and text[start - 1] in "-.,:#$£€_"):
            continue
        value = int(text[start:end])
        if value < minimum or REF_NOT_A_COUNT_AFTER.match(text, end):
            continue
        out.append((value, start, end))
    out.sort(key=lambda c: c[1])
    return out


def ref_counted_noun(lower: str, pos: int, stops: set[int]) -> int | None:
    for _ in range(3):
        m = failure._NEXT_WORD.match(lower, pos)
        if m is None or m.group(2) is not None:
            return None
        word = m.group(1)
        if m.start(1) in stops or word in ("of", "to", "and", "or", "times", "x"):
            return None
        if failure._plural(word):
            return m.end(1)
        pos = m.end()
    return None


def ref_exact_count(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    if not has_digit(ctx.lower_text):
        for a in ctx.texts(meta):
            if a.hits_for("counting.numbers"):
                break
        else:
            return []
    out = []
    minimum = int(ctx.option(meta, "min", 4))
    for a in ctx.texts(meta):
        candidates = ref_candidates(a, minimum)
        if not candidates:
            continue
        stops = {h.start for h in a.hits_for("counting.units")}
        stops.update(h.start for h in a.hits_for("counting.natural"))
        reported = 0
        for value, start, end in candidates:
            if value < minimum or a.in_quote(start):
                continue
            noun = ref_counted_noun(a.lower, end, stops)
            if noun is None:
                continue
            reported += 1
            if reported > 3:
                break
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=start,
                    end=noun,
                    match=a.text[start:noun],
                    count=value,
                )
            )
    return out


REF_TERM = re.compile(r"[^,;\n]+")
REF_LEAD = re.compile(r"^(?:(?:and|or|the|a|an|any)\s+)+", re.IGNORECASE)
REF_NEGATED = re.compile(r"^(?:no|not|don't|do not|without|avoid|never)\b", re.IGNORECASE)


def ref_terms(text: str) -> list[tuple[str, int, int]]:
    terms: list[tuple[str, int, int]] = []
    for m in REF_TERM.finditer(text):
        raw = m.group()
        lead = REF_LEAD.match(raw.strip())
        rest = raw.strip()[lead.end() if lead else 0 :]
        term = rest.strip(" .")
        offset = len(raw) - len(raw.lstrip()) + (lead.end() if lead else 0)
        offset += len(rest) - len(rest.lstrip(" ."))
        if REF_NEGATED.match(term):
            continue
        if len(term) < 3 or term.lower() in negative._TOO_GENERIC or len(term.split()) > 4:
            continue
        start = m.start() + offset
        terms.append((term.lower(), start, start + len(term)))
    return terms


def ref_negative_conflicts(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    neg = ctx.analysis("negative_prompt")
    if neg is None or not neg.text.strip():
        return []
    terms = ref_terms(neg.text)
    texts = ctx.texts(meta)
    present = tuple(t for t, _, _ in terms if any(t in a.lower for a in texts))
    if not present:
        return []
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(t) for t in present) + r")(?:s|es)?(?![\w-])"
    )
    out = []
    reported: set[str] = set()
    for a in texts:
        for m in pattern.finditer(a.lower):
            term = m.group(1)
            if term in reported or a.in_quote(m.start()) or negative._negated(a, m.start()):
                continue
            reported.add(term)
            _, start, end = next(t for t in terms if t[0] == term)
            out.append(
                ctx.report(
                    meta,
                    field="negative_prompt",
                    start=start,
                    end=end,
                    match=neg.text[start:end],
                    context=a.text[max(0, m.start() - 20) : m.end() + 20].strip(),
                    where=a.field,
                )
            )
    return out


def ref_default_negative(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    value = ctx.arguments.get("negative_prompt")
    if (isinstance(value, str) and value.strip()) or ctx.info is None:
        return []
    field = getattr(ctx.info, "fields", {}).get("negative_prompt")
    default = getattr(field, "default", None)
    if not isinstance(default, str) or not default.strip():
        return []
    message = meta.message
    with contextlib.suppress(KeyError, IndexError, ValueError):
        message = message.format(default=default)
    return [ctx.report(meta, message, field="prompt" if "prompt" in ctx.arguments else None)]


def ref_too_many_camera_moves(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    maximum = int(ctx.option(meta, "max", 2))
    out = []
    for a in ctx.texts(meta):
        if len(a.hits_for("camera")) <= maximum:
            continue
        moves = [h for h in camera_moves(a) if not a.in_quote(h.start)]
        if len(moves) <= maximum:
            continue
        for seg_start, seg_end in a.segments():
            found: dict[str, Hit] = {}
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
                out.append(
                    ctx.report(
                        meta,
                        field=a.field,
                        start=hits[0].start,
                        end=hits[-1].end,
                        count=len(found),
                        max=maximum,
                        matches=", ".join(a.text[h.start : h.end] for h in hits),
                    )
                )
    return out


def ref_ambiguous_camera(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    out = []
    for a in ctx.texts(meta):
        for hit in a.hits_for("camera-ambiguous"):
            if a.in_quote(hit.start) or any(k == "camera.operator" for k in hit.keys):
                continue
            operators = [o.start for o in a.hits_for("camera.operator") if o.start < hit.start]
            if operators:
                sentence = max((s for s, _ in a.sentences if s <= hit.start), default=0)
                if any(sentence <= start for start in operators):
                    continue
            words = re.findall(r"[^\W\d_]+", a.lower[clause_start(a, hit.start) : hit.start])
            if any(w not in camera._FILLER for w in words):
                continue
            if "zoom" in hit.phrase and (words or not hit.phrase.startswith("zoom")):
                continue
            tail = a.lower[hit.end : hit.end + 30]
            if re.match(r"\s+(?:to|toward|towards)\s+(?:the\s+)?(?:camera|lens|viewer)", tail):
                continue
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=hit.start,
                    end=hit.end,
                    match=a.text[hit.start : hit.end],
                )
            )
            break
    return out


REFERENCES = {
    "KP901": ref_exact_count,
    "KP603": ref_negative_conflicts,
    "KP604": ref_default_negative,
    "KP702": ref_too_many_camera_moves,
    "KP703": ref_ambiguous_camera,
}


# -- requests ------------------------------------------------------------------------------------


def _context(request: Request, options: dict[str, dict[str, Any]] | None = None) -> Context:
    info, mode, family = LINTER.resolve(request)
    ctx = Context(
        request, info=info, mode=mode, family=family, matcher=LINTER.matcher, config=LINTER.config
    )
    ctx.options = options if options is not None else LINTER._options
    ctx.severity = LINTER.severity
    return ctx


def _outcome(diagnostics: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diagnostics]


def _same(code: str, request: Request, options: dict[str, dict[str, Any]] | None = None) -> None:
    """The check and its reference report the same, each on a fresh context (so that neither
    profits from what the other computed), and the same again on a shared one."""
    meta = META[code]
    fast = _outcome(CHECKS[code](_context(request, options), meta))
    slow = _outcome(REFERENCES[code](_context(request, options), meta))
    assert fast == slow, (code, request.arguments)
    shared = _context(request, options)
    assert _outcome(REFERENCES[code](shared, meta)) == slow
    assert _outcome(CHECKS[code](shared, meta)) == fast


def _request(prompt: str, shots: list[str] | None = None, **arguments: Any) -> Request:
    args: dict[str, Any] = {"prompt": prompt, **arguments}
    if shots:
        args["multi_prompt"] = [{"prompt": s, "duration": "5"} for s in shots]
    return Request("fal-ai/kling-video/v3/pro/text-to-video", args)


_GLUE = st.sampled_from(
    [
        *[" ", " ", " ", "  ", ", ", ". ", "; ", ": ", "\n", " - ", "-", "\t", "\xa0", " “", "” "],
        *[' "', '" ', " (", ") ", "—", "_", "'", "’", "! ", "? "],
    ]
)


def _texts(words: list[str], size: int = 40) -> st.SearchStrategy[str]:
    return st.lists(st.tuples(st.sampled_from(words), _GLUE), max_size=size).map(
        lambda parts: "".join(w + g for w, g in parts)
    )


def _prompts(words: list[str]) -> st.SearchStrategy[tuple[str, list[str] | None]]:
    text = st.one_of(_texts(words), st.text(max_size=40))
    return st.tuples(text, st.one_of(st.none(), st.lists(text, min_size=1, max_size=3)))


# -- KP901 ---------------------------------------------------------------------------------------

_COUNT_WORDS = [
    "4", "5", "10", "12", "100", "999", "1000", "3", "2", "0", "07", "1,000", "3.5", "5%", "4x",
    "16:9", "#5", "$20", "-5", "24fps", "1950s", "٥", "５", "١٠", "four", "Five", "TEN",
    "twelve", "dozen", "twenty", "thirty", "forty", "fifty", "fifteen", "a", "of", "to", "and",
    "or", "times", "x", "red", "big", "tiny", "puppies", "Puppies", "people", "children",
    "sheep", "fish", "balloons", "cats", "dogs", "glass", "boss", "bus", "basis", "seconds",
    "sec", "steps", "dollars", "degrees", "meters", "years", "hours", "frames", "shots", "Shot",
    "scene", "minutes", "days", "knots", "miles", "kilometres", "percent", "puppy", "cat",
    "the", "at", "in", "after",
]  # fmt: skip


# Counts as they are written: a number, a space of some kind, up to two adjectives, a noun.
_COUNTS = st.tuples(
    st.sampled_from(["4", "5", "12", "100", "1000", "3", "five", "Twelve", "dozen", "٥", "١٠"]),
    st.sampled_from([" ", "  ", "\t", "\n", "\xa0", "\u2003", "", "-", "x", "%", ":", ".5 "]),
    st.sampled_from(["", "red ", "big old ", "of ", "x "]),
    st.sampled_from(["puppies", "people", "sheep", "seconds", "steps", "cats.", "glass", "boss"]),
).map("".join)


@SETTINGS
@given(
    prompt=_prompts(_COUNT_WORDS) | _COUNTS.map(lambda text: (text, None)),
    minimum=st.sampled_from([None, 1, 4, 10]),
)
def test_exact_count_is_the_reference(
    prompt: tuple[str, list[str] | None], minimum: int | None
) -> None:
    options = None if minimum is None else {"KP901": {"min": minimum}}
    _same("KP901", _request(prompt[0], prompt[1]), options)


def test_exact_count_examples() -> None:
    for text in (
        "10 puppies play, five red balloons, 12 big old dogs and 20 cats, 30 cats",
        "After 5 seconds the car drives 30 meters; 4 steps of 5 people; ten times 4 dogs",
        'He says "we have 10 prizes" and shows 12 cups, "20 cups" more',
        "Shot 4: 5 cats. Forty five 7 x dogs",
        "10\tpuppies, 12\xa0cats, 5\nchairs, 20\u2003dogs, 4K cats, 16:9 frames, 7-cats",
    ):
        _same("KP901", _request(text))


# -- KP603 ---------------------------------------------------------------------------------------

_TERM_WORDS = [
    "blur", "blurry", "blurs", "Blur", "text", "TEXT", "texts", "low", "quality", "watermark",
    "watermarks", "rain", "rainy", "cat", "cats", "CAT", "extra", "limbs", "hands", "distorted",
    "face", "faces", "no", "not", "without", "avoid", "and", "or", "the", "a", "an", "any",
    "motion", "heavy", "sharp", "sign", "logo", "logos", "lur", "ext", ".", "..", "İ", "ı", "Σ",
    "ΟΔΟΣ", "ſ", "ß", "café", "naïve", "中文", "x", "y",
]  # fmt: skip
_NEGATIVES = st.one_of(
    st.lists(
        st.tuples(
            st.sampled_from(_TERM_WORDS),
            st.sampled_from([", ", ",", "; ", "\n", " ", "  ", " . ", ".", "\t", " and ", ",  "]),
        ),
        max_size=16,
    ).map(lambda parts: "".join(w + g for w, g in parts)),
    st.text(max_size=30),
)


@SETTINGS
@given(prompt=_prompts(_TERM_WORDS), negative_prompt=_NEGATIVES)
def test_negative_conflicts_are_the_reference(
    prompt: tuple[str, list[str] | None], negative_prompt: str
) -> None:
    _same("KP603", _request(prompt[0], prompt[1], negative_prompt=negative_prompt))


@SETTINGS
@given(prompt=_prompts(_TERM_WORDS), negative_prompt=_NEGATIVES)
def test_candidate_terms_hold_every_present_term(
    prompt: tuple[str, list[str] | None], negative_prompt: str
) -> None:
    texts = [Analysis(prompt[0])] + [Analysis(s, kind="shot") for s in prompt[1] or ()]
    neg = Analysis(negative_prompt, field="negative_prompt", kind="negative_prompt")
    every = negative._terms(neg)
    assert every == ref_terms(negative_prompt)
    candidates = negative._candidate_terms(neg, texts)
    found = iter(every)
    assert all(term in found for term in candidates)  # in order, and each one a term
    present = [t for t in every if any(t[0] in a.lower for a in texts)]
    assert [t for t in candidates if any(t[0] in a.lower for a in texts)] == present


# -- KP604 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", sorted(catalog.endpoint_ids()))
def test_default_negative_is_the_reference(endpoint: str) -> None:
    for negative_prompt in (None, "", "  ", "blur", 5):
        for prompt in (None, "A lighthouse at dusk"):
            arguments: dict[str, Any] = {}
            if prompt is not None:
                arguments["prompt"] = prompt
            if negative_prompt is not None:
                arguments["negative_prompt"] = negative_prompt
            request = Request(endpoint, arguments)
            _same("KP604", request)
            _same("KP604", request)  # the endpoint's message now comes from the table


# -- KP702 ---------------------------------------------------------------------------------------

_CAMERA_WORDS = [
    *LINTER.matcher.phrases("camera")[::3],
    "pans", "left", "tilts", "up", "zooms", "in", "orbits", "static", "camera", "the camera",
    "she", "he", "and", "then", "Shot 1:", "Shot 2:", "Scene 3.", "locked-off", "handheld",
    "drone", "tracking shot", '"pan left"', "quickly",
]  # fmt: skip


@SETTINGS
@given(prompt=_prompts(_CAMERA_WORDS), maximum=st.sampled_from([None, 0, 1, 2, 3]))
def test_too_many_camera_moves_is_the_reference(
    prompt: tuple[str, list[str] | None], maximum: int | None
) -> None:
    options = None if maximum is None else {"KP702": {"max": maximum}}
    _same("KP702", _request(prompt[0], prompt[1]), options)


def test_move_keys_are_every_move_a_camera_hit_counts() -> None:
    moves = camera._move_keys(LINTER.matcher)
    for phrase in LINTER.matcher.phrases("camera"):
        hit = Hit(0, len(phrase), phrase, LINTER.matcher.keys_of_match(phrase), None)
        move = move_of(hit)
        assert move in moves or move in (None, "camera.static"), phrase
    assert "camera.static" not in moves
    assert "camera.operator" not in moves


def test_too_many_camera_moves_examples() -> None:
    for text in (
        "The camera pans left, tilts up to the sky, then zooms in and orbits around the tower",
        "Shot 1: pan left over the city, tilt up. Shot 2: a slow zoom in, then a tracking shot.",
        'She shouts "pan left, tilt up, zoom in!" as the camera orbits',
        "Static camera, locked-off, then pans left and pans right and tilts up",
    ):
        _same("KP702", _request(text))


# -- KP703 ---------------------------------------------------------------------------------------

_AMBIGUOUS_WORDS = [
    *LINTER.matcher.phrases("camera-ambiguous"),
    *sorted(camera._FILLER),
    "camera", "lens", "the camera", "she", "he", "fox", "moves", "to", "toward", "towards",
    "viewer", "on her face", ".", "to the camera", "towards the lens", "slow zoom in",
    "Camera operator", "drone", "[Host]",
]  # fmt: skip


@SETTINGS
@given(prompt=_prompts(_AMBIGUOUS_WORDS))
def test_ambiguous_camera_is_the_reference(prompt: tuple[str, list[str] | None]) -> None:
    _same("KP703", _request(prompt[0], prompt[1]))


# -- KP804: time marks ---------------------------------------------------------------------------

_MARK_PIECES = st.sampled_from(
    [
        "at", "after", "by", "until", "around", "from", "within", "in", "the", "first", "AT",
        "After", "The", "First", "ın", "wıthin", "fırst", "İn", "thé", "ſ", "s", "S", "sec",
        "secs", "second", "seconds", "Seconds", "mark", "-", " - ", "5", "12", "3.5", "1.2.3",
        "٣", "５", "１０", "0", "80s", "1950s", "the 80s", "cabin", "(at", "flat", "that", "bath",
        "Within", "aft", "x", "—", "…", "\n", "\t", "\u00a0", "\u2003", "  ", " ", " ", " ", " ",
        ".", ",", "é", "中文", "_", "5s", "5-s", "5 -s",
    ]
)  # fmt: skip
_WS = st.sampled_from([" ", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "", "-", "—"])
# Mark-like phrases: an opener (or a near miss), "the", "first", a number and a unit.
_MARKISH = st.tuples(
    st.sampled_from(["at", "After", "BY", "until", "around", "from", "within", "in", "ın", "flat"])
    | st.sampled_from(["the", "first", "x", "(at", "wıthin", "thé", "at the", "catch", ""]),
    _WS,
    st.sampled_from(["", "the", "The", "first", "FIRST", "fırst", "the first", "a"]),
    _WS,
    st.sampled_from(["5", "12", "3.5", "٣", "１０", "80", "1950", "5.", "0", "1.2.3"]),
    _WS,
    st.sampled_from(["s", "S", "sec", "secs", "second", "Seconds", "ſ", "s-mark", "mark", "x", ""]),
    st.sampled_from(["", " mark", "-second mark", ".", ",", "s", "x", " "]),
).map("".join)
_MARK_TEXT = st.lists(_MARK_PIECES | _MARKISH, max_size=30).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(_MARK_TEXT, st.text(max_size=40)))
def test_find_time_marks_is_the_analysis(text: str) -> None:
    assert consistency.find_time_marks(Analysis(text)) == Analysis(text).time_marks


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(_MARK_TEXT, st.text(max_size=40)))
def test_every_time_mark_passes_the_pre_checks(text: str) -> None:
    """A mark's number is a whole run of digits after whitespace; the tail test holds where it
    ends and the head test where it starts."""
    for m in TIME_MARK.finditer(text):
        start = m.start(1)
        digits = re.match(r"\d+", text[start:]).end()  # type: ignore[union-attr]
        assert text[start - 1].isspace()
        assert not text[start + digits : start + digits + 1].isdecimal()
        assert consistency._MARK_TAIL.match(text, start + digits) is not None
        assert consistency._may_follow_opener(text, start)


def test_time_mark_pre_checks_mirror_the_pattern() -> None:
    """``_MARK_TAIL`` and ``_HEAD_END`` copy parts of ``TIME_MARK``: the tests above would not see
    every way a change to it could break them, so its shape is pinned here."""
    openers = r"(?:at|after|by|until|around|from|within|in)"
    tail = r"\s*(?:-|\s)?\s*(?:seconds?|secs?|s)\b"
    assert TIME_MARK.pattern == (
        r"\b" + openers + r"\s+(?:the\s+)?(?:first\s+)?(\d+(?:\.\d+)?)" + tail + r"(?:\s*mark)?"
    )
    assert consistency._MARK_TAIL.pattern == r"(?:\.\d+)?" + tail
    assert consistency._HEAD_END.pattern == openers[:-1] + r"|the|first)\Z"
    for pattern in (TIME_MARK, consistency._MARK_TAIL, consistency._HEAD_END):
        assert pattern.flags & re.IGNORECASE


# -- the real corpus -----------------------------------------------------------------------------


def _corpus() -> Iterator[Request]:
    if not CORPUS.exists():
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from corpus import request_for  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    with open(CORPUS, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                yield request_for(record)
                prompt = record["prompt"]
                yield _request(
                    prompt, negative_prompt=record.get("negative_prompt") or "blur, text"
                )
                parts = [p for p in prompt.split(". ") if p.strip()][:4]
                if len(parts) > 1:
                    yield _request("", parts)


def test_corpus_reports_as_the_references() -> None:
    for request in _corpus():
        for code in REFERENCES:
            meta = META[code]
            _, mode, family = LINTER.resolve(request)
            if meta.applies(mode, family):
                _same(code, request)
        for a in _context(request).analyses:
            assert consistency.find_time_marks(a) == a.time_marks
