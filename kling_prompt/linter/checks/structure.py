"""KP4xx length and structure checks that need more than a word list (budgets are declarative)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.lexicon import Hit
from kling_prompt.linter.rules import Context, RuleMeta, check
from kling_prompt.linter.text import Analysis

from .motion import has_motion

# -- KP403 --------------------------------------------------------------------------------------


@check("KP403")
def missing_component(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Which of scene, subject, motion and style a text-to-video prompt leaves out."""
    min_words = int(ctx.option(meta, "min_words", 8))
    min_missing = int(ctx.option(meta, "min_missing", 1))
    for a in ctx.texts(meta):
        if a.word_count < min_words:
            continue
        missing: list[str] = []
        if not _has_subject(a):
            missing.append("subject")
        if not (a.hits_for("components.scene") or _PLACE.search(a.lower)):
            missing.append("scene setting")
        if not has_motion(a):
            missing.append("motion")
        if not (a.hits_for("components.style") or a.hits_for("tag-soup")):
            missing.append("style")
        if missing and len(missing) >= min_missing:
            yield ctx.report(
                meta, field=a.field, start=0, end=len(a.text), missing=", ".join(missing)
            )


# A person-like noun the lexicons may not list ("a lighthouse keeper", "Rumi"), or a prompt that
# opens with a noun phrase ("A sloth, a paintbrush ...").
_AGENT = lazy(
    r"(?i:\b(?:a|an|the|two|three|four|several|some)\s+(?:[a-z\-]+\s+){0,2}?"
    r"(?!(?:under|over|after|ever|never|other|water|weather|corner|summer|winter|silver|river"
    r"|tower|flower|center|centre|paper|later|closer|further|together|rather|either|floor|door"
    r"|colou?r|mirror|interior|exterior|anchor|shoulder|border|layer|letter|number|matter"
    r"|monitor|sweater|poster|timer|speaker|computer|counter|shelter|slender|tender)s?\b)"
    r"[a-z\-]+(?:er|or|ist|ian|man|men|woman|women)s?\b)"
    r"|(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b"
    r"|^\s*(?i:a|an|the|two|three|four|five|several|some|many)\s+(?!camera\b|view\b|shot\b)"
    r"|^\s*[A-Z][a-z]+(?:\s+[a-z]+)?\s+[a-z]+(?<!ss)s\b"  # "Rumi turns", "Rumi's eye tracks"
)
# A place phrase the scene lexicon may not list ("in a cafe", "at the top of the stairs").
_PLACE = lazy(
    r"\b(?:in|at|inside|through|across|along|near|by|under|over|on|into|onto|from)\s+(?:a|an|the)\s+"
)


def _has_subject(a: Analysis) -> bool:
    if a.hits_for("components.subject") or a.hits_for("components.pronoun") or a.references:
        return True
    return _AGENT.search(a.text) is not None


# -- KP404 --------------------------------------------------------------------------------------


@check("KP404")
def buried_subject(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """The subject (or an emphasized term) first appears after the first sentence and third."""
    min_words = int(ctx.option(meta, "min_words", 20))
    for a in ctx.texts(meta):
        if a.word_count < min_words:
            continue
        sentences = a.sentences
        if len(sentences) < 2:
            continue
        third = a.word_start(a.word_count // 3)
        limit = max(sentences[0][1], third)
        emphasis = a.emphasis
        if emphasis and emphasis[0][0] > limit:
            start, end = emphasis[0]
            yield ctx.report(
                meta,
                field=a.field,
                start=start,
                end=end,
                match=a.text[start:end],
                what="emphasized term",
            )
            continue
        if emphasis or _LABELS.search(a.text):
            continue  # Kling's dialogue format puts the scene first, the labelled speakers after
        subject = _late_subject(a, limit)
        if subject is not None:
            yield ctx.report(
                meta,
                field=a.field,
                start=subject.start,
                end=subject.end,
                match=a.text[subject.start : subject.end],
                what="subject",
            )


_LABELS = lazy(r"\[[^\[\]\n]{1,80}\]")


def _late_subject(a: Analysis, limit: int) -> Hit | None:
    """The first subject word, when nothing before ``limit`` names anyone and it opens a sentence."""
    if a.references and a.references[0].start <= limit:
        return None
    for key in ("components.subject", "components.pronoun"):
        if any(h.start <= limit for h in a.hits_for(key)):
            return None
    if _AGENT.search(a.text[:limit]) is not None:
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

_WEIGHT = lazy(
    r"\((?P<w1>[^()\n:]{1,60}):\s*-?\d+(?:\.\d+)?\)"
    r"|\(\((?P<w2>[^()\n]{1,60})\)\)"
    r"|\[\[(?P<w3>[^\[\]\n]{1,60})\]\]"
    r"|(?:(?<=^)|(?<=[,;]\s)|(?<=[,;]))\[(?P<w4>[a-z][a-z \-]{0,30})\](?=\s*(?:[,;]|$))"
)


@check("KP407")
def ignored_weight_syntax(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Stable-Diffusion weights and quality tag soup, which Kling ignores."""
    min_tags = int(ctx.option(meta, "min_quality_tags", 3))
    for a in ctx.texts(meta):
        text = a.text
        if "(" in text or "[" in text:
            for m in _WEIGHT.finditer(text):
                if a.in_quote(m.start()):
                    continue
                word = next(g for g in m.groups() if g is not None).strip()
                fix = Fix(
                    f"Replace with {word!r}", [Edit(a.field, m.start(), m.end(), word)], safe=True
                )
                yield ctx.report(
                    meta,
                    field=a.field,
                    start=m.start(),
                    end=m.end(),
                    fix=fix,
                    match=m.group(),
                    advice=f"write plain '{word}' (use ++{word}++ to emphasize it)",
                )
        tags = [h for h in a.hits_for("tag-soup") if not a.in_quote(h.start)]
        if not tags:
            continue
        sd = [h for h in tags if "tag-soup.sd" in h.keys]
        quality = {h.phrase for h in tags}
        for hit in sd[:3]:
            yield _tag(ctx, meta, a, hit, hit)
        if not sd and len(quality) >= min_tags:
            yield _tag(ctx, meta, a, tags[0], tags[-1])


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
def repeated_phrase(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """The same run of 4+ words (or the same sentence) twice, outside labels and quotes."""
    size = int(ctx.option(meta, "min_words", 4))
    for a in ctx.texts(meta):
        if a.word_count < 2 * size or not _may_repeat(a.lower, size):
            continue
        for seg_start, seg_end in a.segments():
            hit = _first_repeat(a, seg_start, seg_end, size)
            if hit is not None:
                start, end = hit
                yield ctx.report(meta, field=a.field, start=start, end=end, match=a.text[start:end])


_PUNCTUATION = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~“”‘’「」—–…'
# Runs of characters that are neither whitespace nor the punctuation above: the same words as
# replacing that punctuation with spaces and splitting, in one pass.
_LOOSE_WORD = lazy("[^\\s" + re.escape(_PUNCTUATION) + "]+")


def _may_repeat(lower: str, size: int) -> bool:
    """A cheap superset test: does any run of ``size`` words occur twice at all?"""
    words = _LOOSE_WORD.findall(lower)
    if len(words) <= size:
        return False  # at most one run
    grams = list(zip(*(words[i:] for i in range(size)), strict=False))
    if len(set(grams)) == len(grams):
        return False
    counts = Counter(grams)
    return any(c > 1 and sum(w not in _STOP for w in g) >= 2 for g, c in counts.items())


def _first_repeat(a: Analysis, lo: int, hi: int, size: int) -> tuple[int, int] | None:
    """The second occurrence of the first repeated ``size``-word run. Runs do not cross a
    sentence end, a speaker label or quoted speech (those break the text into blocks)."""
    seen: dict[tuple[str, ...], int] = {}  # run -> end of its first occurrence
    words: list[str] = []  # the current block's words, their starts and ends
    starts: list[int] = []
    ends: list[int] = []
    in_quote = a.in_quote if a.quote_spans else None
    stop = _STOP.__contains__
    for m in _PIECE.finditer(a.lower, lo, hi):
        piece = m.group()
        start = m.start()
        if not piece[0].isalnum() or (in_quote is not None and in_quote(start)):
            if words:
                words, starts, ends = [], [], []
            continue
        words.append(piece)
        starts.append(start)
        end = m.end()
        ends.append(end)
        if len(words) < size:
            continue
        gram = tuple(words[-size:])
        first_end = seen.get(gram)
        if first_end is None:
            if size - sum(map(stop, gram)) >= 2:
                seen[gram] = end
            continue
        if first_end <= starts[-size]:
            return starts[-size], end
    return None


_PIECE = lazy(r"[^\W_]+(?:['’][^\W_]+)*|\[[^\[\]\n]*\]|[\"“”「」.!?;:\n()]")


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
def mixed_language(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """A prompt mostly in one script with a long run in another (quoted dialogue excepted)."""
    min_run = int(ctx.option(meta, "min_run", 12))
    for a in ctx.texts(meta):
        text = a.text
        if text.isascii() or _ANY_FOREIGN.search(text) is None:
            continue  # Latin script only (accents, curly quotes and dashes are not a language)
        counts: dict[str, int] = {"Latin": sum(len(m.group()) for m in _LATIN.finditer(text))}
        for name, pattern in _SCRIPTS.items():
            counts[name] = sum(
                len(m.group()) for m in pattern.finditer(text) if not a.in_quote(m.start())
            )
        main = max(counts, key=lambda k: counts[k])
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
