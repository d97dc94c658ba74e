"""The fast paths of the audio rules (KP501-KP510) agree with the computations they skip.

``checks/audio.py`` parses dialogue once per text and answers most requests before the parse:
a labelled line needs no verb or pronoun lookup, rules about several speakers need two distinct
labels, KP507 needs two capitals in a row inside a quote, and a silent request's text is parsed
only up to its first spoken line. The lexicon hits of a key come from the matched texts without
building every hit; an English line is told from the others by counting stop words in C before
the language vote; words and durations are counted without regular expressions where they can.
Each shortcut is compared here, on generated dialogue, the rule-file cases and a slice of the
real corpus, with the plain definition it replaced (kept below as the reference).
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gates import _case_requests, _corpus_requests

from kling_prompt.linter import Linter, language
from kling_prompt.linter.checks import audio
from kling_prompt.linter.language import detect_language
from kling_prompt.linter.lexicon import Hit
from kling_prompt.linter.rules import Context
from kling_prompt.linter.text import Analysis
from kling_prompt.request import Request

LINTER = Linter()
MATCHER = LINTER.matcher
META = {rule.meta.code: rule.meta for rule in LINTER.rules}
V3 = "fal-ai/kling-video/v3/pro/text-to-video"
SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))

_PIECES = st.sampled_from(
    [
        "[Man, calm voice]", "[Woman]", "[Old man<<<voice_1>>>, gravelly]", "[<<<voice_2>>>]",
        "[Character A: Lead Detective]", "[Guide @Mr. Wang's voice]", "[Man]", "[ Man ]",
        "[Host, warm]", "[host]", "[Anna]", "[Ben]", "[", "]", '"', '"', "“", "”", "「", "」",
        "Hello there", "NEVER give up", "The NASA launch is OK", "I AM here", "DON'T", "NYPD",
        "Bonjour, je suis votre serveur", "Hola, ¿cómo estás?", "你好", "こんにちは",
        " says", " says:", " said", " asks", " replies", " whispers", " shouts", " sings",
        " calls out", " is", " was", " he", " she", " they", " He", " both", " in unison",
        " together", "Immediately,", " Then,", " then", " after a pause", "(Speaker switches)",
        " a sign that reads", " a banner reading", " text", " caption", " subtitle",
        " sound", " music", " noise", " audio", " background", " ambient", " crowd", " of",
        " from", " the", " a", " and", " soft", " singer", " sang", " song", " rain",
        ". ", "! ", "? ", "\n", "\n\n", ": ", ", ", " ", "  ", "'", "’", "-", "ſ", "İ",
    ]
)  # fmt: skip
_TEXT = st.lists(_PIECES, max_size=40).map("".join)
_ANY = st.one_of(_TEXT, _TEXT, st.text(max_size=80))


def _analysis(text: str) -> Analysis:
    return Analysis(text, matcher=MATCHER)


def _case_texts() -> list[str]:
    out = []
    for _, request in _case_requests():
        for _, text in request.text_fields():
            out.append(text)
    return out


CASE_TEXTS = _case_texts()
CORPUS_TEXTS = [text for request in _corpus_requests() for _, text in request.text_fields()]


# -- reference definitions ------------------------------------------------------------------------

REF_VOICE_TOKEN = re.compile(r"<<<[^>]*>>>")
REF_WORD_BEFORE = re.compile(r"([\w'’-]+)[\s]*$")
REF_GAP_BREAK = re.compile(r"[.!?]|\n\s*\n")
REF_CLAUSE_END = re.compile(r"[.!?\n]")
REF_SECONDS = re.compile(r"\s*(\d+(?:\.\d+)?)\s*s?\s*")
REF_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
REF_SPOKEN_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def ref_as_seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    if isinstance(value, str):
        m = REF_SECONDS.fullmatch(value)
        if m:
            seconds = float(m.group(1))
            return seconds if seconds > 0 else None
    return None


def ref_spoken_words(text: str) -> float:
    cjk = len(REF_CJK.findall(text))
    if cjk:
        text = REF_CJK.sub(" ", text)
    return len(REF_SPOKEN_WORD.findall(text)) + cjk / 2


def ref_speaker_name(label: str) -> str:
    name = REF_VOICE_TOKEN.sub("", label.split(",", 1)[0])
    name = name.split("@", 1)[0].rsplit(":", 1)[-1]
    name = " ".join(name.lower().split())
    return name or " ".join(label.lower().split())


def ref_hits_in(a: Analysis, key: str, start: int, end: int) -> list[Hit]:
    return [h for h in a.hits_for(key) if start <= h.start and h.end <= end]


def ref_pronoun_before(a: Analysis, verb_start: int, floor: int) -> bool:
    return any(
        floor <= p.start and p.end <= verb_start and verb_start - p.end <= 30
        for p in a.hits_for("speech.pronouns")
    )


def ref_parse_lines(a: Analysis) -> list[tuple[Any, ...]]:
    """The dialogue parse as it was: every line looks up verbs, pronouns and text cues."""
    text = a.text
    lines: list[tuple[Any, ...]] = []
    floor = 0
    quotes = a.quotes
    verbs = a.hits_for("speech.say-verbs")
    for i, q in enumerate(quotes):
        open_at = q.start - 1
        lead_start = audio._clause_cut(text, floor, open_at)
        close_at = q.end + 1
        next_open = quotes[i + 1].start - 1 if i + 1 < len(quotes) else len(text)
        tail_end = audio._clause_end(text, close_at, min(next_open, close_at + 40))
        label = q.label if q.label_span is not None and q.label_span[1] > lead_start else None
        lead_verbs = tail_verbs = verbs
        if verbs:
            lead_verbs = [h for h in verbs if lead_start <= h.start and h.end <= open_at]
            tail_verbs = [h for h in verbs if close_at <= h.start and h.end <= tail_end]
        pronoun = label is None and (
            any(ref_pronoun_before(a, v.start, lead_start) for v in lead_verbs)
            or any(ref_pronoun_before(a, v.start, close_at) for v in tail_verbs)
        )
        if label is not None:
            how = "label"
        elif ref_hits_in(a, "on-screen-text.carriers", lead_start, open_at) or ref_hits_in(
            a, "on-screen-text.cues", lead_start, open_at
        ):
            how = "text"
        elif lead_verbs or tail_verbs:
            how = "verb"
        elif text[lead_start:open_at].rstrip().endswith(":"):
            how = "colon"
        else:
            how = "bare"
        speaker = ref_speaker_name(label) if label is not None else None
        lines.append((q.start, q.end, how, speaker, lead_start, pronoun))
        floor = close_at
    return lines


def ref_quoted_near(text: str, quotes: list[tuple[int, int]], start: int, end: int) -> bool:
    for q_open, q_close in quotes:
        if q_open >= end:
            gap = text[end:q_open]
            return len(gap) <= 160 and not REF_GAP_BREAK.search(gap)
        if (
            q_close <= start
            and start - q_close <= 40
            and not REF_CLAUSE_END.search(text, q_close, start)
        ):
            return True
    return False


def _lines(a: Analysis) -> list[tuple[Any, ...]]:
    return [
        (line.quote.start, line.quote.end, line.how, line.speaker, line.lead_start, line.pronoun)
        for line in audio.dialogue(a)
    ]


# -- the dialogue parse ---------------------------------------------------------------------------


@SETTINGS
@given(text=_ANY)
def test_parse_is_the_reference_parse(text: str) -> None:
    assert _lines(_analysis(text)) == ref_parse_lines(_analysis(text))


def test_parse_is_the_reference_parse_on_rule_cases() -> None:
    for text in CASE_TEXTS:
        assert _lines(_analysis(text)) == ref_parse_lines(_analysis(text)), text


@SETTINGS
@given(label=st.one_of(_TEXT, st.text(max_size=40)))
def test_speaker_name_is_the_reference(label: str) -> None:
    assert audio.speaker_name(label) == ref_speaker_name(label)


# -- prechecks ------------------------------------------------------------------------------------


def _check_bounds(text: str) -> None:
    a = _analysis(text)
    speakers = {line.speaker for line in audio.dialogue(a) if line.speaker is not None}
    # Rules about several speakers skip texts with fewer than two distinct labels.
    assert len(speakers) <= len(audio.quote_labels(a))
    # KP507 skips texts where no quote holds two capitals in a row.
    if any(audio._CAPS_WORD.search(text, q.start, q.end) for q in a.quotes):
        assert audio.caps_in_quotes(a)


@SETTINGS
@given(text=_ANY)
def test_prechecks_are_necessary(text: str) -> None:
    _check_bounds(text)


def test_prechecks_are_necessary_on_rule_cases() -> None:
    for text in CASE_TEXTS:
        _check_bounds(text)


# -- KP502, KP510 helpers -------------------------------------------------------------------------


@SETTINGS
@given(text=_ANY, data=st.data())
def test_word_before_is_the_reference_search(text: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(0, len(text)))
    found = REF_WORD_BEFORE.search(text, max(0, pos - 40), pos)
    expected = None if found is None else (found.start(), found.group(1))
    assert audio.word_before(text, pos) == expected


@SETTINGS
@given(text=_ANY)
def test_quoted_near_is_the_reference(text: str) -> None:
    a = _analysis(text)
    for hit in a.hits_for("speech.say-verbs"):
        assert audio._quoted_near(text, a.quote_spans, hit.start, hit.end) == ref_quoted_near(
            text, a.quote_spans, hit.start, hit.end
        )


# -- whole rules ----------------------------------------------------------------------------------


def test_rules_with_several_texts() -> None:
    """KP509 counts speakers over every text field: labels are gathered the same way."""
    shots = [
        {"prompt": '[Anna] says: "Hi." Then, [Ben] says: "Hey."', "duration": "5"},
        {"prompt": '[Carl] says: "Hello."', "duration": "5"},
    ]
    request = Request(V3, {"prompt": "", "multi_prompt": shots, "shot_type": "customize"})
    found = [d for d in LINTER.lint(request) if d.code == "KP509"]
    assert len(found) == 1
    assert "[anna], [ben], [carl]" in found[0].message


def test_no_text_fields() -> None:
    """A request without text fields: KP509 has no labels to gather and reports nothing."""
    request = Request(V3, {})
    info, mode, family = LINTER.resolve(request)
    ctx = Context(
        request, info=info, mode=mode, family=family, matcher=MATCHER, config=LINTER.config
    )
    assert ctx.analyses == []
    assert list(audio.too_many_speakers(ctx, META["KP509"])) == []


# -- lexicon hits from the matched texts ----------------------------------------------------------

# Every key the audio rules look up.
KEYS = [
    "speech.say-verbs",
    "speech.pronouns",
    "speech.group",
    "speech.linkers",
    "speech.singing",
    "on-screen-text.carriers",
    "on-screen-text.cues",
    "acronyms",
    "audio.named",
    "audio.absent",
    "audio.generic",
]


def _check_spans(text: str) -> None:
    for key in KEYS:
        a = _analysis(text)
        spans = audio.key_spans(a, key)
        hits = _analysis(text).hits_for(key)
        assert [(start, end) for start, end, _ in spans] == [(h.start, h.end) for h in hits]
        assert [keys for _, _, keys in spans] == [h.keys for h in hits]


@SETTINGS
@given(text=_ANY)
def test_key_spans_are_the_hits(text: str) -> None:
    _check_spans(text)


def test_key_spans_are_the_hits_on_rule_cases() -> None:
    for text in CASE_TEXTS:
        _check_spans(text)


def test_key_spans_with_punctuation_led_phrases() -> None:
    """Texts with a punctuation-led phrase (found by a second pattern) have all their spans."""
    for text in ('<<<element_1>>> says: "Hi."', "@Element1 and <<<voice_1>>> sing a song"):
        _check_spans(text)


def test_key_spans_without_matcher() -> None:
    assert audio.key_spans(Analysis('He says: "Hi."'), "speech.say-verbs") == []


@SETTINGS
@given(text=_ANY)
def test_singing_verbs_are_the_singing_hits(text: str) -> None:
    """KP508 takes the speech verbs that carry the singing key, as it took the singing hits
    that carry the speech-verb key."""
    a = _analysis(text)
    singing = [h for h in a.hits_for("speech.singing") if "speech.say-verbs" in h.keys]
    verbs = [h for h in a.hits_for("speech.say-verbs") if "speech.singing" in h.keys]
    assert singing == verbs


# -- languages, durations, words ------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "the", "and", "is", "you", "I", "it's", "don't", "do", "was", "as", "no", "die", "in",
        "el", "los", "que", "y", "es", "hola", "gracias", "le", "les", "je", "vous", "c'est",
        "der", "und", "ich", "nicht", "o", "e", "não", "você", "il", "che", "sono", "de", "het",
        "een", "ik", "niet", "ñ", "¿", "ß", "ç", "ã", "õ", "Éla", "très", "İs", "ſo", "Straße",
        "hello", "world", "rain", "go", "run", "now", "here", "ja", "nee", "op", "van", "per",
        "你好", "こんにちは", "안녕", "Привет", "مرحبا", "Γεια", "नमस्ते", "สวัสดี", "’", "'",
        ",", ".", "!", "?", "—", "-", "1", "42", "_", "don’t", "it’s", "I’m", "c’est", "`",
        "“", "”", "‘", "…", "\u2059", "\u2000", "\u206f", "\u2070", "«", "»", "don't",
        "rock'n'roll", "'", "''", "DON'T", "Ich", "ÑO", "œuvre", "x’", "’s", "\u212a", "İ",
    ]
)  # fmt: skip
_LINE = st.lists(_WORDS, max_size=14).map(" ".join)
_LINES = st.one_of(_LINE, _LINE, st.text(max_size=40))


def ref_english_or_none(text: str) -> bool:
    """The bound on the language vote, counted on the language module's own words."""
    if language._NON_LATIN.search(text) is not None:
        return False
    lower = text.lower()
    words = language._LATIN_WORD.findall(lower)
    if len(words) < 3:
        return True
    english = sum(w in language._STOP_WORDS["en"] for w in words)
    other = sum(any(w in s for c, s in language._STOP_WORDS.items() if c != "en") for w in words)
    other += 2 * sum(mark in lower for mark in language._MARKERS)
    return english >= other


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=_LINES)
def test_english_or_none_is_never_wrong(text: str) -> None:
    got = audio.english_or_none(text)
    assert got == ref_english_or_none(text)
    if got:
        assert detect_language(text) in (None, "en")


def test_english_or_none_on_rule_cases() -> None:
    for text in CASE_TEXTS:
        for q in _analysis(text).quotes:
            if audio.english_or_none(q.text):
                assert detect_language(q.text) in (None, "en"), q.text


def test_english_or_none_answers_common_lines() -> None:
    assert audio.english_or_none("Where were you last night? I was here.")
    assert audio.english_or_none("Yes.")
    assert not audio.english_or_none("Bonjour, je suis votre serveur et nous avons une table.")
    assert not audio.english_or_none("你说我们这场婚礼会不会太过简单了")


_DURATIONS = st.one_of(
    st.text(alphabet="0123456789 .s5٣５²\t\n-+eE_", max_size=8),
    st.integers(-5, 20),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
)


@SETTINGS
@given(value=_DURATIONS)
def test_as_seconds_is_the_reference(value: Any) -> None:
    got, expected = audio.as_seconds(value), ref_as_seconds(value)
    assert got == expected or (got != got and expected != expected)  # NaN


@SETTINGS
@given(
    text=st.one_of(
        _LINE,
        st.text(max_size=60),
        st.text(alphabet="ab'’‘ _-1é中・ー\u0301\u00a0\u3000\ud800—“”٣²", max_size=30),
    )
)
def test_spoken_words_is_the_reference(text: str) -> None:
    assert audio.spoken_words(text) == ref_spoken_words(text)


def test_lines_one_by_one_are_the_parse() -> None:
    """KP501 parses a silent request's text only up to its first spoken line."""
    for text in CASE_TEXTS:
        a = _analysis(text)
        first = next((line for line in audio.dialogue(a) if line.spoken), None)
        lines = audio._lines(_analysis(text), True)
        found = lines[-1] if lines and lines[-1].spoken else None
        assert (first and first.quote.start) == (found and found.quote.start), text
        assert [line.quote.start for line in lines] == [
            line.quote.start for line in audio.dialogue(a)[: len(lines)]
        ]


def test_default_durations_are_the_catalog_ones() -> None:
    """``request_seconds`` keeps each endpoint's default duration once read."""
    from kling_prompt.catalog.data import endpoints

    for info in endpoints():
        request = Request(info.id, {"prompt": "A cat."})
        ctx = Context(request, info=info, mode=None, family=None, matcher=None, config=None)
        expected = audio.as_seconds(getattr(info.capabilities, "duration_default", None))
        for _ in range(2):
            assert audio.request_seconds(ctx) == expected


def test_kp506_without_english_asks_the_language_vote() -> None:
    """The English shortcut is taken only where English is voiced."""
    linter = Linter()
    linter._options["KP506"] = {"languages": {"v3": ["zh"]}}
    prompt = '[Host, warm voice] says: "Good evening, have you chosen a table for tonight?"'
    found = [d for d in linter.lint(Request(V3, {"prompt": prompt})) if d.code == "KP506"]
    assert len(found) == 1
    assert "English" in found[0].message


def test_fast_paths_on_the_corpus() -> None:
    """The real prompts (a slice, when the corpus is beside the project)."""
    for text in CORPUS_TEXTS:
        assert _lines(_analysis(text)) == ref_parse_lines(_analysis(text)), text
        _check_spans(text)
        _check_bounds(text)
        for q in _analysis(text).quotes:
            assert audio.english_or_none(q.text) == ref_english_or_none(q.text), q.text
            assert audio.spoken_words(q.text) == ref_spoken_words(q.text), q.text
