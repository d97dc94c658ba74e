"""Audio and dialogue rules, KP501–KP510.

Dialogue follows the official Kling 2.6 form ``[Speaker, tone] says: "line"``. A quoted line is
*spoken* when a speaker label sits in its clause, a speech verb introduces or follows it, or a
colon opens it; a quote after "a sign that reads" is on-screen text and is left alone. The parse
runs once per text (``Analysis.memo``) and only when the text has quotes. KP503-KP505 share a
pre-check, ``kp5-speakers`` (a voiced request with two distinct speaker labels in some text), which
the engine asks once per request.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.rules import Context, RuleMeta, check, gate_check
from kling_prompt.linter.text import Analysis, Quote

if TYPE_CHECKING:
    pass

_CLAUSE_END = lazy(r"[.!?\n]")
_VOICE_TOKEN = lazy(r"<<<[^>]*>>>")
_CAPS_WORD = lazy(r"(?<![\w'’])[A-Z][A-Z'’]*[A-Z](?![\w'’])")
_CAPS_RUN = lazy(r"[A-Z][A-Z'’]*[A-Z]")  # what a capital word holds, without its boundaries
_VOWELS = frozenset("AEIOUY")
_NON_ASCII = lazy(r"[^\x00-\x7f]")
_JOIN = lazy(r"'(?<=[^\W_]')(?=[^\W_])")  # an apostrophe inside a word (led by the literal)

LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian (Cyrillic)",
    "ar": "Arabic",
    "he": "Hebrew",
    "hi": "Hindi",
    "th": "Thai",
    "el": "Greek",
}


class Line:
    """A quoted line and how it is attributed."""

    __slots__ = ("how", "lead_start", "pronoun", "quote", "speaker", "spoken")

    def __init__(
        self, quote: Quote, how: str, speaker: str | None, lead_start: int, pronoun: bool
    ) -> None:
        self.quote = quote
        self.how = how  # label | verb | colon | bare | text
        self.speaker = speaker
        self.lead_start = lead_start
        self.pronoun = pronoun
        self.spoken = how in ("label", "verb", "colon")

    def __repr__(self) -> str:
        return f"Line({self.quote.text!r}, how={self.how}, speaker={self.speaker!r})"


def speaker_name(label: str) -> str:
    """The speaker of a label: its first comma part without voice tokens or ``@voice`` notes.

    A role prefix is dropped too: ``[Character A: Lead Detective]`` is "lead detective".
    """
    name = label.split(",", 1)[0]
    if "<" in name:  # a voice token needs "<<<"
        name = _VOICE_TOKEN.sub("", name)
    name = name.split("@", 1)[0].rsplit(":", 1)[-1]
    name = " ".join(name.lower().split())
    return name or " ".join(label.lower().split())


# -- lexicon hits as spans --------------------------------------------------------------------

# A lexicon hit as the audio rules use it: start, end, and the keys of its phrase.
Span = tuple[int, int, tuple[str, ...]]
_NO_SPANS: list[Span] = []


def key_spans(a: Analysis, key: str) -> list[Span]:
    """The hits of one lexicon key as spans with their keys, in text order (cached).

    ``a.hits_for`` builds only this key's hits while no rule has asked for all of them.
    """
    if not a.has_key(key):
        return _NO_SPANS
    cache: dict[str, list[Span]] = a.memo("kp5.spans", _new_cache)
    found = cache.get(key)
    if found is None:
        found = cache[key] = [(h.start, h.end, h.keys) for h in a.hits_for(key)]
    return found


def _new_cache(_: Analysis) -> dict[str, list[Span]]:
    return {}


def _hits_in(a: Analysis, key: str, start: int, end: int) -> bool:
    """Whether a hit of ``key`` lies within ``start:end``."""
    return any(start <= s and e <= end for s, e, _ in key_spans(a, key))


def _clause_cut(text: str, start: int, end: int) -> int:
    """Where the last clause break (``.!?`` or newline) in ``text[start:end]`` ends, or ``start``."""
    cut = max(
        text.rfind(".", start, end),
        text.rfind("!", start, end),
        text.rfind("?", start, end),
        text.rfind("\n", start, end),
    )
    return cut + 1 if cut >= 0 else start


def _clause_end(text: str, start: int, end: int) -> int:
    """Where the first clause break in ``text[start:end]`` is, or ``end``."""
    first = end
    for mark in ".!?\n":
        at = text.find(mark, start, first)
        if at != -1:
            first = at
    return first


def _parse_lines(a: Analysis) -> tuple[list[Line], list[Line]]:
    """Every line of :func:`dialogue`, and the spoken ones among them."""
    lines = _lines(a, False)
    return lines, [line for line in lines if line.spoken]


def _lines(a: Analysis, first_spoken: bool) -> list[Line]:
    """The quoted lines of a text in order; with ``first_spoken``, only up to the first spoken
    one (each line needs only the quotes before it)."""
    text = a.text
    floor = 0
    quotes = a.quotes
    lines: list[Line] = []
    verbs: list[Span] | None = None  # the speech verbs, looked up for the first unlabelled line
    for i, q in enumerate(quotes):
        open_at = q.start - 1
        lead_start = _clause_cut(text, floor, open_at)
        label_span = q.label_span
        if label_span is not None and label_span[1] > lead_start and q.label is not None:
            # A labelled line is "label" whatever verbs or pronouns surround it.
            line = Line(q, "label", speaker_name(q.label), lead_start, False)
        else:
            if verbs is None:
                verbs = key_spans(a, "speech.say-verbs")
            next_open = quotes[i + 1].start - 1 if i + 1 < len(quotes) else len(text)
            line = _unlabelled_line(a, q, verbs, lead_start, q.end + 1, next_open)
        lines.append(line)
        if first_spoken and line.spoken:
            break
        floor = q.end + 1
    return lines


def _unlabelled_line(
    a: Analysis, q: Quote, verbs: list[Span], lead_start: int, close_at: int, next_open: int
) -> Line:
    """How a quoted line without a speaker label of its own is introduced."""
    text = a.text
    open_at = q.start - 1
    pronoun = by_verb = False
    if verbs:
        tail_end = _clause_end(text, close_at, min(next_open, close_at + 40))
        # Where the speech verbs of the lead and of the tail start.
        lead = [s for s, e, _ in verbs if lead_start <= s and e <= open_at]
        tail = [s for s, e, _ in verbs if close_at <= s and e <= tail_end]
        if lead or tail:
            by_verb = True
            pronouns = key_spans(a, "speech.pronouns")
            pronoun = bool(pronouns) and (
                any(_pronoun_before(pronouns, v, lead_start) for v in lead)
                or any(_pronoun_before(pronouns, v, close_at) for v in tail)
            )
    if a.has_key("on-screen-text") and (  # both keys are categories of that lexicon
        _hits_in(a, "on-screen-text.carriers", lead_start, open_at)
        or _hits_in(a, "on-screen-text.cues", lead_start, open_at)
    ):
        how = "text"
    elif by_verb:
        how = "verb"
    elif text[lead_start:open_at].rstrip().endswith(":"):
        how = "colon"
    else:
        how = "bare"
    return Line(q, how, None, lead_start, pronoun)


def _pronoun_before(pronouns: list[Span], verb_start: int, floor: int) -> bool:
    """A subject pronoun shortly before a speech verb: "then he says", "she quietly replies"."""
    return any(
        floor <= start and end <= verb_start and verb_start - end <= 30
        for start, end, _ in pronouns
    )


def dialogue(a: Analysis) -> list[Line]:
    """Every quoted line of a text with its attribution (cached and shared: do not modify)."""
    if not a.quote_spans:
        return _NO_LINES
    return a.memo("kp5.lines", _parse_lines)[0]


def spoken_lines(a: Analysis) -> list[Line]:
    """The lines of :func:`dialogue` that are spoken (cached and shared: do not modify)."""
    if not a.quote_spans:
        return _NO_LINES
    return a.memo("kp5.lines", _parse_lines)[1]


_NO_LINES: list[Line] = []  # shared by every text without quotes: read-only


def line_language(a: Analysis, line: Line) -> str | None:
    """The guessed language of a line (see :mod:`kling_prompt.linter.language`), cached."""
    cache: dict[int, str | None] = a.memo("kp5.language", _new_language_cache)
    start = line.quote.start
    if start not in cache:
        from kling_prompt.linter.language import detect_language

        cache[start] = detect_language(line.quote.text)
    return cache[start]


def _new_language_cache(_: Analysis) -> dict[int, str | None]:
    return {}


def english_or_none(text: str) -> bool:
    """Whether :func:`~kling_prompt.linter.language.detect_language` surely answers "en" or
    ``None`` for ``text``, known without its vote; ``False`` when it cannot tell so cheaply.

    Latin-script text is a vote of stop words; English gets one point per English stop word,
    every other language at most one per stop word of any other language plus two per marker
    letter. With at least as many English points as that, no other language can win the vote
    outright, and a tie is ``None``. Counting is set lookups in C, not the per-word loop.
    """
    stop = _STOP or _load_stop_words()
    lower = text.lower()
    # Most non-ASCII lines hold no other non-ASCII character than "’", which the bytes take.
    if not text.isascii() and not text.replace("’", "").isascii():
        others = set(_NON_ASCII.findall(text))
        if not all("\u2000" <= c <= "\u206f" for c in others):
            return _english_or_none(text, lower, stop)
        # General punctuation only (dashes, curly quotes): Latin script, no marker letter, and
        # no part of a word but the apostrophe "’", which joins words as "'" does.
        for c in others:
            if c != "’":
                lower = lower.replace(c, " ")
    # Letters and apostrophes as bytes, the rest spaces; "’" (three bytes) becomes one "`".
    marked = lower.encode().translate(stop.letters, b"\x80\x99")
    joined = "'" in lower or "’" in lower  # words may hold an apostrophe: the pattern
    words = stop.joined_word.findall(marked) if joined else marked.split()
    if len(words) < 3:  # detect_language's min_words: too short to tell, None
        return True
    # English points less the others' bound, word by word: +1, -1 or 0 (a word of both).
    return sum(map(stop.balance.get, words, _ZEROS)) >= 0


def _english_or_none(text: str, lower: str, stop: _StopWords) -> bool:
    """:func:`english_or_none` for any text: the language module's own scans."""
    if stop.non_latin.search(text) is not None:
        return False
    words = stop.latin_word.findall(lower)
    if len(words) < 3:
        return True
    english = sum(map(stop.english.__contains__, words))
    other = sum(map(stop.other.__contains__, words))
    other += 2 * sum([mark in lower for mark in stop.markers])
    return english >= other


class _StopWords:
    """What :func:`english_or_none` needs of :mod:`kling_prompt.linter.language`."""

    __slots__ = (
        "balance",
        "english",
        "joined_word",
        "latin_word",
        "letters",
        "markers",
        "non_latin",
        "other",
    )

    def __init__(self) -> None:
        from kling_prompt.linter import language

        self.english = language._STOP_WORDS["en"]
        self.other = frozenset().union(
            *(words for code, words in language._STOP_WORDS.items() if code != "en")
        )
        self.balance = {
            w.encode(): (w in self.english) - (w in self.other)
            for w in self.english | self.other
            if w.isascii()
        }
        self.markers = tuple(language._MARKERS)
        self.latin_word = language._LATIN_WORD
        self.non_latin = language._NON_LATIN
        # Bytes of a lowercased text: ASCII letters and "'" stay, the first byte of "’" is "`"
        # (its other two bytes are deleted), everything else is a space; and the language
        # module's Latin word (``[a-zà-öø-ÿœ]+(?:['’][a-zà-öø-ÿœ]+)?``) in those bytes.
        self.letters = bytes(
            b if 97 <= b <= 122 or b == 39 else 96 if b == 0xE2 else 32 for b in range(256)
        )
        self.joined_word = re.compile(rb"[a-z]+(?:['`][a-z]+)?")


_ZEROS = itertools.repeat(0)

# Loaded on first use: the language module is imported only when a line needs it.
_STOP: _StopWords | None = None


def _load_stop_words() -> _StopWords:
    global _STOP
    _STOP = _StopWords()
    return _STOP


# -- audio state -------------------------------------------------------------------------------


def audio_state(ctx: Context) -> str | None:
    """Why the request makes no sound ("model", "off", "default-off"), or ``None`` if it may.

    ``None`` also when the endpoint is unknown: rules stay silent rather than guess.
    """
    info = ctx.info
    found = _AUDIO_FACTS.get(id(info))
    if found is None or found[0] is not info:
        found = _audio_facts(info)
    _, known, native, field, default_off = found
    if not known:
        return None
    if not native:
        return "model"
    value = ctx.arguments.get(field)
    if value is False:
        return "off"
    if value is None and default_off:
        return "default-off"
    return None


# Per endpoint facts object: (facts, capabilities known, native audio, audio field, default off).
# Catalog facts never change, so they are read once per endpoint instead of per rule and prompt.
_AUDIO_FACTS: dict[int, tuple[object, bool, bool, str, bool]] = {}


def _audio_facts(info: object) -> tuple[object, bool, bool, str, bool]:
    caps = getattr(info, "capabilities", None)
    found = (
        info,
        caps is not None,
        bool(getattr(caps, "native_audio", False)),
        getattr(caps, "audio_field", None) or "generate_audio",
        getattr(caps, "audio_default", None) is False,
    )
    if len(_AUDIO_FACTS) > 256:
        _AUDIO_FACTS.clear()
    _AUDIO_FACTS[id(info)] = found
    return found


def _duration(ctx: Context, shot: int | None = None) -> float | None:
    """Seconds of video a text covers: its shot's duration, else the request's or the default."""
    if shot is not None:
        shots = ctx.arguments.get("multi_prompt")
        if isinstance(shots, list) and shot < len(shots) and isinstance(shots[shot], dict):
            own = as_seconds(shots[shot].get("duration"))
            if own is not None:
                return own
    return request_seconds(ctx)


def request_seconds(ctx: Context) -> float | None:
    """The request's ``duration`` in seconds, or the endpoint's default from the catalog."""
    explicit = as_seconds(ctx.arguments.get("duration"))
    if explicit is not None:
        return explicit
    info = ctx.info
    found = _DEFAULT_SECONDS.get(id(info))
    if found is None or found[0] is not info:
        caps = getattr(info, "capabilities", None)
        found = (info, as_seconds(getattr(caps, "duration_default", None)))
        if len(_DEFAULT_SECONDS) > 256:
            _DEFAULT_SECONDS.clear()
        _DEFAULT_SECONDS[id(info)] = found
    return found[1]


# Per endpoint facts object: its default duration in seconds (catalog facts never change).
_DEFAULT_SECONDS: dict[int, tuple[object, float | None]] = {}


_SECONDS = lazy(r"\s*(\d+(?:\.\d+)?)\s*s?\s*")


def as_seconds(value: Any) -> float | None:
    """A duration field value ("5", 5, "5s") in seconds, or ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    if isinstance(value, str):
        if value.isascii() and value.isdigit():  # "5", "10": what the regex takes, digits only
            seconds = float(value)
            return seconds if seconds > 0 else None
        m = _SECONDS.fullmatch(value)
        if m:
            seconds = float(m.group(1))
            return seconds if seconds > 0 else None
    return None


def _severity(ctx: Context, meta: RuleMeta, diag: Diagnostic, severity: str) -> Diagnostic:
    """Change a diagnostic's severity unless the user configured the rule's severity."""
    if ctx.severity.get(meta.code, meta.severity) == meta.severity:
        diag.severity = severity
    return diag


# -- KP501 ---------------------------------------------------------------------------------------


def _audio_evidence(a: Analysis) -> tuple[str, int, int] | None:
    # The first spoken line only, parsed up to it: no other KP5 rule runs on a silent request.
    lines = _lines(a, True) if a.quote_spans else _NO_LINES
    if lines and lines[-1].spoken:
        q = lines[-1].quote
        return "dialogue", q.start - 1, q.end + 1
    for ref in a.references:
        if ref.kind == "voice":
            return "voice token", ref.start, ref.end
    named = key_spans(a, "audio.named")
    if named:
        absent = key_spans(a, "audio.absent")
        for start, end, _ in named:
            if a.in_quote(start):
                continue
            if any(e <= start and start - e <= 12 for _, e, _ in absent):
                continue
            return f"sound ('{a.text[start:end]}')", start, end
    return None


_KP501_MESSAGES = {
    "model": (
        "The prompt asks for {what}, but {endpoint} makes silent video, so it will not be heard. "
        "Use an endpoint with native audio (Kling 2.6, 3.0 or O3 with generate_audio), or drop "
        "the sound from the prompt."
    ),
    "off": (
        "The prompt asks for {what}, but generate_audio is false, so it will not be heard. Set "
        "generate_audio to true, or drop the sound from the prompt."
    ),
    "default-off": (
        "The prompt asks for {what}, but generate_audio is not set and {endpoint} defaults to no "
        "audio. Set generate_audio to true, or drop the sound from the prompt."
    ),
}


@check("KP501")
def audio_not_enabled(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Dialogue, singing or named sounds on a request that produces no audio."""
    state = audio_state(ctx)  # most requests make sound: decided first
    if state is None or not getattr(ctx.info, "video", True):
        return ()
    for a in ctx.texts(meta):
        found = _audio_evidence(a)
        if found is None:
            continue
        what, start, end = found
        return [
            ctx.report(
                meta,
                _KP501_MESSAGES[state],
                field=a.field,
                start=start,
                end=end,
                what=what,
                endpoint=ctx.endpoint or "this endpoint",
            )
        ]
    return ()


# -- KP502 ---------------------------------------------------------------------------------------


@check("KP502")
def unquoted_speech(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """A speech verb with no quoted line after (or right before) it."""
    if audio_state(ctx) is not None:
        return ()
    limit = int(ctx.option(meta, "max_reports", 3))
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        verbs = key_spans(a, "speech.say-verbs")
        if not verbs:
            continue
        text = a.text
        quotes = a.quote_spans
        count = 0
        for start, end, keys in verbs:
            # Most verbs introduce a quote: that test first (the tests are independent).
            if (
                _quoted_near(text, quotes, start, end)
                or a.in_quote(start)
                or "on-screen-text.cues" in keys
                or _PASSIVE.search(text, max(0, start - 12), start)
            ):
                continue
            count += 1
            if count > limit:
                break
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=start,
                    end=end,
                    match=text[start:end],
                )
            )
    return out


_PASSIVE = lazy(r"\b(?:is|are|was|were|be|been|being)\s+$", re.IGNORECASE)


_GAP_BREAK = lazy(r"[.!?]|\n\s*\n")


def _quoted_near(text: str, quotes: list[tuple[int, int]], start: int, end: int) -> bool:
    for q_open, q_close in quotes:
        if q_open >= end:
            return q_open - end <= 160 and not _GAP_BREAK.search(text, end, q_open)
        if (
            q_close <= start
            and start - q_close <= 40
            and not _CLAUSE_END.search(text, q_close, start)
        ):
            return True
    return False


# -- KP503, KP504, KP505 -------------------------------------------------------------------------


def _speakers(lines: list[Line]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line.speaker is not None and line.speaker not in out:
            out.append(line.speaker)
    return out


def _is_group(a: Analysis, line: Line) -> bool:
    return _hits_in(a, "speech.group", line.lead_start, line.quote.start - 1)


def quote_labels(a: Analysis) -> frozenset[str]:
    """The distinct speaker labels of a text's quotes (cached).

    Only a labelled line has a speaker, and one label gives one speaker name, so a text has at
    most this many speakers: rules about several speakers skip the dialogue parse below two.
    """
    if not a.quote_spans:
        return _NO_LABELS
    return a.memo("kp5.labels", _quote_labels)


def _quote_labels(a: Analysis) -> frozenset[str]:
    return frozenset([q.label for q in a.quotes if q.label is not None])


_NO_LABELS: frozenset[str] = frozenset()


@gate_check("kp5-speakers")
def several_speakers(ctx: Context) -> bool:
    """Whether the request makes sound and some text field has two distinct speaker labels on
    its quotes: KP503-KP505 report nothing otherwise (their ``when: {check: ...}``). Every text
    field is looked at, whatever the rules' scope: a superset of theirs."""
    return audio_state(ctx) is None and any(len(quote_labels(a)) >= 2 for a in ctx.analyses)


def _speaker_texts(
    ctx: Context, meta: RuleMeta, *, spoken_only: bool
) -> Iterator[tuple[Analysis, list[Line], list[str]]]:
    """The texts of a voiced request with two or more speakers: each text, its dialogue lines
    (without plain quoted text when ``spoken_only``) and the speakers of those lines."""
    if audio_state(ctx) is not None:
        return
    for a in ctx.texts(meta):
        if len(quote_labels(a)) < 2:
            continue
        lines = dialogue(a)
        if spoken_only:
            lines = [line for line in lines if line.how != "text"]
        speakers = _speakers(lines)
        if len(speakers) >= 2:
            yield a, lines, speakers


def _line_report(
    ctx: Context, meta: RuleMeta, a: Analysis, line: Line, speakers: list[str]
) -> Diagnostic:
    """A diagnostic on a quoted line, quotes included, naming the first speakers."""
    q = line.quote
    return ctx.report(
        meta,
        field=a.field,
        start=q.start - 1,
        end=q.end + 1,
        speakers=", ".join(f"[{s}]" for s in speakers[:3]),
    )


@check("KP503")
def unlabeled_speaker(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """With two or more speakers, a spoken line that has no ``[Speaker, tone]`` label."""
    out: list[Diagnostic] = []
    for a, lines, speakers in _speaker_texts(ctx, meta, spoken_only=True):
        for line in lines:
            if line.how == "label" or line.pronoun or _is_group(a, line):
                continue
            if line.how == "bare" and (
                a.text[line.lead_start : line.quote.start - 1].strip()
                or len(line.quote.text.split()) < 2
            ):
                continue
            out.append(_line_report(ctx, meta, a, line, speakers))
    return out


@check("KP504")
def pronoun_speaker(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """A line attributed with "he/she/they says" while several speakers exist."""
    return [
        _line_report(ctx, meta, a, line, speakers)
        for a, lines, speakers in _speaker_texts(ctx, meta, spoken_only=False)
        for line in lines
        if line.pronoun
    ]


@check("KP505")
def missing_speaker_transition(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Consecutive lines of different speakers with no linking word between them."""
    if audio_state(ctx) is not None:
        return ()
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        if len(quote_labels(a)) < 2:
            continue
        lines = [line for line in spoken_lines(a) if line.speaker is not None]
        for prev, line in itertools.pairwise(lines):
            if prev.speaker == line.speaker:
                continue
            gap_start, gap_end = prev.quote.end + 1, line.quote.start - 1
            # Independent excuses: the word count first, as it needs no lexicon hits.
            if len(a.text[gap_start : line.lead_start].split()) >= 3:
                continue  # an action sentence between the lines works as a pause
            if _hits_in(a, "speech.linkers", gap_start, gap_end):
                continue
            label_span = line.quote.label_span
            start = label_span[0] if label_span is not None else line.quote.start - 1
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=start,
                    end=line.quote.end + 1,
                    first=prev.speaker,
                    second=line.speaker,
                )
            )
    return out


# -- KP506 ---------------------------------------------------------------------------------------


@check("KP506")
def unsupported_speech_language(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Spoken lines in a language the model does not voice."""
    if audio_state(ctx) is not None:
        return ()
    table = ctx.option(meta, "languages", {})
    supported = table.get(ctx.family) if isinstance(table, dict) else None
    if not supported:
        return ()
    try:
        english = "en" in supported
    except TypeError:  # a malformed table: the plain path below fails as it always did
        english = False
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        for line in spoken_lines(a):
            if english and english_or_none(line.quote.text):
                continue  # None or "en", both voiced
            language = line_language(a, line)
            if language is None or language in supported:
                continue
            q = line.quote
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=q.start,
                    end=q.end,
                    language=LANGUAGE_NAMES.get(language, language),
                    family=ctx.family,
                    supported=", ".join(LANGUAGE_NAMES.get(code, code) for code in supported),
                )
            )
    return out


# -- KP507 ---------------------------------------------------------------------------------------


@check("KP507")
def shouted_caps(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """ALL-CAPS words (not acronyms) in English dialogue."""
    if audio_state(ctx) is not None:
        return ()
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        if not caps_in_quotes(a):
            continue  # no capital word in any quote, spoken or not
        lines = spoken_lines(a)
        if not lines:
            continue
        acronyms: set[tuple[int, int]] | None = None
        for line in lines:
            q = line.quote
            # Capital words first: cheaper than guessing the language, and rarer.
            words = list(_CAPS_WORD.finditer(a.text, q.start, q.end))
            if not words:
                continue
            if acronyms is None:
                acronyms = {(start, end) for start, end, _ in key_spans(a, "acronyms")}
            words = [
                m
                for m in words
                if (m.start(), m.end()) not in acronyms and _VOWELS.intersection(m.group())
            ]
            if not words:
                continue
            if not english_or_none(q.text) and line_language(a, line) not in (None, "en"):
                continue
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=words[0].start(),
                    end=words[-1].end(),
                    words=", ".join(dict.fromkeys(m.group() for m in words)),
                )
            )
    return out


def caps_in_quotes(a: Analysis) -> bool:
    """Whether some quote holds two capitals in a row, as every capital word of KP507 does
    (a regular expression led by a character class: the scan runs in C)."""
    text = a.text
    search = _CAPS_RUN.search
    return any(search(text, q.start, q.end) for q in a.quotes)


# -- KP508 ---------------------------------------------------------------------------------------


_CJK = lazy(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_SPOKEN_WORD = lazy(r"[^\W_]+(?:['’][^\W_]+)*")
# A word is letters and digits (``[^\W_]``, which is ``str.isalnum``) joined by single
# apostrophes. Bytes of a text without other word characters than ASCII ones: letters and digits
# become "a", the apostrophe stays, everything else (UTF-8 bytes of punctuation too) a space.
_WORD_BYTES = bytes(
    ord("a") if chr(b).isalnum() and b < 128 else b if b == ord("'") else ord(" ")
    for b in range(256)
)


def spoken_words(text: str) -> float:
    """Spoken length in English-word equivalents: two CJK characters count as one word."""
    if not text.isascii():
        plain = text.replace("’", "'")  # the apostrophe as "'" (most lines hold no other)
        if not plain.isascii():
            others = set(_NON_ASCII.findall(plain))
            if any(c.isalnum() or _CJK.match(c) for c in others):
                cjk = len(_CJK.findall(text))
                if cjk:
                    text = _CJK.sub(" ", text)
                return len(_SPOKEN_WORD.findall(text)) + cjk / 2
        text = plain  # the other non-ASCII characters only separate words
    # Counted without a regex over the whole text: words are the runs of letters and digits, less
    # one for every apostrophe that joins two runs (a search that stops at apostrophes only).
    marked = text.encode("utf-8", "surrogatepass").translate(_WORD_BYTES)
    words = len(marked.replace(b"'", b" ").split())
    if "'" in text:
        words -= len(_JOIN.findall(text))
    return float(words)


_KP508_SHORT = (
    "Dialogue or singing in a 5-second Kling 2.6 video is often rushed or cut off. Set duration "
    'to "10", or keep only one short line.'
)


@check("KP508")
def dialogue_too_long(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """More spoken words than the video's seconds can hold (and 5 s dialogue on Kling 2.6)."""
    if audio_state(ctx) is not None:
        return ()
    rate = float(ctx.option(meta, "words_per_second", 2.5))
    margin = float(ctx.option(meta, "margin", 0.1))
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        lines = spoken_lines(a)
        singing = _NO_SPANS
        if a.has_key("speech.singing"):
            # Singing that is also a speech verb ("sings", "raps"): the speech verbs, which the
            # dialogue rules have looked up already, that carry the singing key.
            singing = [
                h
                for h in key_spans(a, "speech.say-verbs")
                if "speech.singing" in h[2] and not a.in_quote(h[0])
            ]
        if not lines and not singing:
            continue
        seconds = _duration(ctx, a.shot_index)
        if seconds is None:
            continue
        words = sum(spoken_words(line.quote.text) for line in lines)
        first = lines[0].quote.start - 1 if lines else singing[0][0]
        last = lines[-1].quote.end + 1 if lines else singing[0][1]
        if words > rate * seconds * (1 + margin):
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=first,
                    end=last,
                    words=round(words),
                    seconds=f"{seconds:g}",
                    limit=round(rate * seconds),
                )
            )
        elif ctx.family == "v2.6" and seconds <= 5:
            diag = ctx.report(meta, _KP508_SHORT, field=a.field, start=first, end=last)
            out.append(_severity(ctx, meta, diag, "info"))
    return out


# -- KP509 ---------------------------------------------------------------------------------------


@check("KP509")
def too_many_speakers(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Three or more distinct speakers in one request (a warning on Kling 2.6)."""
    if audio_state(ctx) is not None:
        return ()
    maximum = int(ctx.option(meta, "max", 2))
    texts = ctx.texts(meta)
    labels = (
        quote_labels(texts[0]) if len(texts) == 1 else _NO_LABELS.union(*map(quote_labels, texts))
    )
    if len(labels) <= maximum:
        return ()  # fewer labels than it takes speakers to report
    seen: list[str] = []
    for a in texts:
        for line in spoken_lines(a):
            if line.speaker is None or line.speaker in seen:
                continue
            seen.append(line.speaker)
            if len(seen) == maximum + 1:
                label_span = line.quote.label_span
                start = label_span[0] if label_span is not None else line.quote.start - 1
                diag = ctx.report(
                    meta,
                    field=a.field,
                    start=start,
                    end=line.quote.end + 1,
                    count=len(seen),
                    speakers=", ".join(f"[{s}]" for s in seen),
                )
                if ctx.family == "v2.6":
                    diag = _severity(ctx, meta, diag, "warning")
                return [diag]
    return ()


# -- KP510 ---------------------------------------------------------------------------------------

_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "some",
        "any",
        "with",
        "and",
        "or",
        "plus",
        "add",
        "adds",
        "added",
        "no",
        "more",
        "less",
        "little",
        "bit",
        "of",
        "general",
        "generic",
        "random",
        "nice",
        "good",
        "cool",
        "great",
        "epic",
    ]
)
_SOURCE_AFTER = lazy(r"\s*(?::|\bof\b|\bfrom\b|\blike\b|\bby\b)", re.IGNORECASE)
_WORD_BEFORE_REVERSED = lazy(r"\s*([\w'’-]+)")


@check("KP510")
def generic_sound(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """A bare "sound", "noise", "music" or "audio" with no source or state."""
    if audio_state(ctx) is not None:
        return ()
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        text = a.text
        for start, end, keys in key_spans(a, "audio.generic"):
            # Independent excuses, the ones that settle most hits first.
            if (
                "audio.compounds" in keys
                or "audio.sourced" in keys
                or _described_before(text, start)
                or a.in_quote(start)
                or _in_label(text, start)
                or _SOURCE_AFTER.match(text, end)
                or _after_quote(text, start)  # '"shh-shh" sound': the quote is the sound
            ):
                continue
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=start,
                    end=end,
                    match=text[start:end],
                )
            )
    return out


def _described_before(text: str, pos: int) -> bool:
    """Whether a word before ``pos`` describes the sound ("crowd noise", "their music")."""
    for _ in range(2):
        before = word_before(text, pos)
        if before is None:
            return False
        start, word = before
        word = word.lower()
        if word in ("background", "ambient"):
            pos = start
            continue
        return word not in _FUNCTION_WORDS
    return False


def word_before(text: str, pos: int) -> tuple[int, str] | None:
    """The word (letters, digits, ``'’-``) that ends the 40 characters before ``pos``, give or
    take spaces, with where it starts; ``None`` when they end otherwise.

    A search for ``([\\w'’-]+)\\s*$`` in the window, done backwards: the reversed window is matched
    once from its start, instead of trying the pattern at every position of the window.
    """
    m = _WORD_BEFORE_REVERSED.match(text[max(0, pos - 40) : pos][::-1])
    if m is None:
        return None
    return pos - m.end(), m.group(1)[::-1]


def _after_quote(text: str, pos: int) -> bool:
    """Whether the last non-space character before ``pos`` closes a quote."""
    while pos > 0 and text[pos - 1].isspace():
        pos -= 1
    return pos > 0 and text[pos - 1] in "\"”'’"


def _in_label(text: str, pos: int) -> bool:
    opened = text.rfind("[", 0, pos)
    return opened != -1 and text.rfind("]", opened, pos) == -1 and "]" in text[pos : pos + 80]
