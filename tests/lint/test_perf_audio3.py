"""Third round of fast paths in the audio rules (KP5xx) and the quote parse they share, each
compared with the plain computation it replaced (kept here as the reference).

The quote parse finds marks with ``str.find`` instead of the two regular expressions; KP503-KP505
are gated by a pre-check (``kp5-speakers``) that must close only where they report nothing; KP505
counts a gap's words before looking up linkers; lines whose only non-ASCII character is "’" take
the ASCII paths. The comparisons run on generated texts built to hit the corners of each (every
quote mark, unclosed and nested quotes, newlines, labels that are too long, empty or unclosed;
labelled and unlabelled dialogue on voiced and silent endpoints) and on the rule-file cases and
the real-prompt corpus.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gates import _case_requests, _corpus_requests
from test_perf_audio import (
    CASE_TEXTS,
    CORPUS_TEXTS,
    LINTER,
    MATCHER,
    META,
    ref_english_or_none,
    ref_spoken_words,
)

from kling_prompt.linter.checks import audio
from kling_prompt.linter.rules import Context
from kling_prompt.linter.text import Analysis
from kling_prompt.request import Request

SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))

# -- the quote parse ------------------------------------------------------------------------------

REF_QUOTE = re.compile(r"\"([^\"\n]*)\"|“([^”]*)”|「([^」]*)」")
REF_LABEL = re.compile(r"\[([^\[\]\n]{1,80})\]")


def ref_quotes(text: str) -> list[tuple[Any, ...]]:
    """The quotes as the regular expressions find them, each with the nearest label between the
    previous quote and it."""
    labels = [(m.start(), m.end(), m.group(1)) for m in REF_LABEL.finditer(text)]
    quotes: list[tuple[Any, ...]] = []
    previous_end = 0
    for m in REF_QUOTE.finditer(text):
        group = 1 if m.group(1) is not None else (2 if m.group(2) is not None else 3)
        start, end = m.span(group)
        label: str | None = None
        label_span: tuple[int, int] | None = None
        for l_start, l_end, l_text in reversed(labels):
            if previous_end <= l_start and l_end <= m.start():
                label, label_span = l_text.strip(), (l_start, l_end)
                break
        quotes.append((start, end, m.group(group), label, label_span))
        previous_end = m.end()
    return quotes


def _check_quotes(text: str) -> None:
    expected = ref_quotes(text)
    a = Analysis(text)
    assert [(q.start, q.end, q.text, q.label, q.label_span) for q in a.quotes] == expected
    spans = [(start - 1, end + 1) for start, end, *_ in expected]
    assert a.quote_spans == spans
    b = Analysis(text)  # the spans asked first
    assert b.quote_spans == spans
    assert [q.start for q in b.quotes] == [start for start, *_ in expected]
    c = Analysis(text)  # in_quote asked first, at every position
    for pos in range(-1, len(text) + 2):
        assert c.in_quote(pos) == any(start <= pos < end for start, end in spans)


_QUOTE_PIECES = st.sampled_from(
    [
        '"', '"', '"', "“", "”", "「", "」", "[", "]", "[", "]", "\n", " ", "a", "b c", ",",
        "[Man]", "[ Man, calm ]", "[]", "[" + "x" * 79 + "]", "[" + "x" * 80 + "]",
        "[" + "x" * 81 + "]", "[a\nb]", "[[a]", "[a]]", '"Hi."', "“Hi.”", "「你好」", "é", "’",
    ]
)  # fmt: skip
_QUOTE_TEXT = st.one_of(
    st.lists(_QUOTE_PIECES, max_size=30).map("".join),
    st.text(alphabet='"“”「」[]\n ab,', max_size=30),
    st.text(max_size=40),
)


@SETTINGS
@given(text=_QUOTE_TEXT)
def test_quotes_are_the_reference_parse(text: str) -> None:
    _check_quotes(text)


def test_quotes_are_the_reference_parse_on_cases_and_corpus() -> None:
    for text in CASE_TEXTS + CORPUS_TEXTS:
        _check_quotes(text)


# -- KP503-KP505: the shared pre-check ------------------------------------------------------------

_DIALOGUE_PIECES = st.sampled_from(
    [
        "[Man, calm voice]", "[Woman]", "[Man]", "[ Man ]", "[man]", "[Anna]", "[Ben]",
        "[Old man<<<voice_1>>>, gravelly]", "[<<<voice_2>>>]", "[Character A: Lead Detective]",
        "[", "]", '"', '"', "“", "”", "「", "」", "Hello there", "Where were you", "Out",
        " says", " says:", " asks", " replies", " he", " she", " they", " both", " together",
        "Immediately,", " Then,", " then", " after a pause", "(Speaker switches)",
        " a sign that reads", " caption", ". ", "! ", "? ", "\n", ": ", ", ", " ",
    ]
)  # fmt: skip
_LABELS = st.sampled_from(["", "[Man, calm voice] ", "[Woman] ", "[Man] ", "[Anna] ", "[Ben] "])
_LEADS = st.sampled_from(["", "says: ", "He says ", "she replies: ", ": ", "a sign that reads "])
_WORDS = st.sampled_from(["Hi.", "Where were you?", "Out", "", "NO WAY"])
_MARKS = st.sampled_from([('"', '"'), ("“", "”"), ("「", "」"), ('"', ""), ("[", "]")])
_LINKS = st.sampled_from(["", " ", " Then, ", " Immediately, ", " He waits by the door. ", "\n"])


@st.composite
def _dialogue_line(draw: st.DrawFn) -> str:
    opening, closing = draw(_MARKS)
    return draw(_LINKS) + draw(_LABELS) + draw(_LEADS) + opening + draw(_WORDS) + closing


_DIALOGUE = st.one_of(
    st.lists(_dialogue_line(), max_size=6).map("".join),
    st.lists(_DIALOGUE_PIECES, max_size=30).map("".join),
)
_ENDPOINTS = st.sampled_from(
    [
        "fal-ai/kling-video/v2.6/pro/text-to-video",
        "fal-ai/kling-video/v3/pro/text-to-video",
        "fal-ai/kling-video/o3/pro/reference-to-video",
        "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
    ]
)


def _speaker_rules_report(request: Request) -> list[dict[str, Any]]:
    """KP503-KP505 called directly, whatever their gates say."""
    info, mode, family = LINTER.resolve(request)
    ctx = Context(
        request, info=info, mode=mode, family=family, matcher=MATCHER, config=LINTER.config
    )
    ctx.options, ctx.severity = LINTER._options, LINTER.severity
    out = []
    for code, fn in (
        ("KP503", audio.unlabeled_speaker),
        ("KP504", audio.pronoun_speaker),
        ("KP505", audio.missing_speaker_transition),
    ):
        out += [d.to_dict() for d in fn(ctx, META[code])]
    return out


def _check_speakers_gate(request: Request) -> None:
    info, mode, family = LINTER.resolve(request)
    ctx = Context(
        request, info=info, mode=mode, family=family, matcher=MATCHER, config=LINTER.config
    )
    if not audio.several_speakers(ctx):
        assert _speaker_rules_report(request) == []


@SETTINGS
@given(
    prompt=_DIALOGUE,
    shot=st.one_of(st.none(), _DIALOGUE),
    endpoint=_ENDPOINTS,
    audio_on=st.sampled_from([None, True, False]),
)
def test_speakers_gate_is_necessary(
    prompt: str, shot: str | None, endpoint: str, audio_on: bool | None
) -> None:
    arguments: dict[str, Any] = {"prompt": prompt}
    if audio_on is not None:
        arguments["generate_audio"] = audio_on
    if shot is not None:
        arguments["multi_prompt"] = [{"prompt": shot, "duration": "5"}]
        arguments["shot_type"] = "customize"
    _check_speakers_gate(Request(endpoint, arguments))


def test_speakers_gate_is_necessary_on_cases_and_corpus() -> None:
    for _, request in _case_requests():
        _check_speakers_gate(request)
    for request in _corpus_requests():
        _check_speakers_gate(request)


def test_speakers_gate_opens() -> None:
    """The gate is not always shut: two labelled speakers on a voiced request open it."""
    prompt = '[Man] says: "Where were you?" [Woman] says: "Out."'
    request = Request("fal-ai/kling-video/v2.6/pro/text-to-video", {"prompt": prompt})
    info, mode, family = LINTER.resolve(request)
    ctx = Context(
        request, info=info, mode=mode, family=family, matcher=MATCHER, config=LINTER.config
    )
    assert audio.several_speakers(ctx)
    assert _speaker_rules_report(request)  # KP505: no linking word


# -- KP505: the word count before the linker lookup -----------------------------------------------


def ref_missing_speaker_transition(ctx: Context, meta: Any) -> list[tuple[Any, ...]]:
    """KP505 as it was: the linker lookup first, then the word count of the gap."""
    out: list[tuple[Any, ...]] = []
    if audio.audio_state(ctx) is not None:
        return out
    for a in ctx.texts(meta):
        lines = [line for line in audio.spoken_lines(a) if line.speaker is not None]
        for prev, line in itertools.pairwise(lines):
            if prev.speaker == line.speaker:
                continue
            gap_start, gap_end = prev.quote.end + 1, line.quote.start - 1
            if any(gap_start <= h.start and h.end <= gap_end for h in a.hits_for("speech.linkers")):
                continue
            if len(a.text[gap_start : line.lead_start].split()) >= 3:
                continue
            label_span = line.quote.label_span
            start = label_span[0] if label_span is not None else line.quote.start - 1
            out.append((a.field, start, line.quote.end + 1, prev.speaker, line.speaker))
    return out


def _check_kp505(request: Request) -> None:
    info, mode, family = LINTER.resolve(request)
    ctx = Context(
        request, info=info, mode=mode, family=family, matcher=MATCHER, config=LINTER.config
    )
    got = [(d.field, d.start, d.end) for d in audio.missing_speaker_transition(ctx, META["KP505"])]
    assert got == [r[:3] for r in ref_missing_speaker_transition(ctx, META["KP505"])]


@SETTINGS
@given(prompt=_DIALOGUE, endpoint=_ENDPOINTS)
def test_kp505_is_the_reference(prompt: str, endpoint: str) -> None:
    _check_kp505(Request(endpoint, {"prompt": prompt}))


def test_kp505_is_the_reference_on_cases_and_corpus() -> None:
    for _, request in _case_requests():
        _check_kp505(request)
    for request in _corpus_requests():
        _check_kp505(request)


# -- lines whose only non-ASCII character is "’" ------------------------------------------------

_APOSTROPHE_LINE = st.lists(
    st.sampled_from(
        [
            "I’m", "don’t", "it’s", "c’est", "’s", "x’", "’", "'", "rock’n’roll", "I", "the",
            "and", "you", "je", "le", "que", "y", "el", "ich", "nicht", "hello", "go", "42",
            ",", ".", "!", "?", "-", "’’", "a’’b", "DON’T", "İt’s", "é", "—", "你",
        ]
    ),
    max_size=14,
).map(" ".join)  # fmt: skip


@SETTINGS
@given(text=_APOSTROPHE_LINE)
def test_apostrophe_lines_are_the_reference(text: str) -> None:
    assert audio.english_or_none(text) == ref_english_or_none(text)
    assert audio.spoken_words(text) == ref_spoken_words(text)
