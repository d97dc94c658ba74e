"""The fast paths of the KP3xx/KP4xx checks agree with their plain definitions.

The checks in ``checks/structure.py`` and ``checks/motion.py`` answer most prompts with cheap
C-level tests (split regular expressions, byte tables, set sizes) before any per-word Python
code. Each fast path here is compared, on generated text, with the straightforward version it
replaced, kept below as the reference.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.linter import Linter
from kling_prompt.linter.checks import motion, structure
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lexicon import Hit
from kling_prompt.linter.rules import Context, RuleMeta
from kling_prompt.linter.text import Analysis
from kling_prompt.request import Request

LINTER = Linter()
META = {rule.meta.code: rule.meta for rule in LINTER.rules}
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- reference definitions ------------------------------------------------------------------------

REF_AGENT = re.compile(
    r"(?i:\b(?:a|an|the|two|three|four|several|some)\s+(?:[a-z\-]+\s+){0,2}?"
    r"(?!(?:under|over|after|ever|never|other|water|weather|corner|summer|winter|silver|river"
    r"|tower|flower|center|centre|paper|later|closer|further|together|rather|either|floor|door"
    r"|colou?r|mirror|interior|exterior|anchor|shoulder|border|layer|letter|number|matter"
    r"|monitor|sweater|poster|timer|speaker|computer|counter|shelter|slender|tender)s?\b)"
    r"[a-z\-]+(?:er|or|ist|ian|man|men|woman|women)s?\b)"
    r"|(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b"
    r"|^\s*(?i:a|an|the|two|three|four|five|several|some|many)\s+(?!camera\b|view\b|shot\b)"
    r"|^\s*[A-Z][a-z]+(?:\s+[a-z]+)?\s+[a-z]+(?<!ss)s\b"
)
REF_WEIGHT = re.compile(
    r"\((?P<w1>[^()\n:]{1,60}):\s*-?\d+(?:\.\d+)?\)"
    r"|\(\((?P<w2>[^()\n]{1,60})\)\)"
    r"|\[\[(?P<w3>[^\[\]\n]{1,60})\]\]"
    r"|(?:(?<=^)|(?<=[,;]\s)|(?<=[,;]))\[(?P<w4>[a-z][a-z \-]{0,30})\](?=\s*(?:[,;]|$))"
)
REF_LOOSE_WORD = re.compile("[^\\s" + re.escape(structure._PUNCTUATION) + "]+")
REF_PIECE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|\[[^\[\]\n]*\]|[\"“”「」.!?;:\n()]")
REF_SHOT_LABEL = re.compile(
    r"(?:^|(?<=[\s.!?:;]))(?:shot|scene)\s*(\d+)\s*[:.)\-–—]", re.IGNORECASE
)
STOP = structure._STOP


def ref_may_repeat(lower: str, size: int) -> bool:
    words = REF_LOOSE_WORD.findall(lower)
    if len(words) <= size:
        return False
    grams = list(zip(*(words[i:] for i in range(size)), strict=False))
    if len(set(grams)) == len(grams):
        return False
    counts = Counter(grams)
    return any(c > 1 and sum(w not in STOP for w in g) >= 2 for g, c in counts.items())


def ref_first_repeat(a: Analysis, lo: int, hi: int, size: int) -> tuple[int, int] | None:
    seen: dict[tuple[str, ...], int] = {}
    words: list[str] = []
    starts: list[int] = []
    for m in REF_PIECE.finditer(a.lower, lo, hi):
        piece, start = m.group(), m.start()
        if not piece[0].isalnum() or a.in_quote(start):
            words, starts = [], []
            continue
        words.append(piece)
        starts.append(start)
        if len(words) < size:
            continue
        gram = tuple(words[-size:])
        first_end = seen.get(gram)
        if first_end is None:
            if size - sum(w in STOP for w in gram) >= 2:
                seen[gram] = m.end()
            continue
        if first_end <= starts[-size]:
            return starts[-size], m.end()
    return None


def ref_repeated_phrase(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    size = int(ctx.option(meta, "min_words", 4))
    out = []
    for a in ctx.texts(meta):
        if a.word_count < 2 * size or not ref_may_repeat(a.lower, size):
            continue
        for lo, hi in a.segments():
            hit = ref_first_repeat(a, lo, hi, size)
            if hit is not None:
                out.append(ctx.report(meta, field=a.field, start=hit[0], end=hit[1]))
    return out


def ref_late_subject(a: Analysis, limit: int) -> Hit | None:
    if a.references and a.references[0].start <= limit:
        return None
    for key in ("components.subject", "components.pronoun"):
        if any(h.start <= limit for h in a.hits_for(key)):
            return None
    if REF_AGENT.search(a.text[:limit]) is not None:
        return None
    subjects = [h for h in a.hits_for("components.subject") if not a.in_quote(h.start)]
    if not subjects:
        return None
    hit = subjects[0]
    sentence_start = max((s for s, _ in a.sentences if s <= hit.start), default=0)
    if len(a.text[sentence_start : hit.start].split()) > 3:
        return None
    return hit


def ref_buried_subject(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    min_words = int(ctx.option(meta, "min_words", 20))
    out = []
    for a in ctx.texts(meta):
        if a.word_count < min_words or len(a.sentences) < 2:
            continue
        limit = max(a.sentences[0][1], a.word_start(a.word_count // 3))
        if a.emphasis and a.emphasis[0][0] > limit:
            start, end = a.emphasis[0]
            out.append(ctx.report(meta, field=a.field, start=start, end=end, what="emphasized"))
            continue
        if a.emphasis or structure._LABELS.search(a.text):
            continue
        subject = ref_late_subject(a, limit)
        if subject is not None:
            out.append(ctx.report(meta, field=a.field, start=subject.start, end=subject.end))
    return out


# -- generated text -------------------------------------------------------------------------------


def _split(words: str) -> list[str]:
    return words.split()


_WORDS = st.sampled_from(
    [
        *_split("a an the of in on to with and or is it his her"),
        *_split("red kite flies over beach woman painter keeper doctor sailor water river"),
        *_split("A The Rumi Anna Two Shot Scene shot scene camera view turns walks runs"),
        *_split("she he they @Element1 @Image2 <<<voice_1>>> ++hero++ ++ +++ C++"),
        *_split("ſhot İstanbul Kelvin café naïve 中文字幕 你好世界 привет मनुष्य ไทย"),
        *_split("it's host’s 'quoted' x1 2 3s 10 (red:1.3) ((big)) [[tag]] [blurry]"),
        *_split("ſailor \u212aeeper paınter İnventor TEACHER"),
    ]
)
_GLUE = st.sampled_from(
    [
        *[" ", " ", " ", ", ", ". ", "! ", "? ", "; ", ": ", "\n", "\n\n", " - ", "-", "\t"],
        *["\xa0", "\u3000", " “", "” ", ' "', '" ', " [", "] ", " (", ") ", "…", "—", "_", "'"],
        "’",
    ]
)
_TEXT = st.lists(st.tuples(_WORDS, _GLUE), max_size=60).map(
    lambda parts: "".join(w + g for w, g in parts)
)
# Few words, so that runs repeat.
_REPEATING = st.lists(
    st.tuples(st.sampled_from(["red", "kite", "the", "a", "Kite", "over", "beach"]), _GLUE),
    max_size=40,
).map(lambda parts: "".join(w + g for w, g in parts))


def _context(prompt: str, mode: str = "text-to-video", **arguments: Any) -> Context:
    request = Request(None, {"prompt": prompt, **arguments}, mode=mode)
    info, resolved, family = LINTER.resolve(request)
    ctx = Context(
        request,
        info=info,
        mode=resolved,
        family=family,
        matcher=LINTER.matcher,
        config=LINTER.config,
    )
    ctx.options = LINTER._options
    ctx.severity = LINTER.severity
    return ctx


def _spans(diagnostics: Any) -> list[tuple[str | None, int | None, int | None]]:
    return [(d.field, d.start, d.end) for d in diagnostics]


# -- the comparisons ------------------------------------------------------------------------------


# Lowercase agent-like phrases, where case folding of "ſ", "K" (Kelvin), "ı" and "İ" matters.
_AGENTISH = st.lists(
    st.sampled_from(
        _split("x so the a two some ſailor \u212aeeper paınter İnventor water waters painter")
        + _split("sailors keeper-like -man women TEACHER old tall ﬁsher")
    )
    | st.sampled_from([" ", "  ", "-", ", ", "\n", ". "]),
    max_size=14,
).map("".join)


@SETTINGS
@given(text=st.one_of(_TEXT, _AGENTISH, st.text(max_size=60)))
def test_names_someone_is_the_agent_pattern(text: str) -> None:
    for end in (len(text), len(text) // 2):
        part = text[:end]
        expected = REF_AGENT.search(part) is not None
        assert structure._names_someone(part, part.lower()) == expected


_BRACKETS = st.lists(
    st.sampled_from(["[ab]", "[a b]", "[A]", "(ab:1.5)", "((ab))", "[[ab]]", "(ab)", "[", "]"])
    | st.sampled_from([", ", ",", "; ", ";", " ", "\n", ",\t", "a", ":", "-2"]),
    max_size=12,
).map("".join)


@SETTINGS
@given(text=st.one_of(_TEXT, _BRACKETS, st.text(alphabet="ab(:)[], ;\n1.-", max_size=40)))
def test_weight_pattern_finds_the_same_matches(text: str) -> None:
    def found(pattern: Any) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
        return [(m.span(), m.groups()) for m in pattern.finditer(text)]

    assert found(structure._WEIGHT) == found(REF_WEIGHT)


@SETTINGS
@given(text=st.one_of(_TEXT, st.text(max_size=60)))
def test_loose_words_split_in_c(text: str) -> None:
    lower = text.lower()
    words = [w.decode() for w in structure._loose_words(lower)]
    assert words == REF_LOOSE_WORD.findall(lower)


def test_wide_separators_are_every_non_ascii_space() -> None:
    spaces = {chr(c) for c in range(0x80, 0x110000) if chr(c).isspace()}
    listed = {c for c in map(chr, range(0x80, 0x3001)) if structure._WIDE_SEPARATORS.match(c)}
    assert spaces <= listed


@SETTINGS
@given(text=st.one_of(_REPEATING, _TEXT), size=st.sampled_from([1, 2, 3, 4, 5]))
def test_may_repeat(text: str, size: int) -> None:
    assert structure._may_repeat(text.lower(), size) == ref_may_repeat(text.lower(), size)


@SETTINGS
@given(
    text=st.one_of(_REPEATING, _TEXT),
    size=st.sampled_from([2, 3, 4, 5]),
    batch=st.sampled_from([1, 3, 256]),
)
def test_first_repeat(text: str, size: int, batch: int) -> None:
    a = Analysis(text)
    default, structure._FIRST_BATCH = structure._FIRST_BATCH, batch  # small: many batches
    try:
        for lo, hi in [(0, len(text)), *a.segments()]:
            assert structure._first_repeat(a, lo, hi, size) == ref_first_repeat(a, lo, hi, size)
    finally:
        structure._FIRST_BATCH = default


def test_first_repeat_reads_a_long_text_in_batches() -> None:
    filler = " ".join(f"w{i}" for i in range(2000))
    text = f"{filler}. The red kite flies high, {filler}, the red kite flies high."
    a = Analysis(text)
    assert structure._first_repeat(a, 0, len(text), 4) == ref_first_repeat(a, 0, len(text), 4)
    assert structure._first_repeat(a, 0, len(text), 4) is not None


@SETTINGS
@given(text=st.one_of(_REPEATING, _TEXT))
def test_repeated_phrase(text: str) -> None:
    ctx = _context(text)
    meta = META["KP408"]
    assert _spans(structure.repeated_phrase(ctx, meta)) == _spans(ref_repeated_phrase(ctx, meta))


@SETTINGS
@given(text=_TEXT)
def test_word_start(text: str) -> None:
    a = Analysis(text)
    starts = [m.start() for m in re.finditer(r"\S+", text)]  # the words, as a regex finds them
    for n in (0, 1, a.word_count // 3, a.word_count - 1, a.word_count, a.word_count + 1):
        if n < 0:
            continue
        expected = starts[n] if n < len(starts) else len(text)
        assert Analysis(text).word_start(n) == expected  # split in C, no spans cached
        assert structure._word_start(text, n) == expected


@SETTINGS
@given(text=st.one_of(_TEXT, st.text(alphabet="ab .!?\n", max_size=20)))
def test_first_sentence_end(text: str) -> None:
    a = Analysis(text)
    expected = a.sentences[0][1] if len(a.sentences) >= 2 else None
    assert structure._first_sentence_end(a) == expected


_LONG = st.lists(st.tuples(_WORDS, _GLUE), min_size=18, max_size=60).map(
    lambda parts: "".join(w + g for w, g in parts)
)


@SETTINGS
@given(text=_LONG, mode=st.sampled_from(["text-to-video", "image-to-video"]))
def test_buried_subject(text: str, mode: str) -> None:
    ctx = _context(text, mode)
    meta = META["KP404"]
    assert _spans(structure.buried_subject(ctx, meta)) == _spans(ref_buried_subject(ctx, meta))


@SETTINGS
@given(text=st.one_of(_TEXT, st.text(alphabet="shotSCENEſ 12:.", max_size=30)))
def test_two_labels_possible(text: str) -> None:
    if len({m.group(1) for m in REF_SHOT_LABEL.finditer(text)}) >= 2:
        assert motion._two_labels_possible(text.lower())


def test_two_labels_with_a_long_s() -> None:
    assert motion._two_labels_possible("ſhot 1: a knight rides. shot 2: he stops.")
    assert motion._two_labels_possible("ſhot 1: a knight rides. ſhot 2: he stops.")
    assert not motion._two_labels_possible("shot 1: a knight rides, slow tracking")


def test_fast_rules_keep_their_cases() -> None:
    prompt = "A red kite flies over the beach. Children laugh as a red kite flies over the beach."
    assert [d.code for d in structure.repeated_phrase(_context(prompt), META["KP408"])] == ["KP408"]
    assert list(structure.mixed_language(_context("plain ASCII text"), META["KP409"])) == []


def test_choreography_categories_carry_the_lexicon_key() -> None:
    # has_motion asks for "choreography" before its seven categories.
    matcher = LINTER.matcher
    assert matcher is not None
    lexicon = set(matcher.phrases("choreography"))
    for key in motion.CHOREOGRAPHY_CATEGORIES:
        assert matcher.phrases(key)
        assert set(matcher.phrases(key)) <= lexicon
