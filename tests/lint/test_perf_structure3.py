"""Third round of fast paths in the KP3xx/KP4xx checks, each compared with the plain computation.

As in ``test_perf_structure.py`` and ``test_perf_structure2.py``: generated texts aimed at the
corners of each fast path, and the real-prompt corpus when it is available.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gates import _corpus_requests
from test_perf_structure import LINTER, _context
from test_perf_structure2 import _FR_ANY, _PROSE, REF_PLACE, ref_first_repeat

from kling_prompt.linter.checks import motion, structure
from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.linter.rules import Context, RuleMeta
from kling_prompt.linter.text import Analysis

META = {rule.meta.code: rule.meta for rule in LINTER.rules}
CORPUS_TEXTS = [text for request in _corpus_requests() for _, text in request.text_fields()]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _dicts(diagnostics: Any) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diagnostics]


def _with_options(ctx: Context, code: str, options: dict[str, Any] | None) -> Context:
    if options is not None:
        ctx.options = {code: options}
    return ctx


# -- KP408: the word count after the superset, a length bound before it -------------------------


def ref_repeated_phrase(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """The check as written before its fast paths: every text with enough words, every segment,
    and the stop-word condition on the loose words of the whole text."""
    size = int(ctx.option(meta, "min_words", 4))
    out = []
    for a in ctx.texts(meta):
        if a.word_count < 2 * size:
            continue
        if not structure._may_repeat(a.lower, size):
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
@given(text=_FR_ANY, size=st.sampled_from([None, -1, 0, 1, 2, 3, 4, 5]))
def test_repeated_phrase_any_size(text: str, size: int | None) -> None:
    meta = META["KP408"]
    options = None if size is None else {"min_words": size}
    got = structure.repeated_phrase(_with_options(_context(text), "KP408", options), meta)
    expected = ref_repeated_phrase(_with_options(_context(text), "KP408", options), meta)
    assert _dicts(got) == _dicts(expected)


def test_repeated_phrase_on_short_texts_with_long_words() -> None:
    # Few whitespace words, many loose words: the word count still rules them out.
    meta = META["KP408"]
    for text in ("red,kite,flies,high. red,kite,flies,high", "a b c d e f g h", "x y"):
        for size in (1, 2, 4):
            ctx = _with_options(_context(text), "KP408", {"min_words": size})
            expected = ref_repeated_phrase(
                _with_options(_context(text), "KP408", {"min_words": size}), meta
            )
            assert _dicts(structure.repeated_phrase(ctx, meta)) == _dicts(expected)


def test_repeated_phrase_on_the_corpus() -> None:
    meta = META["KP408"]
    default = structure._FIRST_BYTES
    try:
        for batch in (default, 40):  # small batches: many of them on the long prompts
            structure._FIRST_BYTES = batch
            for prompt in CORPUS_TEXTS:
                got = structure.repeated_phrase(_context(prompt), meta)
                assert _dicts(got) == _dicts(ref_repeated_phrase(_context(prompt), meta))
    finally:
        structure._FIRST_BYTES = default


# -- KP404: the first mention from the matched texts, without the hits ---------------------------


def ref_first_mention(a: Analysis) -> int:
    references = a.references
    first = references[0].start if references else len(a.text)
    for hit in a.hits:
        if hit.start >= first:
            break
        if "components.subject" in hit.keys or "components.pronoun" in hit.keys:
            return hit.start
    return first


def _split(words: str) -> list[str]:
    return words.split()


# Subject words and pronouns, written with other separators (hyphens, runs of spaces, line
# breaks), inside other matches, after references and punctuation-led phrases.
_MENTION_WORDS = st.sampled_from(
    [
        *_split("old man old-man old  man OLD\nMAN wonder-woman spider man the crowd b-boy"),
        *_split("he her his him she they it shakes her hips raises his arms in her twenties"),
        *_split("woman keeper painter dog @Element1 @image2 <<<voice_1>>> <<<element_1>>> slow-mo"),
        *_split("camera pans drone shot tracking sky light rain cinematic ++hero++ lighthouse"),
    ]
)
_MENTION_GLUE = st.sampled_from([" ", " ", " ", ", ", ". ", "-", "  ", "\n", ' "', '" ', "@", "+"])
_MENTIONS = st.lists(st.tuples(_MENTION_WORDS, _MENTION_GLUE), max_size=30).map(
    lambda parts: "".join(w + g for w, g in parts)
)


def first_mention(a: Analysis) -> int:
    """The first mention as ``_late_subject`` takes it: a reference token or a named one."""
    references = a.references
    first = references[0].start if references else len(a.text)
    named = structure._first_named(a)
    return first if named is None else min(first, named)


@SETTINGS
@given(text=st.one_of(_MENTIONS, _PROSE))
def test_first_mention(text: str) -> None:
    got = first_mention(Analysis(text, matcher=LINTER.matcher))
    assert got == ref_first_mention(Analysis(text, matcher=LINTER.matcher))
    assert first_mention(Analysis(text)) == ref_first_mention(Analysis(text))


def ref_first_named(a: Analysis, names: Any) -> int | None:
    return next((h.start for h in a.hits if names(h.keys)), None)


@SETTINGS
@given(text=st.one_of(_MENTIONS, _PROSE))
def test_first_named(text: str) -> None:
    a = Analysis(text, matcher=LINTER.matcher)
    expected = ref_first_named(Analysis(text, matcher=LINTER.matcher), structure._names_someone_key)
    assert structure._first_named(a) == expected


@SETTINGS
@given(text=st.one_of(_MENTIONS, _PROSE))
def test_first_named_when_a_punctuation_led_match_names_someone(text: str) -> None:
    # No punctuation-led phrase is a subject word or a pronoun; pretend "<<<element_1>>>" is.
    original = structure._names_someone_key

    def names(keys: tuple[str, ...]) -> bool:
        return original(keys) or "references-native.tokens" in keys

    structure._names_someone_key = names
    try:
        a = Analysis(text, matcher=LINTER.matcher)
        expected = ref_first_named(Analysis(text, matcher=LINTER.matcher), names)
        assert structure._first_named(a) == expected
    finally:
        structure._names_someone_key = original


def test_first_mention_on_the_corpus() -> None:
    for prompt in CORPUS_TEXTS:
        a = Analysis(prompt, matcher=LINTER.matcher)
        assert first_mention(a) == ref_first_mention(a), prompt


# -- KP407: one kind of bracket, one literal to skip to ------------------------------------------

_BRACKET_TEXT = st.lists(
    st.sampled_from(
        [
            *["[ab]", "[a b]", "[A]", "(ab:1.5)", "((ab))", "[[ab]]", "(ab)", "[", "]", "(", ")"],
            *["[Host, calm voice]", "(red dress:1.4)", "[blurry]", "((big))", '"(best quality)"'],
            *["masterpiece", "best quality", "8k", "ultra detailed", "hdr", "sharp focus"],
        ]
    )
    | st.sampled_from([", ", ",", "; ", ";", " ", "\n", ",\t", "a", ":", "-2", ",\u3000", '"']),
    max_size=14,
).map("".join)


@SETTINGS
@given(text=st.one_of(_BRACKET_TEXT, st.text(alphabet="ab(:)[], ;\n1.-", max_size=40)))
def test_weight_patterns_of_one_bracket(text: str) -> None:
    def found(pattern: Any, text: str) -> list[tuple[tuple[int, int], str | None]]:
        return [
            (m.span(), next(g for g in m.groups() if g is not None)) for m in pattern.finditer(text)
        ]

    round_only, square_only = text.replace("[", "<"), text.replace("(", "<")
    assert found(structure._WEIGHT_ROUND_ONLY, round_only) == found(structure._WEIGHT, round_only)
    assert found(structure._WEIGHT_SQUARE_ONLY, square_only) == found(
        structure._WEIGHT, square_only
    )


def ref_ignored_weight_syntax(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """The check before its fast paths: the whole pattern on every text with a bracket."""
    min_tags = int(ctx.option(meta, "min_quality_tags", 3))
    out = []
    for a in ctx.texts(meta):
        text = a.text
        if "(" in text or "[" in text:
            for m in structure._WEIGHT.finditer(text):
                if a.in_quote(m.start()):
                    continue
                word = next(g for g in m.groups() if g is not None).strip()
                fix = Fix(
                    f"Replace with {word!r}", [Edit(a.field, m.start(), m.end(), word)], safe=True
                )
                out.append(
                    ctx.report(
                        meta,
                        field=a.field,
                        start=m.start(),
                        end=m.end(),
                        fix=fix,
                        match=m.group(),
                        advice=f"write plain '{word}' (use ++{word}++ to emphasize it)",
                    )
                )
        tags = [h for h in a.hits_for("tag-soup") if not a.in_quote(h.start)]
        if not tags:
            continue
        sd = [h for h in tags if "tag-soup.sd" in h.keys]
        quality = {h.phrase for h in tags}
        for hit in sd[:3]:
            out.append(structure._tag(ctx, meta, a, hit, hit))
        if not sd and len(quality) >= min_tags:
            out.append(structure._tag(ctx, meta, a, tags[0], tags[-1]))
    return out


@SETTINGS
@given(text=_BRACKET_TEXT, min_tags=st.sampled_from([None, 1, 3]))
def test_ignored_weight_syntax(text: str, min_tags: int | None) -> None:
    meta = META["KP407"]
    options = None if min_tags is None else {"min_quality_tags": min_tags}
    got = structure.ignored_weight_syntax(_with_options(_context(text), "KP407", options), meta)
    expected = ref_ignored_weight_syntax(_with_options(_context(text), "KP407", options), meta)
    assert _dicts(got) == _dicts(expected)


def test_ignored_weight_syntax_on_the_corpus() -> None:
    meta = META["KP407"]
    for prompt in CORPUS_TEXTS:
        got = structure.ignored_weight_syntax(_context(prompt), meta)
        assert _dicts(got) == _dicts(ref_ignored_weight_syntax(_context(prompt), meta))


# -- KP303 / has_motion: participles found in the reversed text, before the keys ---------------

REF_PARTICIPLE = re.compile(r"\b[a-z]{2,}ing\b")

_ING_WORDS = st.sampled_from(
    [
        *_split("running ring king thing sing bring things kingdom single ing xing gingham"),
        *_split("RUNNING Running éring ringé 2ring ring2 _ring ring_ dancing-ing ing-ing"),
        *_split("walking’s it's nothing something glowing glowings swinging sting ſing"),
    ]
)
_ING_TEXT = st.lists(st.tuples(_ING_WORDS, _MENTION_GLUE), max_size=20).map(
    lambda parts: "".join(w + g for w, g in parts)
)


@SETTINGS
@given(text=st.one_of(_ING_TEXT, _PROSE, st.text(alphabet="ingrxé _-2", max_size=30)))
def test_participles_reversed(text: str) -> None:
    lower = Analysis(text).lower
    expected = sorted(REF_PARTICIPLE.findall(lower))
    assert sorted(w[::-1] for w in motion._PARTICIPLE_REVERSED.findall(lower[::-1])) == expected
    assert {w[::-1] for w in motion._NOT_PARTICIPLES} == motion._NOT_PARTICIPLES_REVERSED


def ref_has_motion(a: Analysis) -> bool:
    keys = a.keys
    if "motion-verbs" in keys or not keys.isdisjoint(motion.CHOREOGRAPHY_CATEGORIES):
        return True
    if "ing" in a.lower and not motion._NOT_PARTICIPLES.issuperset(REF_PARTICIPLE.findall(a.lower)):
        return True
    return bool(motion.camera_moves(a)) or any(q.label is not None for q in a.quotes)


@SETTINGS
@given(text=st.one_of(_ING_TEXT, _PROSE))
def test_has_motion_and_moving_words(text: str) -> None:
    expected = ref_has_motion(Analysis(text, matcher=LINTER.matcher))
    assert motion.has_motion(Analysis(text, matcher=LINTER.matcher)) == expected
    if motion.moving_words(Analysis(text, matcher=LINTER.matcher)):
        assert expected


def ref_no_motion(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    return [
        ctx.report(meta, field=a.field, start=0, end=len(a.text))
        for a in ctx.texts(meta)
        if "motion-verbs" not in a.keys and a.text.strip() and not ref_has_motion(a)
    ]


@SETTINGS
@given(text=st.one_of(_ING_TEXT, _PROSE), mode=st.sampled_from(["text-to-video", "image-to-video"]))
def test_no_motion(text: str, mode: str) -> None:
    meta = META["KP303"]
    got = motion.no_motion(_context(text, mode), meta)
    assert _dicts(got) == _dicts(ref_no_motion(_context(text, mode), meta))


def test_motion_on_the_corpus() -> None:
    meta = META["KP303"]
    for prompt in CORPUS_TEXTS:
        a = Analysis(prompt, matcher=LINTER.matcher)
        assert motion.has_motion(a) == ref_has_motion(Analysis(prompt, matcher=LINTER.matcher))
        got = motion.no_motion(_context(prompt), meta)
        assert _dicts(got) == _dicts(ref_no_motion(_context(prompt), meta))


# -- KP404: the whole rule against its previous version -----------------------------------------------


def ref_late_subject(a: Analysis) -> Any:
    """``_late_subject`` before this round: the keys first, every hit, the whole word count."""
    if "components.subject" not in a.keys:
        return None
    first = ref_first_mention(a)
    n = a.word_count // 3
    if len(a.text[:first].split()) <= n:
        return None
    third = structure._word_start(a.text, n)
    first_end = structure._first_sentence_end(a)
    if first_end is None:
        return None
    limit = max(first_end, third)
    if limit > third and first <= limit:
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


def ref_buried_subject(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    min_words = int(ctx.option(meta, "min_words", 20))
    out = []
    for a in ctx.texts(meta):
        if a.word_count < min_words:
            continue
        emphasis = a.emphasis
        if emphasis:
            start, end = emphasis[0]
            if start <= structure._word_start(a.text, a.word_count // 3):
                continue
            first_end = structure._first_sentence_end(a)
            if first_end is None or start <= first_end:
                continue
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=start,
                    end=end,
                    match=a.text[start:end],
                    what="emphasized term",
                )
            )
            continue
        if "[" in a.text and structure._LABELS.search(a.text):
            continue
        subject = ref_late_subject(a)
        if subject is not None:
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=subject.start,
                    end=subject.end,
                    match=a.text[subject.start : subject.end],
                    what="subject",
                )
            )
    return out


@SETTINGS
@given(
    text=st.one_of(_PROSE, _MENTIONS),
    mode=st.sampled_from(["text-to-video", "image-to-video"]),
    min_words=st.sampled_from([None, -1, 0, 1, 6, 20]),
)
def test_buried_subject(text: str, mode: str, min_words: int | None) -> None:
    meta = META["KP404"]
    options = None if min_words is None else {"min_words": min_words}
    got = structure.buried_subject(_with_options(_context(text, mode), "KP404", options), meta)
    expected = ref_buried_subject(_with_options(_context(text, mode), "KP404", options), meta)
    assert _dicts(got) == _dicts(expected)


def test_buried_subject_on_the_corpus() -> None:
    meta = META["KP404"]
    for prompt in CORPUS_TEXTS:
        for mode in ("text-to-video", "image-to-video"):
            got = structure.buried_subject(_context(prompt, mode), meta)
            assert _dicts(got) == _dicts(ref_buried_subject(_context(prompt, mode), meta))


# -- KP403: the place phrase found in the reversed text -----------------------------------------

_PLACE_WORDS = st.sampled_from(
    [
        *_split("in at inside through across along near by under over on into onto from"),
        *_split("a an the cafe forest pin cat within bin _in in_ é 2in IN THE A"),
    ]
)
_PLACE_GLUE = st.sampled_from(
    [" ", " ", " ", "  ", "\t", "\n", "\u3000", "\xa0", ", ", "-", "", "."]
)
_PLACES = st.lists(st.tuples(_PLACE_WORDS, _PLACE_GLUE), max_size=16).map(
    lambda parts: "".join(w + g for w, g in parts)
)


@SETTINGS
@given(text=st.one_of(_PLACES, _PROSE))
def test_has_place(text: str) -> None:
    lower = Analysis(text).lower
    assert structure._has_place(lower) == (REF_PLACE.search(lower) is not None)


def test_has_place_on_the_corpus() -> None:
    for prompt in CORPUS_TEXTS:
        lower = Analysis(prompt).lower
        assert structure._has_place(lower) == (REF_PLACE.search(lower) is not None)


_REFERENCE_TEXT = st.lists(
    st.sampled_from(["@Element1", "@Image2", "<<<voice_1>>>", "@", "<<<", " a", "x\u3000"])
).map("".join)


@SETTINGS
@given(text=_REFERENCE_TEXT | st.sampled_from(CORPUS_TEXTS or ["a"]), pos=st.integers(0, 400))
def test_first_reference_and_words_before_are_their_plain_forms(text: str, pos: int) -> None:
    """KP404's shortcuts: the first reference without building every :class:`Reference`, and
    the words before a position without making them."""
    fresh = Analysis(text, matcher=LINTER.matcher)
    expected = fresh.references[0].start if fresh.references else None
    assert Analysis(text, matcher=LINTER.matcher).first_reference() == expected
    assert fresh.first_reference() == expected  # from the references, once built
    assert fresh.words_before(pos) == len(text[:pos].split())
