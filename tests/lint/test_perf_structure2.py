"""Second round of fast paths in the KP3xx/KP4xx checks, each compared with the plain computation.

The comparisons run on generated texts built to hit the corners of each fast path (quotes,
labels, apostrophes, non-ASCII punctuation, shot labels) and on the real-prompt corpus when it is
available.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_perf_structure import LINTER, _context

from kling_prompt.linter.checks import motion, structure
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.rules import Context, RuleMeta
from kling_prompt.linter.text import Analysis

META = {rule.meta.code: rule.meta for rule in LINTER.rules}
SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _split(words: str) -> list[str]:
    return words.split()


def _dicts(diagnostics: Any) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diagnostics]


# -- KP408: the first repeated run --------------------------------------------------------------

# The reference: every piece of ``_PIECE`` in turn (a word, or a block break), quoted words as
# breaks, the first occurrence of each run remembered.
REF_PIECE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|\[[^\[\]\n]*\]|[\"“”「」.!?;:\n()]")


def ref_first_repeat(a: Analysis, lo: int, hi: int, size: int) -> tuple[int, int] | None:
    if size < 1:
        return None
    seen: dict[tuple[str, ...], int] = {}
    words: list[str] = []
    starts: list[int] = []
    index = -1
    indices: list[int] = []
    for m in REF_PIECE.finditer(a.lower, lo, hi):
        index += 1
        piece, start = m.group(), m.start()
        if not piece[0].isalnum() or a.in_quote(start):
            words, starts, indices = [], [], []
            continue
        words.append(piece)
        starts.append(start)
        indices.append(index)
        if len(words) < size:
            continue
        run = tuple(words[-size:])
        first = seen.setdefault(run, indices[-size])
        if indices[-size] - first >= size and sum(w not in structure._STOP for w in run) >= 2:
            return starts[-size], m.end()
    return None


# Few distinct words, so that runs repeat; words with apostrophes, digits and non-ASCII letters.
_FR_WORDS = st.sampled_from(
    [
        *_split("red kite the a over beach Red KITE flies it's it’s dogs' 'red red' o'clock"),
        *_split("café naïve 中文 你好 привет İstanbul ſhot x1 42 héllo e\u0301t _red red_"),
    ]
)
_FR_GLUE = st.sampled_from(
    [
        *[" ", " ", " ", " ", ", ", ". ", "! ", "? ", "; ", ": ", "\n", "\t", " - ", "-", "_"],
        *["\xa0", "\u3000", " “", "” ", "「", "」", ' "', '" ', " (", ") ", "…", "—", "–", "'"],
        *["’", "‘", " [", "] ", " [Host] ", " [Host, calm voice] ", "[", "]", "→", "※", "\x01"],
        *["，", "。", "？", "°", "«", "»", " Shot 1: ", " shot 2: ", " Scene 3. ", "\r", "\x1c"],
        *["''", "’’", " ' ", "\u0301", "©", "+", "++"],
    ]
)
_FR_TEXT = st.lists(st.tuples(_FR_WORDS, _FR_GLUE), max_size=50).map(
    lambda parts: "".join(w + g for w, g in parts)
)
# Plainer texts: the fast path (no stray apostrophes or rare symbols) most of the time.
_FR_PLAIN = st.lists(
    st.tuples(
        st.sampled_from(_split("red kite the a over beach flies it's 中文 café")),
        st.sampled_from([" ", " ", ", ", ". ", " [Host] ", ' "', '" ', "\n", "—", "“", "”"]),
    ),
    max_size=60,
).map(lambda parts: "".join(w + g for w, g in parts))

# Four words, so that runs repeat across every kind of break.
_FR_SMALL = st.lists(
    st.tuples(
        st.sampled_from(_split("red kite flies high")),
        st.sampled_from([" ", " ", " ", ' "', '" ', " [Host] ", "“", "”", ". ", "「", "」", "\n"]),
    ),
    min_size=6,
    max_size=40,
).map(lambda parts: "".join(w + g for w, g in parts))
# The same four words twice, joined each time by glue that may break the run (a label, a quote,
# a sentence end), inside other text.
_RUN_GLUE = st.sampled_from(
    [" ", " ", " ", " ", " ", " ", ", ", "-", " [Host] ", ' "', '" ', "“", ". ", "—", "'", "’"]
)
_RUN_WORDS = st.sampled_from(
    _split("red kite the a over it's o’clock 中文 café héllo x1 42 İstanbul")
)


def _twice(words: list[str], first: list[str], second: list[str], parts: list[str]) -> str:
    def run(glue: list[str]) -> str:
        return "".join(w + g for w, g in zip(words, glue, strict=False)) + words[-1]

    return f"{parts[0]} {run(first)} {parts[1]} {run(second)} {parts[2]}"


_FR_TWICE = st.builds(
    _twice,
    st.lists(_RUN_WORDS, min_size=4, max_size=4),
    st.lists(_RUN_GLUE, min_size=3, max_size=3),
    st.lists(_RUN_GLUE, min_size=3, max_size=3),
    st.lists(
        st.one_of(_FR_TEXT, st.sampled_from([" ", ". ", ' "x" ', " [a] "])), min_size=3, max_size=3
    ),
)
_FR_ANY = st.one_of(_FR_TEXT, _FR_PLAIN, _FR_SMALL, _FR_TWICE)


@SETTINGS
@given(text=_FR_ANY, size=st.sampled_from([1, 2, 3, 4, 5]), batch=st.sampled_from([0, 1, 9, 1500]))
def test_first_repeat_over_segments(text: str, size: int, batch: int) -> None:
    a = Analysis(text)
    # Small batches: many of them, for both readers.
    defaults = structure._FIRST_BATCH, structure._FIRST_BYTES
    structure._FIRST_BATCH, structure._FIRST_BYTES = max(batch // 6, 1), batch
    try:
        for lo, hi in [(0, len(text)), *a.segments()]:
            expected = ref_first_repeat(a, lo, hi, size)
            assert structure._first_repeat(a, lo, hi, size) == expected
            assert structure._first_repeat_scanned(a, lo, hi, size) == expected
    finally:
        structure._FIRST_BATCH, structure._FIRST_BYTES = defaults


def test_first_repeat_across_batches() -> None:
    # The second run right after the first, in the next block: in every place of a batch.
    text = "red kite flies high. red kite flies high! a red kite flies high."
    a = Analysis(text)
    expected = ref_first_repeat(a, 0, len(text), 4)
    assert expected == (21, 40)
    default = structure._FIRST_BYTES
    try:
        for batch in range(len(text) + 1):
            structure._FIRST_BYTES = batch
            assert structure._first_repeat(a, 0, len(text), 4) == expected
            assert structure._first_repeat(a, 3, len(text), 4) == ref_first_repeat(
                a, 3, len(text), 4
            )
    finally:
        structure._FIRST_BYTES = default


@SETTINGS
@given(text=_FR_ANY, data=st.data())
def test_first_repeat_on_any_span(text: str, data: st.DataObject) -> None:
    a = Analysis(text)
    lo = data.draw(st.integers(0, len(text)))
    hi = data.draw(st.integers(lo, len(text)))
    assert structure._first_repeat(a, lo, hi, 4) == ref_first_repeat(a, lo, hi, 4)


def test_first_repeat_takes_the_fast_path_for_any_symbol() -> None:
    text = "the red kite flies ※ the\u0301 red kite flies → the red kite flies"
    a = Analysis(text)
    assert structure._translated(a, 0, len(text)) is not None
    assert structure._first_repeat(a, 0, len(text), 4) == ref_first_repeat(a, 0, len(text), 4)


def test_first_repeat_takes_the_fast_path_for_dialogue() -> None:
    text = (
        "A studio. [Host, calm voice] says: “It’s a red kite over the beach.” "
        "The red kite over the beach — it’s the red kite over the beach."
    )
    a = Analysis(text)
    assert structure._translated(a, 0, len(text)) is not None
    found = structure._first_repeat(a, 0, len(text), 4)
    assert found == ref_first_repeat(a, 0, len(text), 4)
    assert found is not None
    assert text[found[0] : found[1]] == "the red kite over"


def test_first_repeat_scans_texts_bytes_cannot_split() -> None:
    for text in ("'red' kite", "red kite'", "rock''n", "a\x01b"):
        assert structure._translated(Analysis(text), 0, len(text)) is None


def ref_repeated_phrase(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    size = int(ctx.option(meta, "min_words", 4))
    out = []
    for a in ctx.texts(meta):
        if a.word_count < 2 * size or not structure._may_repeat(a.lower, size):
            continue
        for lo, hi in a.segments():
            hit = ref_first_repeat(a, lo, hi, size)
            if hit is not None:
                start, end = hit
                out.append(
                    ctx.report(meta, field=a.field, start=start, end=end, match=a.text[start:end])
                )
    return out


@SETTINGS
@given(text=_FR_ANY)
def test_repeated_phrase(text: str) -> None:
    ctx = _context(text)
    meta = META["KP408"]
    assert _dicts(structure.repeated_phrase(ctx, meta)) == _dicts(ref_repeated_phrase(ctx, meta))


# -- KP403 / KP404 / has_motion: the rules against their plain versions ------------------------

_PROSE_WORDS = st.sampled_from(
    [
        *_split("a an the A The woman man dog knight painter keeper she he they her his it"),
        *_split("Rumi Anna @Element1 @Image2 <<<voice_1>>> walks runs turns spins kneading"),
        *_split("dancing building morning camera pans slowly push in orbit static tracking"),
        *_split("shot cinematic 35mm film moody in at on under a cafe forest cliff dusk"),
        *_split("red kite sky water light ++hero++ ++ masterpiece best quality 8k dance jumps"),
        *_split("İnventor ſailor naïve café 中文"),
    ]
)
_PROSE_GLUE = st.sampled_from(
    [" ", " ", " ", " ", ", ", ". ", "! ", "? ", "\n", ": ", ' "', '" ', " [Host] ", " [", "] "]
)
_PROSE = st.lists(st.tuples(_PROSE_WORDS, _PROSE_GLUE), max_size=50).map(
    lambda parts: "".join(w + g for w, g in parts)
)


def ref_late_subject(a: Analysis) -> Any:
    # The check before the fast paths: every subject and pronoun hit tested against each limit.
    def early(limit: int) -> bool:
        if a.references and a.references[0].start <= limit:
            return True
        return any(h.start <= limit for h in a.hits_for("components.subject")) or any(
            h.start <= limit for h in a.hits_for("components.pronoun")
        )

    if "components.subject" not in a.keys:
        return None
    third = structure._word_start(a.text, a.word_count // 3)
    if early(third):
        return None
    first_end = structure._first_sentence_end(a)
    if first_end is None:
        return None
    limit = max(first_end, third)
    if limit > third and early(limit):
        return None
    if structure._names_someone(a.text[:limit], a.lower[:limit]):
        return None
    subjects = [h for h in a.hits_for("components.subject") if not a.in_quote(h.start)]
    if not subjects:
        return None
    hit = subjects[0]
    sentence_start = max((s for s, _ in a.sentences if s <= hit.start), default=0)
    if len(a.text[sentence_start : hit.start].split()) > 3:
        return None
    return hit


@SETTINGS
@given(text=_PROSE)
def test_late_subject(text: str) -> None:
    a = Analysis(text, matcher=LINTER.matcher)
    assert structure._late_subject(a) is ref_late_subject(a)


@SETTINGS
@given(text=_PROSE, mode=st.sampled_from(["text-to-video", "image-to-video"]))
def test_buried_subject_reports(text: str, mode: str) -> None:
    ctx, expected_ctx = _context(text, mode), _context(text, mode)
    meta = META["KP404"]
    got = _dicts(structure.buried_subject(ctx, meta))
    expected = []
    for a in expected_ctx.texts(meta):
        if a.word_count < 20 or a.emphasis:
            continue
        if structure._LABELS.search(a.text):
            continue
        hit = ref_late_subject(a)
        if hit is not None:
            expected.append((hit.start, hit.end))
    assert [(d["span"]["start"], d["span"]["end"]) for d in got if "subject" in d["message"]] == (
        expected
    )


REF_PLACE = re.compile(
    r"\b(?:in|at|inside|through|across|along|near|by|under|over|on|into|onto|from)\s+(?:a|an|the)\s+"
)


def ref_missing_component(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    min_words = int(ctx.option(meta, "min_words", 8))
    min_missing = int(ctx.option(meta, "min_missing", 1))
    out = []
    for a in ctx.texts(meta):
        if a.word_count < min_words:
            continue
        missing = []
        if not structure._has_subject(a):
            missing.append("subject")
        if not ("components.scene" in a.keys or REF_PLACE.search(a.lower)):
            missing.append("scene setting")
        if not ref_has_motion(a):
            missing.append("motion")
        if not ("components.style" in a.keys or "tag-soup" in a.keys):
            missing.append("style")
        if missing and len(missing) >= min_missing:
            out.append(
                ctx.report(
                    meta, field=a.field, start=0, end=len(a.text), missing=", ".join(missing)
                )
            )
    return out


@SETTINGS
@given(text=_PROSE, min_missing=st.sampled_from([None, 1, 2, 4]))
def test_missing_component(text: str, min_missing: int | None) -> None:
    ctx, expected_ctx = _context(text), _context(text)
    if min_missing is not None:
        ctx.options = expected_ctx.options = {"KP403": {"min_missing": min_missing}}
    meta = META["KP403"]
    assert _dicts(structure.missing_component(ctx, meta)) == _dicts(
        ref_missing_component(expected_ctx, meta)
    )


def test_missing_component_keeps_an_unformattable_message() -> None:
    meta = RuleMeta({**_meta_doc(META["KP403"]), "message": "Missing {what}."})
    ctx = _context("A lighthouse keeper climbs the spiral stairs and lights the great lamp")
    assert [d.message for d in structure.missing_component(ctx, meta)] == ["Missing {what}."]


def _meta_doc(meta: RuleMeta) -> dict[str, Any]:
    return {
        "code": meta.code,
        "name": meta.name,
        "severity": meta.severity,
        "kind": meta.kind,
        "message": meta.message,
        "options": meta.options,
        "scope": {"modes": sorted(meta.modes or ())},
    }


def ref_has_motion(a: Analysis) -> bool:
    keys = a.keys
    if "motion-verbs" in keys:
        return True
    if not keys.isdisjoint(motion.CHOREOGRAPHY_CATEGORIES):
        return True
    if motion.camera_moves(a) or any(q.label is not None for q in a.quotes):
        return True
    return any(m.group() not in motion._NOT_PARTICIPLES for m in REF_PARTICIPLE.finditer(a.lower))


REF_PARTICIPLE = re.compile(r"\b[a-z]{2,}ing\b")


@SETTINGS
@given(text=_PROSE)
def test_has_motion(text: str) -> None:
    assert motion._has_motion(Analysis(text, matcher=LINTER.matcher)) == ref_has_motion(
        Analysis(text, matcher=LINTER.matcher)
    )


@SETTINGS
@given(text=_PROSE, mode=st.sampled_from(["text-to-video", "image-to-video"]))
def test_no_motion(text: str, mode: str) -> None:
    meta = META["KP303"]
    expected = [
        (a.field, 0, len(a.text))
        for a in _context(text, mode).texts(meta)
        if a.text.strip() and not ref_has_motion(a)
    ]
    got = motion.no_motion(_context(text, mode), meta)
    assert [(d.field, d.start, d.end) for d in got] == expected


def test_late_subject_mentioned_right_at_the_limit() -> None:
    # "They" starts exactly where the first sentence ends, past the first third: early enough.
    text = (
        "Soft golden light spills over rolling hills and wildflowers sway in a warm breeze under a "
        "hazy sky.They watch. Slow drone shot, soft film grain. A lone horse rider gallops "
        "toward the camera."
    )
    a = Analysis(text, matcher=LINTER.matcher)
    assert ref_late_subject(a) is None
    assert structure._late_subject(a) is None
    without = Analysis(text.replace("They watch.", "All calm."), matcher=LINTER.matcher)
    assert structure._late_subject(without) is ref_late_subject(without) is not None


# -- KP409 ----------------------------------------------------------------------------------------


def ref_mixed_language(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    min_run = int(ctx.option(meta, "min_run", 12))
    out = []
    for a in ctx.texts(meta):
        text = a.text
        counts = {"Latin": sum(len(m.group()) for m in structure._LATIN.finditer(text))}
        for name, pattern in structure._SCRIPTS.items():
            counts[name] = sum(
                len(m.group()) for m in pattern.finditer(text) if not a.in_quote(m.start())
            )
        main = max(counts, key=lambda k: counts[k])
        if counts[main] == 0:
            continue
        run = structure._longest_foreign_run(a, main, min_run)
        if run is not None:
            start, end, script = run
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=start,
                    end=end,
                    main=main,
                    other=script,
                    match=text[start:end],
                )
            )
    return out


_SCRIPT_WORDS = st.sampled_from(
    [
        *_split("woman walks market cinematic café Zürich crème brûlée naïve ÀÉÎ"),
        *_split("她手里拿着一把红色的雨伞 今日本座在此 你好 こんにちは 안녕하세요 ｶﾀｶﾅ"),
        *_split("привет мир добрый مرحبا بالعالم नमस्ते दुनिया สวัสดี ครับ 12 @Element1"),
    ]
)
_SCRIPT_GLUE = st.sampled_from(
    [" ", " ", ", ", ". ", ' "', '" ', " “", "” ", "「", "」", "\n", "—"]
)
_SCRIPT_TEXT = st.lists(st.tuples(_SCRIPT_WORDS, _SCRIPT_GLUE), max_size=30).map(
    lambda parts: "".join(w + g for w, g in parts)
)


@SETTINGS
@given(text=_SCRIPT_TEXT, min_run=st.sampled_from([None, 2, 6, 12]))
def test_mixed_language(text: str, min_run: int | None) -> None:
    ctx, expected_ctx = _context(text), _context(text)
    if min_run is not None:
        ctx.options = expected_ctx.options = {"KP409": {"min_run": min_run}}
    meta = META["KP409"]
    assert _dicts(structure.mixed_language(ctx, meta)) == _dicts(
        ref_mixed_language(expected_ctx, meta)
    )


# -- KP307 / KP304 --------------------------------------------------------------------------------

_LABELLED = st.lists(
    st.tuples(
        st.sampled_from(["shot", "Shot", "SHOT", "scene", "Scene", "ſhot", "ſcene", "shots", "x"]),
        st.sampled_from(["", " ", "  ", "\u2003", "\n"]),
        st.sampled_from(["1", "2", "١", "٢", "12", "", "a"]),
        st.sampled_from([":", ".", ")", "-", "—", "–", " ", "!"]),
        st.sampled_from([" a knight rides. ", " ", "\n", "; ", "tracking ", "x"]),
    ).map("".join),
    max_size=6,
).map("".join)


@SETTINGS
@given(text=st.one_of(_LABELLED, _PROSE))
def test_two_labels_possible_whenever_two_labels(text: str) -> None:
    a = Analysis(text)
    if len(a.shot_labels) >= 2:  # two labels, whatever their numbers (KP408 splits segments)
        assert motion._two_labels_possible(a.lower)


def test_two_labels_need_numbers() -> None:
    assert not motion._two_labels_possible("a tracking shot of the scene, then a wide shot")
    assert motion._two_labels_possible("shot 1: a knight rides. shot 2: he stops.")
    assert motion._two_labels_possible("SCENE\u20031) a. Shot ٢: b".lower())


def ref_appearance_heavy(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    share = float(ctx.option(meta, "max_share", 0.5))
    min_words = int(ctx.option(meta, "min_words", 12))
    out = []
    for a in ctx.texts(meta):
        looks = a.hits_for("appearance")
        total = a.word_count
        if len(looks) < 2 or total < min_words:
            continue
        bounds = [m.end() for m in re.finditer(r"[,.;:!?\n]+", a.text)]
        clauses = {sum(b <= h.start for b in bounds) for h in looks if not a.in_quote(h.start)}
        moving = a.hits_for("motion-verbs") + motion.camera_moves(a)
        clauses -= {sum(b <= h.start for b in bounds) for h in moving}
        if len(clauses) < 2:
            continue
        edges = [0, *bounds, len(a.text)]
        words = sum(len(a.text[edges[i] : edges[i + 1]].split()) for i in clauses)
        if words / total > share:
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=edges[min(clauses)],
                    end=edges[max(clauses) + 1],
                    share=round(100 * words / total),
                )
            )
    return out


_LOOKS = st.lists(
    st.tuples(
        st.sampled_from(
            _split("long wavy auburn hair green eyes freckles wearing a cream knit sweater gold")
            + _split("hoop earrings silk scarf woman smiles walks turns slowly camera pans")
        ),
        st.sampled_from([" ", " ", " ", ", ", ". ", " and ", ' "', '" ']),
    ),
    max_size=40,
).map(lambda parts: "".join(w + g for w, g in parts))


@SETTINGS
@given(text=_LOOKS)
def test_appearance_heavy(text: str) -> None:
    meta = META["KP304"]
    got = motion.appearance_heavy(_context(text, "image-to-video"), meta)
    expected = ref_appearance_heavy(_context(text, "image-to-video"), meta)
    assert _dicts(got) == _dicts(expected)


@SETTINGS
@given(text=_FR_ANY)
def test_run_repeats_loosely_is_enough(text: str) -> None:
    words = structure._loose_words(text.lower())
    for lo, hi in Analysis(text).segments():
        found = structure._first_repeat(Analysis(text), lo, hi, 4)
        if found is not None and structure._run_repeats_loosely(
            text.lower()[found[0] : found[1]], words, 4
        ):
            assert structure._repeated_run_has_content(words, structure._STOP_BYTES, 4)
