"""KP4xx length and structure checks that need more than a word list (budgets are declarative)."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from itertools import compress, islice
from operator import itemgetter, ne
from typing import TypeVar

from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.lexicon import Hit
from kling_prompt.linter.native import runs_repeat
from kling_prompt.linter.rules import Context, RuleMeta, check
from kling_prompt.linter.text import Analysis

from .motion import _two_labels_possible, has_motion

T = TypeVar("T")

# -- KP403 --------------------------------------------------------------------------------------


@check("KP403")
def missing_component(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """Which of scene, subject, motion and style a text-to-video prompt leaves out."""
    min_words = _int_option(ctx, meta, "min_words", 8)
    min_missing = _int_option(ctx, meta, "min_missing", 1)
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        if a.word_count < min_words:
            continue
        missing = (
            not _has_subject(a),
            not (a.has_key("components.scene") or _has_place(a.lower)),
            not (a.has_key("motion-verbs") or has_motion(a)),
            not (a.has_key("components.style") or a.has_key("tag-soup")),
        )
        if any(missing) and sum(missing) >= min_missing:
            message = _missing_message(meta, missing)
            out.append(ctx.report(meta, message, field=a.field, start=0, end=len(a.text)))
    return out


_COMPONENTS = ("subject", "scene setting", "motion", "style")
# The message for each combination of missing components (formatting it is most of the cost
# of a report, and this rule reports on most prompts).
_MISSING_MESSAGES: dict[tuple[str, tuple[bool, ...]], str] = {}


def _missing_message(meta: RuleMeta, missing: tuple[bool, ...]) -> str:
    """The rule's message with ``{missing}`` filled in, as :meth:`Context.report` formats it."""
    key = (meta.message, missing)
    message = _MISSING_MESSAGES.get(key)
    if message is None:
        names = ", ".join(name for name, absent in zip(_COMPONENTS, missing, strict=True) if absent)
        try:
            message = meta.message.format(missing=names)
        except (KeyError, IndexError, ValueError):
            message = meta.message  # as Context.report leaves a message it cannot format
        message = _MISSING_MESSAGES[key] = message
    return message


def _int_option(ctx: Context, meta: RuleMeta, name: str, default: int) -> int:
    """``int(ctx.option(meta, name, default))`` without an empty override table per call."""
    override = ctx.options.get(meta.code)
    if override is not None and name in override:
        return int(override[name])
    return int(meta.options.get(name, default))


# Someone named in the text: a person-like noun the lexicons may not list ("a lighthouse
# keeper"), a capitalized name inside a sentence ("Rumi"), or a text that opens with a noun phrase
# ("A sloth, a paintbrush ...") or a name and a verb ("Rumi turns"). Only whether any of these
# occurs matters, so each is its own pattern, tried cheapest first.
_AGENT_NOUN = (
    r"\b(?:a|an|the|two|three|four|several|some)\s+(?:[a-z\-]+\s+){0,2}?"
    r"(?!(?:under|over|after|ever|never|other|water|weather|corner|summer|winter|silver|river"
    r"|tower|flower|center|centre|paper|later|closer|further|together|rather|either|floor|door"
    r"|colou?r|mirror|interior|exterior|anchor|shoulder|border|layer|letter|number|matter"
    r"|monitor|sweater|poster|timer|speaker|computer|counter|shelter|slender|tender)s?\b)"
    r"[a-z\-]+(?:er|or|ist|ian|man|men|woman|women)s?\b"
)
_AGENT_NOUN_ANY_CASE = lazy(f"(?i:{_AGENT_NOUN})")
# On ASCII text, matching the lowercased text is the same and several times faster than
# ignoring case (the regex engine skips alternatives by their first letter only when cased).
_AGENT_NOUN_LOWER = lazy(_AGENT_NOUN)
# A capitalized word not opening the text or a sentence: "\b[A-Z]" not at 0 and not after
# ". ", written letter first so the regex engine scans for capitals.
_NAME = lazy(r"[A-Z](?<=\W[A-Z])(?<![.!?]\s[A-Z])[a-z]{2,}\b")
_OPENS_WITH_ARTICLE = lazy(
    r"^\s*(?i:a|an|the|two|three|four|five|several|some|many)\s+(?!camera\b|view\b|shot\b)"
)
# "Rumi turns", "Rumi's eye tracks"
_OPENS_WITH_NAME = lazy(r"^\s*[A-Z][a-z]+(?:\s+[a-z]+)?\s+[a-z]+(?<!ss)s\b")


def _names_someone(text: str, lower: str) -> bool:
    """Whether ``text`` names an agent (see above); ``lower`` is ``text.lower()`` when ``text`` is
    ASCII (for other text it is not used: lowercasing can change offsets)."""
    if (
        _OPENS_WITH_ARTICLE.match(text) is not None
        or _OPENS_WITH_NAME.match(text) is not None
        or _NAME.search(text) is not None
    ):
        return True
    if text.isascii():
        return _AGENT_NOUN_LOWER.search(lower) is not None
    return _AGENT_NOUN_ANY_CASE.search(text) is not None


# A place phrase the scene lexicon may not list ("in a cafe", "at the top of the stairs"):
# r"\b(?:in|at|...)\s+(?:a|an|the)\s+" somewhere in the text. It is looked for in the reversed
# text, where it opens with a space before the article rather than with a word boundary: the
# regex engine skips to spaces in C instead of trying every position (the same matches exist).
_PREPOSITIONS: tuple[str, ...] = ("in", "at", "inside", "through", "across", "along", "near")
_PREPOSITIONS += ("by", "under", "over", "on", "into", "onto", "from")
_PLACE_REVERSED = lazy(r"\s(?:a|na|eht)\s+(?:" + "|".join(p[::-1] for p in _PREPOSITIONS) + r")\b")


def _has_place(lower: str) -> bool:
    """Whether the (lowercased) text has a place phrase."""
    return _PLACE_REVERSED.search(lower[::-1]) is not None


def _has_subject(a: Analysis) -> bool:
    if (
        a.has_key("components.subject")
        or a.has_key("components.pronoun")
        or a.first_reference() is not None
    ):
        return True
    return _names_someone(a.text, a.lower)


# -- KP404 --------------------------------------------------------------------------------------


@check("KP404")
def buried_subject(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """The subject (or an emphasized term) first appears after the first sentence and third.

    The limit is the later of the first sentence's end and the first third's start, so anything
    at or before the third's start is early; the sentences are split only when that is not
    enough to decide.
    """
    min_words = _int_option(ctx, meta, "min_words", 20)
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        if len(a.text) < 2 * min_words - 1 or a.word_count < min_words:
            continue  # (too short to hold ``min_words`` words: no need to count them)
        emphasis = a.emphasis
        if emphasis:
            start, end = emphasis[0]
            if start <= _word_start(a.text, a.word_count // 3):
                continue
            first_end = _first_sentence_end(a)
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
        if "[" in a.text and _LABELS.search(a.text):
            continue  # Kling's dialogue format puts the scene first, the labelled speakers after
        subject = _late_subject(a)
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


_LABELS = lazy(r"\[[^\[\]\n]{1,80}\]")


def _word_start(text: str, n: int) -> int:
    """Where whitespace-separated word ``n`` starts (``Analysis.word_start``, split in C)."""
    parts = text.split(None, n)
    return len(text) - len(parts[n]) if n < len(parts) else len(text)


def _first_sentence_end(a: Analysis) -> int | None:
    """The end of the first sentence, or ``None`` when the text has fewer than two."""
    core = a.text.strip(".!?\n")
    if "." not in core and "!" not in core and "?" not in core and "\n" not in core:
        return None  # at most one run between sentence ends, so at most one sentence
    sentences = a.sentences
    return sentences[0][1] if len(sentences) >= 2 else None


def _first_named(a: Analysis) -> int | None:
    """Where the first subject word or pronoun starts, ``None`` when there is none.

    The hits are the lexicon matches in text order, so the first match that names someone is
    enough: it is found among the matched texts, without building a hit for every match (no
    other rule needs them all), and its start follows from the lengths of the parts before it.
    """
    matcher = a.matcher
    if matcher is None:
        return None  # no hits
    parts = a.parts
    extra = a.matched[len(parts) // 3 :]  # punctuation-led matches, after the word-led ones
    if extra and any(map(_names_someone_key, map(matcher.keys_of_match, extra))):
        # Only the hits put them in text order.
        return next((h.start for h in a.hits if _names_someone_key(h.keys)), None)
    key_sets = matcher.key_sets  # a dictionary lookup per match, not a Python call
    for i in range(2, len(parts), 3):
        found = key_sets[parts[i]]  # (``_names_someone_key`` inlined: this loop is the cost)
        if "components.subject" in found or "components.pronoun" in found:
            return sum(map(len, parts[:i])) - 1  # parts[0] has a space in front
    return None


def _names_someone_key(keys: tuple[str, ...]) -> bool:
    """Whether a match with these keys is a subject word or a pronoun."""
    return "components.subject" in keys or "components.pronoun" in keys


def _late_subject(a: Analysis) -> Hit | None:
    """The first subject word, when nothing before the limit names anyone, it comes after the
    limit and it opens a sentence; ``None`` when the text has fewer than two sentences."""
    named = _first_named(a)
    if named is None:
        return None  # no subject word (nor pronoun)
    reference = a.first_reference()
    first = min(named, reference) if reference is not None else named
    # Someone named at or before the start of word ``n``, the first third: no more than ``n``
    # words start before the mention (the common answer, with a short text to split). Only
    # then the lexicon keys, which no other rule may need for the text: a subject word?
    n = a.word_count // 3
    if a.words_before(first) <= n or not a.has_key("components.subject"):
        return None
    third = _word_start(a.text, n)
    first_end = _first_sentence_end(a)
    if first_end is None:
        return None
    limit = max(first_end, third)
    if limit > third and first <= limit:
        return None
    if _names_someone(a.text[:limit], a.lower[:limit]):
        return None
    subjects = [h for h in a.hits_for("components.subject") if not a.in_quote(h.start)]
    if not subjects:
        return None
    hit = subjects[0]
    sentence_start = max((s for s, _ in a.sentences if s <= hit.start), default=0)
    if len(a.text[sentence_start : hit.start].split()) > 3:
        return None  # mentioned in passing, not introduced as the subject of a sentence
    return hit


# -- KP405 / KP406: emphasis ------------------------------------------------------------------

_PLUS_RUN = lazy(r"\+{2,}")


class _Marker:
    """One ``++`` marker; whether it can open or close depends on the run of ``+`` it is in."""

    __slots__ = ("closes", "end", "opens", "start")

    def __init__(self, start: int, end: int, opens: bool, closes: bool) -> None:
        self.start = start
        self.end = end
        self.opens = opens
        self.closes = closes


def _delete(a: Analysis, start: int, end: int) -> Edit:
    """Delete ``[start, end)`` with one neighbouring space, so no double space is left behind."""
    text = a.text
    if start > 0 and text[start - 1] == " " and (end >= len(text) or text[end] in " ,.;:!?"):
        start -= 1
    elif end < len(text) and text[end] == " " and (start == 0 or text[start - 1] == " "):
        end += 1
    return Edit(a.field, start, end, "")


def _markers(ctx: Context, meta: RuleMeta, a: Analysis, out: list[Diagnostic]) -> list[_Marker]:
    """The ``++`` markers of a text; runs of an odd length are reported into ``out``."""
    text = a.text
    markers: list[_Marker] = []
    for m in _PLUS_RUN.finditer(text):
        start, end = m.span()
        run = end - start
        if (
            run == 2
            and start > 0
            and text[start - 1] in "cC"
            and (start == 1 or not text[start - 2].isalnum())
        ):
            continue  # the language C++
        before = text[start - 1] if start > 0 else " "
        after = text[end] if end < len(text) else " "
        opens = not after.isspace() and (before.isspace() or before in "([{,;:\"'“")
        closes = not before.isspace() and (after.isspace() or after in ")]},.;:!?\"'”")
        if run % 2:
            edit = Edit(a.field, start, end, "+" * (run - 1))
            out.append(
                _report(
                    ctx,
                    meta,
                    a,
                    start,
                    end,
                    f"'{m.group()}' is not an emphasis marker; use exactly '++'",
                    [edit],
                )
            )
            run -= 1
        markers.extend(_Marker(start + i, start + i + 2, opens, closes) for i in range(0, run, 2))
    return markers


@check("KP405")
def malformed_emphasis(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Unbalanced, empty or nested ``++`` emphasis markers."""
    for a in ctx.texts(meta):
        if "++" not in a.text:
            continue
        out: list[Diagnostic] = []
        stack: list[_Marker] = []
        nested: dict[int, tuple[_Marker, _Marker | None]] = {}
        for marker in _markers(ctx, meta, a, out):
            if marker.opens and not marker.closes:
                if stack:
                    nested[marker.start] = (marker, None)
                stack.append(marker)
                continue
            if not stack:
                if marker.closes and not marker.opens:
                    out.append(
                        _report(
                            ctx,
                            meta,
                            a,
                            marker.start,
                            marker.end,
                            "this '++' closes an emphasis that was never opened",
                            [_delete(a, marker.start, marker.end)],
                        )
                    )
                else:
                    stack.append(marker)
                continue
            opener = stack.pop()
            if opener.start in nested:
                nested[opener.start] = (opener, marker)
            elif a.text[opener.end : marker.start].strip() == "":
                out.append(
                    _report(
                        ctx,
                        meta,
                        a,
                        opener.start,
                        marker.end,
                        "empty emphasis marks nothing",
                        [_delete(a, opener.start, marker.end)],
                    )
                )
        for inner, closer in nested.values():
            edits = [Edit(a.field, inner.start, inner.end, "")]
            end = inner.end
            if closer is not None:
                edits.append(Edit(a.field, closer.start, closer.end, ""))
                end = closer.end
            out.append(
                _report(
                    ctx,
                    meta,
                    a,
                    inner.start,
                    end,
                    "nested emphasis: a '++' span inside another",
                    edits,
                )
            )
        for opener in stack:
            if opener.start not in nested:
                out.append(
                    _report(
                        ctx,
                        meta,
                        a,
                        opener.start,
                        opener.end,
                        "this '++' opens an emphasis that is never closed",
                        [_delete(a, opener.start, opener.end)],
                    )
                )
        out.sort(key=lambda d: d.start or 0)
        yield from out


def _report(
    ctx: Context, meta: RuleMeta, a: Analysis, start: int, end: int, problem: str, edits: list[Edit]
) -> Diagnostic:
    fix = Fix("Remove the stray emphasis markers", edits, safe=True)
    return ctx.report(meta, field=a.field, start=start, end=end, fix=fix, problem=problem)


@check("KP406")
def emphasis_overuse(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Too many emphasized spans, or emphasis over too large a share of the words."""
    max_spans = int(ctx.option(meta, "max_spans", 3))
    max_share = float(ctx.option(meta, "max_share", 0.2))
    min_words = int(ctx.option(meta, "min_words", 20))
    for a in ctx.texts(meta):
        spans = a.emphasis
        if not spans:
            continue
        emphasized = sum(len(a.text[s + 2 : e - 2].split()) for s, e in spans)
        total = a.word_count
        if len(spans) > max_spans:
            reason = f"{len(spans)} emphasized spans (more than {max_spans})"
        elif total >= min_words and emphasized / total > max_share:
            reason = f"{emphasized} of {total} words emphasized (over {round(max_share * 100)}%)"
        else:
            continue
        yield ctx.report(meta, field=a.field, start=spans[0][0], end=spans[-1][1], reason=reason)


# -- KP407 --------------------------------------------------------------------------------------

# Every alternative opens with its bracket (the tag's "at the start or after a comma" is checked
# behind it), so the regex engine only stops at brackets.
_WEIGHT_ROUND = r"\((?P<w1>[^()\n:]{1,60}):\s*-?\d+(?:\.\d+)?\)|\(\((?P<w2>[^()\n]{1,60})\)\)"
_WEIGHT_SQUARE = (
    r"\[\[(?P<w3>[^\[\]\n]{1,60})\]\]"
    r"|\[(?:(?<=^\[)|(?<=[,;]\s\[)|(?<=[,;]\[))(?P<w4>[a-z][a-z \-]{0,30})\](?=\s*(?:[,;]|$))"
)
_WEIGHT = lazy(f"{_WEIGHT_ROUND}|{_WEIGHT_SQUARE}")
# A text with one kind of bracket only (most of them) is read with that kind's alternatives: the
# same matches, and a pattern that opens with one literal character, which the regex engine
# skips to several times faster than to either of two.
_WEIGHT_ROUND_ONLY = lazy(_WEIGHT_ROUND)
_WEIGHT_SQUARE_ONLY = lazy(_WEIGHT_SQUARE)


@check("KP407")
def ignored_weight_syntax(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """Stable-Diffusion weights and quality tag soup, which Kling ignores."""
    # A plain function, not a generator: it rarely reports.
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        text = a.text
        if "(" in text:
            found = (_WEIGHT if "[" in text else _WEIGHT_ROUND_ONLY).finditer(text)
        elif "[" in text:
            found = _WEIGHT_SQUARE_ONLY.finditer(text)
        else:
            found = None
        if found is not None:
            for m in found:
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
        if not a.has_key("tag-soup"):
            continue  # no tags (as ``hits_for`` would find, without asking it)
        tags = [h for h in a.hits_for("tag-soup") if not a.in_quote(h.start)]
        if not tags:
            continue
        sd = [h for h in tags if "tag-soup.sd" in h.keys]
        quality = {h.phrase for h in tags}
        for hit in sd[:3]:
            out.append(_tag(ctx, meta, a, hit, hit))
        if not sd and len(quality) >= _int_option(ctx, meta, "min_quality_tags", 3):
            out.append(_tag(ctx, meta, a, tags[0], tags[-1]))
    return out


def _tag(ctx: Context, meta: RuleMeta, a: Analysis, first: Hit, last: Hit) -> Diagnostic:
    return ctx.report(
        meta,
        field=a.field,
        start=first.start,
        end=last.end,
        match=a.text[first.start : last.end],
        advice="describe the look you want instead (lighting, lens, texture)",
    )


# -- KP408 --------------------------------------------------------------------------------------

_WORDS = lazy(r"[^\W_]+(?:['’][^\W_]+)*")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "in",
        "on",
        "at",
        "to",
        "with",
        "by",
        "for",
        "from",
        "as",
        "is",
        "are",
        "was",
        "his",
        "her",
        "their",
        "its",
        "it",
        "this",
        "that",
    ]
)


@check("KP408")
def repeated_phrase(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """The same run of 4+ words (or the same sentence) twice, outside labels and quotes."""
    # A plain function, not a generator: it runs on every prompt and rarely reports.
    size = _int_option(ctx, meta, "min_words", 4)
    shortest = 4 * size - 1  # the length of 2 * size one-letter words between single spaces
    out: list[Diagnostic] = []
    for a in ctx.texts(meta):
        # A superset first: a run of the loose words repeats (``_may_repeat`` without its second
        # half, the stop words, checked only for a text where a run repeats within a block: most
        # texts that get that far do). The word count, which the reports also need, is taken
        # only then: the superset rules out most texts, and short ones cheaply.
        if len(a.text) < shortest:
            continue  # fewer than 2 * size words
        words = _loose_words(a.lower)
        if not _runs_repeat(words, size) or a.word_count < 2 * size:
            continue
        content: bool | None = None
        # ``a.segments()`` scans for shot labels; two need two label words with a number.
        segments = a.segments() if _two_labels_possible(a.lower) else [(0, len(a.text))]
        for seg_start, seg_end in segments:
            hit = _first_repeat(a, seg_start, seg_end, size)
            if hit is None:
                continue
            start, end = hit
            if content is None:
                content = _run_repeats_loosely(a.lower[start:end], words, size)
                if not content:
                    content = _repeated_run_has_content(words, _STOP_BYTES, size)
            if not content:
                break
            out.append(
                ctx.report(meta, field=a.field, start=start, end=end, match=a.text[start:end])
            )
    return out


_PUNCTUATION = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~“”‘’「」—–…'
# A loose word is a run of characters that are neither whitespace nor the punctuation above (the
# same words as replacing that punctuation with spaces and splitting). They are split in C: the
# non-ASCII separators become spaces, then a byte table turns the ASCII ones into spaces (every
# character ``str.isspace`` counts: ``bytes.split`` alone misses \x1c-\x1f) for ``bytes.split``.
# Other non-ASCII characters stay in the words as UTF-8, which keeps equal words equal.
_WIDE_SEPARATORS = lazy(
    "[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    + "".join(c for c in _PUNCTUATION if not c.isascii())
    + "]"
)
_LOOSE_BYTES = bytes(
    32 if b < 128 and (chr(b) in _PUNCTUATION or chr(b).isspace()) else b for b in range(256)
)
_STOP_BYTES = frozenset(w.encode() for w in _STOP)


def _loose_words(lower: str) -> list[bytes]:
    """The loose words of a text, UTF-8 encoded."""
    if not lower.isascii():
        lower = _WIDE_SEPARATORS.sub(" ", lower)
    return lower.encode().translate(_LOOSE_BYTES).split()


def _may_repeat(lower: str, size: int) -> bool:
    """A cheap superset test: does a run of ``size`` loose words, two of them not stop words,
    occur twice at all (blocks and quotes ignored)?"""
    return _content_runs_repeat(_loose_words(lower), _STOP_BYTES, size)


def _runs(words: Sequence[T], size: int) -> Iterator[tuple[T, ...]]:
    """Every run of ``size`` consecutive words, in order."""
    if size == 4:  # the default, without building the argument list
        return zip(words, words[1:], words[2:], words[3:], strict=False)
    return zip(*[words[i:] for i in range(size)], strict=False)


def _content_runs_repeat(words: Sequence[T], stop: AbstractSet[T], size: int) -> bool:
    """Whether a run of ``size`` consecutive ``words`` with at least two not in ``stop`` occurs
    twice. The common answer, no run occurs twice at all, takes no Python code per word."""
    return _runs_repeat(words, size) and _repeated_run_has_content(words, stop, size)


def _run_repeats_loosely(run: str, words: list[bytes], size: int) -> bool:
    """Whether ``run`` is ``size`` loose words, two of them not stop words, that occur twice
    in ``words`` (enough for ``_repeated_run_has_content``, and cheaper: the repeated run a
    text is reported for is usually such a run)."""
    found = _loose_words(run)
    if len(found) != size or size - sum(map(_STOP_BYTES.__contains__, found)) < 2:
        return False
    return (b" " + b" ".join(words) + b" ").count(b" " + b" ".join(found) + b" ") >= 2


def _runs_repeat(words: Sequence[T], size: int) -> bool:
    """Whether any run of ``size`` consecutive ``words`` occurs twice."""
    count = len(words) - size + 1
    if count < 2:
        return False
    if _NATIVE_RUNS_REPEAT is not None and size >= 1:
        return _NATIVE_RUNS_REPEAT(words, size)  # the same answer, without a tuple per run
    return len(set(_runs(words, size))) < count


_NATIVE_RUNS_REPEAT = runs_repeat()


def _repeated_run_has_content(words: Sequence[T], stop: AbstractSet[T], size: int) -> bool:
    """Whether a run of ``size`` consecutive ``words`` that occurs twice has at least two words
    not in ``stop``."""
    runs = list(_runs(words, size))
    count = len(runs)
    last = dict(zip(runs, range(count), strict=True))  # run -> index of its last occurrence
    earlier = compress(runs, map(ne, map(last.__getitem__, runs), range(count)))
    is_stop = stop.__contains__
    return any(size - sum(map(is_stop, run)) >= 2 for run in earlier)


# ``_PIECE``, with the word alternative in a group: ``m[1]`` is the word, None at a block break.
_PIECE = lazy(r"([^\W_]+(?:['’][^\W_]+)*)|\[[^\[\]\n]*\]|[\"“”「」.!?;:\n()]")
_WORD_OF = itemgetter(1)


_FIRST_BATCH = 256  # pieces: about 1,500 characters, most prompts in one batch
_FIRST_BYTES = 1500  # the same for the bytes of :func:`_translated`


def _first_repeat(a: Analysis, lo: int, hi: int, size: int) -> tuple[int, int] | None:
    """The second occurrence of the first repeated ``size``-word run. Runs do not cross a
    sentence end, a speaker label or quoted speech (those break the text into blocks).

    Only runs with at least two words that are not stop words count, and the second occurrence
    must not overlap the first. The words and block breaks are the pieces of ``_PIECE``, taken
    from :func:`_translated`; a text it cannot translate is read piece by piece.
    """
    if size < 1:
        return None
    translated = _translated(a, lo, hi)
    if translated is None:
        return _first_repeat_scanned(a, lo, hi, size)
    # The words and a ``\x01`` token for each block break, as one stream split in C: a run with
    # a break in it never counts, and indices of runs differ like those of pieces. The stream is
    # read in growing batches of whole blocks (a long text often repeats itself early), each in
    # C; a batch ends before a break, which the next batch's first index skips.
    first_of: dict[tuple[bytes, ...], int] = {}  # run -> index of its first occurrence
    start = offset = 0  # the batch's first byte and first token
    batch = _FIRST_BYTES
    while True:
        end = translated.find(_BREAK_BYTE, start + batch)
        last = end == -1
        if last:
            end = len(translated)
        tokens = translated[start:end].replace(_BREAK_BYTE, _SPACED_BREAK).split()
        runs = list(_runs(tokens, size))
        index = range(offset, offset + len(runs))
        seen = dict(zip(reversed(runs), reversed(index), strict=True))
        if first_of or len(seen) < len(runs):  # else no run occurs twice (the common answer)
            seen.update(first_of)
            firsts = map(seen.__getitem__, runs)
            for i, run in compress(zip(index, runs, strict=True), map(ne, index, firsts)):
                # It counts within a block, with two words that are not stop words, when not
                # overlapping the first.
                if (
                    i - seen[run] >= size
                    and _BREAK_BYTE not in run
                    and size - sum(map(_STOP_BYTES.__contains__, run)) >= 2
                ):
                    return _run_span(translated, start, tokens, i - offset, size, lo)
        if last:
            return None
        first_of = seen
        start, offset = end + 1, offset + len(tokens) + 1
        batch *= 2


# A segment's text translated to bytes in which the words are those of ``_PIECE`` (UTF-8),
# between spaces, and ``\x01`` is a block break. The regions that break blocks (quoted speech,
# speaker labels) are masked first, keeping every offset; the non-ASCII characters that are
# neither letters, digits nor the apostrophe ’ become a break (curly quotes) or a space (the
# rest); then a byte table turns the ASCII break characters into ``\x01`` and every other
# character that cannot be in a word into a space. A text with an apostrophe that is not between
# two word characters (only those are inside a word) is not translated.
_BREAK = "\x01"
_BREAK_BYTE = b"\x01"
_SPACED_BREAK = b" \x01 "
_BREAK_CHARACTERS = '"“”「」.!?;:\n()'
_BLOCK_BYTES = bytes(
    b
    if b >= 128 or chr(b).isalnum() or chr(b) == "'"
    else (1 if b == 1 or chr(b) in _BREAK_CHARACTERS else 32)
    for b in range(256)
)
_ASCII_BYTES = bytes(range(128))
_LABEL_PIECE = lazy(r"\[[^\[\]\n]*\]")


def _translated(a: Analysis, lo: int, hi: int) -> bytes | None:
    """``a.lower[lo:hi]`` translated (see above), or ``None`` when it cannot be."""
    text = a.lower[lo:hi]
    if _BREAK in text:
        return None
    masked = [
        (max(start, lo) - lo, min(end, hi) - lo)
        for start, end in a.quote_spans
        if start < hi and end > lo
    ]
    if "[" in text:
        masked += [(m.start() - lo, m.end() - lo) for m in _LABEL_PIECE.finditer(a.lower, lo, hi)]
    if masked:  # each region becomes one break and spaces
        parts: list[str] = []
        done = 0
        for start, end in sorted(masked):
            if end > done:
                start = max(start, done)
                parts += (text[done:start], _BREAK, " " * (end - start - 1))
                done = end
        parts.append(text[done:])
        text = "".join(parts)
    if not text.isascii():
        wide = text.encode().translate(None, _ASCII_BYTES).decode()  # the non-ASCII characters
        if not wide.replace("’", "").isalnum():
            for c in set(wide):
                if c in _BREAK_CHARACTERS:
                    text = text.replace(c, _BREAK)
                elif not c.isalnum() and c != "’":
                    text = text.replace(c, " ")
    for apostrophe in "'’":
        at = text.find(apostrophe)
        while at != -1:
            if not (0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum()):
                return None
            at = text.find(apostrophe, at + 1)
    return text.encode().translate(_BLOCK_BYTES)


def _run_span(
    translated: bytes, start: int, tokens: list[bytes], token: int, size: int, lo: int
) -> tuple[int, int]:
    """The character span of the run of ``size`` words from token ``token`` of the batch that
    starts at byte ``start`` of ``translated`` and holds ``tokens``."""
    word = token - tokens[:token].count(_BREAK_BYTE)  # words before the run
    # Where word ``word`` of the batch starts: what is left after splitting off that many words
    # (the breaks read as spaces), then the run's words from there.
    batch = translated[start:].replace(_BREAK_BYTE, b" ")
    first = start + len(batch) - len(batch.split(None, word)[word])
    found = list(islice(_WORD_BYTES.finditer(translated, first), size))
    last = found[-1].end()
    if not translated.isascii():  # byte offsets to character offsets
        first, last = len(translated[:first].decode()), len(translated[:last].decode())
    return lo + first, lo + last


_WORD_BYTES = re.compile(rb"[^ \x01]+")


def _first_repeat_scanned(a: Analysis, lo: int, hi: int, size: int) -> tuple[int, int] | None:
    """:func:`_first_repeat` for any text, scanning its pieces with ``_PIECE``.

    The pieces are read in growing batches (a long text often repeats itself early) and each
    batch is checked with C loops: a piece is its word, or None for a block break (a quoted word
    is a break too); run ``i`` is pieces ``i`` to ``i + size - 1``.
    """
    if size < 1:
        return None
    found = _PIECE.finditer(a.lower, lo, hi)
    quotes = a.quote_spans
    pieces: list[re.Match[str]] = []
    words: list[str | None] = []
    first_of: dict[tuple[str | None, ...], int] = {}  # run -> index of its first occurrence
    done = 0  # runs before this one are checked
    batch = _FIRST_BATCH
    while True:
        new = list(islice(found, batch))
        pieces += new
        new_words: list[str | None] = list(map(_WORD_OF, new))
        if quotes:
            starts = list(map(re.Match.start, new))
            for q_start, q_end in quotes:
                first, last = bisect_left(starts, q_start), bisect_left(starts, q_end)
                new_words[first:last] = [None] * (last - first)
        words += new_words
        runs = list(_runs(words[done:], size))
        within = list(map(all, runs))  # no block break inside
        valid = list(compress(runs, within))
        index = list(compress(range(done, done + len(runs)), within))
        done += len(runs)
        seen = dict(zip(reversed(valid), reversed(index), strict=True))
        seen.update(first_of)
        firsts = list(map(seen.__getitem__, valid))
        repeats = compress(zip(index, firsts, valid, strict=True), map(ne, index, firsts))
        for i, f, run in repeats:
            # It counts with two words that are not stop words, when not overlapping the first.
            if i - f >= size and size - sum(map(_STOP.__contains__, run)) >= 2:
                return pieces[i].start(), pieces[i + size - 1].end()
        first_of = seen
        if len(new) < batch:
            return None
        batch *= 2


# -- KP409 --------------------------------------------------------------------------------------

_SCRIPTS = {
    "CJK": lazy(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]+"),
    "Cyrillic": lazy(r"[\u0400-\u04ff]+"),
    "Arabic": lazy(r"[\u0600-\u06ff]+"),
    "Devanagari": lazy(r"[\u0900-\u097f]+"),
    "Thai": lazy(r"[\u0e00-\u0e7f]+"),
}
_LATIN = lazy(r"[A-Za-z\u00c0-\u024f]+")
_ANY_FOREIGN = lazy(
    "[\u0400-\u04ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]"
)


@check("KP409")
def mixed_language(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """A prompt mostly in one script with a long run in another (quoted dialogue excepted)."""
    for a in ctx.texts(meta):
        if not a.text.isascii():
            return _mixed_language(ctx, meta)
    return ()  # ASCII only, as most prompts are: nothing to check, and no generator to run


def _mixed_language(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    min_run = int(ctx.option(meta, "min_run", 12))
    for a in ctx.texts(meta):
        text = a.text
        if text.isascii() or _ANY_FOREIGN.search(text) is None:
            continue  # Latin script only (accents, curly quotes and dashes are not a language)
        # Letters of each script: Latin ones anywhere, the others outside quotes. A run of a
        # script never crosses a quote mark, so the letters of the runs that start outside quotes
        # are those left when the quotes are cut out; each count is what deleting them removes.
        outside = _outside_quotes(a)
        if outside is not text and _ANY_FOREIGN.search(outside) is None:
            continue  # only quoted speech in another script, which is intended
        counts: dict[str, int] = {"Latin": len(text) - len(_LATIN.sub("", text))}
        for name, pattern in _SCRIPTS.items():
            counts[name] = len(outside) - len(pattern.sub("", outside))
        main = max(counts, key=counts.__getitem__)
        if counts[main] == 0:
            continue
        run = _longest_foreign_run(a, main, min_run)
        if run is not None:
            start, end, script = run
            yield ctx.report(
                meta,
                field=a.field,
                start=start,
                end=end,
                main=main,
                other=script,
                match=text[start:end],
            )


def _outside_quotes(a: Analysis) -> str:
    """The text without its quoted speech (quote marks included)."""
    spans = a.quote_spans
    if not spans:
        return a.text
    parts = []
    done = 0
    for start, end in spans:
        parts.append(a.text[done:start])
        done = end
    parts.append(a.text[done:])
    return "".join(parts)


def _longest_foreign_run(a: Analysis, main: str, min_run: int) -> tuple[int, int, str] | None:
    """The first run outside quotes in a script other than ``main``: ``min_run`` letters (half
    that for CJK, where one character is about a word), or four words of Latin script."""
    text = a.text
    if main == "Latin":
        for name, pattern in _SCRIPTS.items():
            need = min_run // 2 if name == "CJK" else min_run
            for m in pattern.finditer(text):
                if len(m.group()) >= need and not a.in_quote(m.start()):
                    return m.start(), m.end(), name
        return None
    for m in _LATIN_RUN.finditer(text):
        if not a.in_quote(m.start()):
            return m.start(), m.end(), "Latin"
    return None


_LATIN_RUN = lazy(r"[A-Za-z][A-Za-z'\-]*(?:[\s,]+[A-Za-z][A-Za-z'\-]*){3,}")
