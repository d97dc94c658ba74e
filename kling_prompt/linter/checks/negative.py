"""KP6xx negative-prompt checks: negations in either prompt, conflicts, the endpoint default."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Iterator

from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.lexicon import Hit
from kling_prompt.linter.rules import Context, RuleMeta, check
from kling_prompt.linter.text import Analysis

_WORD_AT = lazy(r"\s*([^\W_]+(?:['’][^\W_]+)*)")
_ITEM_BREAK = lazy(r"[,.;:!?\n()\[\]]|\b(?:and|or|while|as|but|so|because)\b")
_ARTICLES = frozenset(("a", "an", "the", "any", "visible", "other"))
# Words that end the noun phrase after "no" ("no cars in sight" -> "cars").
_PHRASE_END = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "in",
        "on",
        "at",
        "of",
        "to",
        "from",
        "around",
        "anywhere",
        "nearby",
        "near",
        "that",
        "which",
        "who",
        "can",
        "could",
        "will",
        "would",
        "should",
        "may",
        "might",
        "appears",
        "appear",
        "appearing",
        "visible",
        "present",
        "here",
        "there",
        "left",
        "remain",
        "remains",
        "remaining",
        "whatsoever",
        "at",
        "all",
        "allowed",
        "added",
        "not",
    ]
)
_PEOPLE = frozenset(("no one", "nobody", "no body"))


def _words_after(text: str, pos: int, limit: int) -> list[tuple[str, int, int]]:
    """Up to ``limit`` words from ``pos``, stopping at a clause break."""
    out: list[tuple[str, int, int]] = []
    end = len(text)
    stop = _ITEM_BREAK.search(text, pos)
    if stop is not None:
        end = stop.start()
    while len(out) < limit:
        m = _WORD_AT.match(text, pos, end)
        if m is None:
            break
        out.append((m.group(1), m.start(1), m.end(1)))
        pos = m.end()
    return out


def _clause_start(lower: str, pos: int) -> int:
    cut = max(lower.rfind(ch, 0, pos) for ch in ",;.\n:")
    return cut + 1


# -- KP601 --------------------------------------------------------------------------------------


@check("KP601")
def negated_negative(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """ "no text" inside ``negative_prompt``: the field already means "avoid"."""
    for a in ctx.texts(meta):
        lower = a.lower
        wanted = a.hits_for("negation.wanted")
        for hit in a.hits_for("negation.word"):
            if "negation.idiom" in hit.keys:
                continue
            before = lower[_clause_start(lower, hit.start) : hit.start].strip()
            if before and not re.search(r"(?:^|\s)(?:and|or|also)$", before):
                continue
            words = _words_after(lower, hit.end, 3)
            skip = 0
            while skip < len(words) and (
                words[skip][0] in _ARTICLES or words[skip][0] in _NEGATIVE_VERBS
            ):
                skip += 1
            if skip >= len(words) or any(w.start == words[skip][1] for w in wanted):
                continue  # nothing follows, or "no audio": avoiding an absence on purpose
            start, end = hit.start, words[skip][1]
            item = a.text[end : _item_end(a, end)].strip()
            fix = Fix(
                f"Drop {a.text[start:end].strip()!r}",
                [Edit(a.field, start, end, "")],
                safe=True,
            )
            yield ctx.report(
                meta,
                field=a.field,
                start=start,
                end=hit.end,
                fix=fix,
                match=a.text[hit.start : hit.end],
                item=item,
            )


_NEGATIVE_VERBS = frozenset(
    [
        "show",
        "shows",
        "showing",
        "include",
        "including",
        "add",
        "adding",
        "have",
        "having",
        "want",
        "use",
        "render",
        "display",
        "make",
        "generate",
        "create",
        "draw",
        "be",
    ]
)


def _item_end(a: Analysis, pos: int) -> int:
    stop = _ITEM_BREAK.search(a.lower, pos)
    return stop.start() if stop is not None else len(a.text)


# -- KP602 --------------------------------------------------------------------------------------


@check("KP602")
def negation_in_prompt(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """ "no people", "without text" in the positive prompt (outside quoted dialogue)."""
    limit = int(ctx.option(meta, "max_reports", 3))
    negative = ctx.arguments.get("negative_prompt")
    for a in ctx.texts(meta):
        count = 0
        for hit in a.hits_for("negation.absence"):
            if "negation.idiom" in hit.keys or a.in_quote(hit.start):
                continue
            item = _absent_item(a, hit)
            if item is None:
                continue
            count += 1
            if count > limit:
                break
            noun, item_end = item
            yield ctx.report(
                meta,
                field=a.field,
                start=hit.start,
                end=item_end,
                fix=_move_fix(a, hit.start, item_end, noun, negative),
                match=a.text[hit.start : item_end],
                noun=noun,
            )


def _absent_item(a: Analysis, hit: Hit) -> tuple[str, int] | None:
    """The thing asked to be absent and where its phrase ends, or ``None`` if there is none."""
    if hit.phrase in _PEOPLE:
        return "people", hit.end
    words = _words_after(a.lower, hit.end, 6)
    i = 0
    while i < len(words) and (words[i][0] in _ARTICLES or words[i][0] in _NEGATIVE_VERBS):
        i += 1
    if i >= len(words):
        return None
    first = words[i][0]
    if first.endswith("ing") or first in _PHRASE_END or first.isdigit():
        return None  # "without looking back", "no more", "no 3"
    taken = []
    for word, start, end in words[i : i + 4]:
        if word in _PHRASE_END:
            break
        taken.append((start, end))
    start, end = taken[0][0], taken[-1][1]
    return a.text[start:end], end


def _move_fix(a: Analysis, start: int, end: int, noun: str, negative: object) -> Fix:
    """Remove the phrase (with its joining word or comma) and list the noun in negative_prompt."""
    text = a.text
    cut_start, cut_end = start, end
    head = text[:start].rstrip()
    for joint in (" with", " and", " or"):
        # Only ASCII letters lowercase to these, so the head's last characters decide.
        if head[-len(joint) :].lower() == joint:
            cut_start = len(head) - len(joint)
            break
    else:
        if head.endswith(","):
            cut_start = len(head) - 1
        elif not head and text[end:].lstrip().startswith(","):
            cut_end = end + (len(text[end:]) - len(text[end:].lstrip())) + 1
            while cut_end < len(text) and text[cut_end] == " ":
                cut_end += 1
    edits = [Edit(a.field, cut_start, cut_end, "")]
    if isinstance(negative, str) and negative.strip():
        if noun.lower() not in negative.lower():
            sep = "" if negative.rstrip().endswith(",") else ","
            edits.append(Edit("negative_prompt", len(negative), len(negative), f"{sep} {noun}"))
    else:
        edits.append(Edit("negative_prompt", None, None, noun))
    return Fix(f"Move {noun!r} to negative_prompt", edits, safe=False)


# -- KP603 --------------------------------------------------------------------------------------

_TERM = lazy(r"[^,;\n]+")
_LEAD = lazy(r"^(?:(?:and|or|the|a|an|any)\s+)+", re.IGNORECASE)
_NEGATED_TERM = lazy(r"^(?:no|not|don't|do not|without|avoid|never)\b", re.IGNORECASE)
_TOO_GENERIC = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "in",
        "on",
        "with",
        "bad",
        "good",
        "more",
        "less",
        "very",
        "low",
        "high",
        "quality",
    ]
)


@check("KP603")
def negative_conflicts_prompt(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """A term of ``negative_prompt`` that the prompt asks for."""
    neg = ctx.analysis("negative_prompt")
    if neg is None or not neg.text.strip():
        return
    texts = ctx.texts(meta)
    if not texts:
        return
    terms = _candidate_terms(neg, texts)
    # Only terms that occur somewhere can match: the pattern is built from those alone.
    present = tuple(t for t, _, _ in terms if any(t in a.lower for a in texts))
    if not present:
        return
    pattern = _term_pattern(present)
    reported: set[str] = set()
    for a in texts:
        for m in _term_matches(pattern, present, a.lower):
            term = m.group(1)
            if term in reported or a.in_quote(m.start()) or _negated(a, m.start()):
                continue
            reported.add(term)
            _, start, end = next(t for t in terms if t[0] == term)
            yield ctx.report(
                meta,
                field="negative_prompt",
                start=start,
                end=end,
                match=neg.text[start:end],
                context=a.text[max(0, m.start() - 20) : m.end() + 20].strip(),
                where=a.field,
            )


def _items(text: str) -> list[tuple[int, int, str]]:
    """The items of a negative prompt, ``(start, end, item)``: what ``_TERM.finditer`` matches
    (the maximal runs of characters other than ``,``, ``;`` and newline), found by splitting at
    C speed instead (one-character replacements keep every offset)."""
    out: list[tuple[int, int, str]] = []
    start = 0
    for item in text.replace(";", ",").replace("\n", ",").split(","):
        end = start + len(item)
        if item:
            out.append((start, end, item))
        start = end + 1
    return out


def _terms(neg: Analysis) -> list[tuple[str, int, int]]:
    """The terms of a negative prompt: ``(lowercase term, start, end)``."""
    terms: list[tuple[str, int, int]] = []
    text = neg.text
    for start, end, _ in _items(text):
        term = _term(text, start, end)
        if term is not None:
            terms.append(term)
    return terms


def _candidate_terms(neg: Analysis, texts: list[Analysis]) -> list[tuple[str, int, int]]:
    """The terms of :func:`_terms` that may occur in ``texts``: every one that does, in order.

    A term is the end of its item (less whitespace and dots), so it holds the item's last word
    (less dots): a term that occurs in a text has that word there too, and only the items whose
    last word occurs are parsed. In an ASCII text each character lowercases on its own, so the
    items are read in the lowercase text, at the same offsets; other texts take every term.
    """
    if not neg.text.isascii():
        return neg.memo("kp603.terms", _terms)
    hay = texts[0].lower if len(texts) == 1 else "\0".join([a.lower for a in texts])
    text = neg.text
    terms: list[tuple[str, int, int]] = []
    start = 0
    for item in neg.lower.replace(";", ",").replace("\n", ",").split(","):  # as in _items
        end = start + len(item)
        if item:
            last = item.rsplit(None, 1)
            if not last or last[-1].strip(".") in hay:
                term = _term(text, start, end)
                if term is not None:
                    terms.append(term)
        start = end + 1
    return terms


def _term(text: str, start: int, end: int) -> tuple[str, int, int] | None:
    """The term of the item ``text[start:end]`` (a match of ``_TERM``), or ``None``."""
    raw = text[start:end]
    stripped = raw.strip()
    # The patterns only run on items whose first letter can start them: a lead word starts with
    # a, o or t, a negation with n, d, w or a (and case folding adds no other letter for these).
    lead = _LEAD.match(stripped) if stripped[:1] in "aAoOtT" else None
    cut = lead.end() if lead else 0
    rest = stripped[cut:]
    term = rest.strip(" .")
    cut += len(rest) - len(rest.lstrip(" ."))  # ".blur": the term starts after the dot
    if term[:1] in "nNdDwWaA" and _NEGATED_TERM.match(term):
        return None  # "no audio": KP601's business, and often a deliberate double negative
    if len(term) < 3:
        return None
    lower = term.lower()
    if lower in _TOO_GENERIC or len(term.split()) > 4:
        return None
    start += len(raw) - len(raw.lstrip()) + cut
    return lower, start, start + len(term)


@functools.lru_cache(maxsize=256)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(t) for t in terms) + r")(?:s|es)?(?![\w-])"
    )


def _term_matches(
    pattern: re.Pattern[str], terms: tuple[str, ...], lower: str
) -> list[re.Match[str]]:
    """``list(pattern.finditer(lower))``, trying the pattern only where a term occurs.

    Every match starts with one of the literal terms, so the places ``str.find`` gives, in text
    order and skipping those inside the previous match, are exactly where ``finditer`` matches;
    the pattern's leading look-behind would otherwise make it try every position of the text.
    """
    starts: set[int] = set()
    for term in terms:
        at = lower.find(term)
        while at != -1:
            starts.add(at)
            at = lower.find(term, at + 1)
    found: list[re.Match[str]] = []
    last_end = 0
    for start in sorted(starts):
        if start < last_end:
            continue
        m = pattern.match(lower, start)
        if m is not None:
            found.append(m)
            last_end = m.end()
    return found


def _negated(a: Analysis, pos: int) -> bool:
    """Whether the prompt negates the word at ``pos`` itself ("no blur or distorted anatomy")."""
    start = max(a.lower.rfind(ch, 0, pos) for ch in ",;.:\n-") + 1
    return any(start <= h.start < pos for h in a.hits_for("negation.word"))


# -- KP604 --------------------------------------------------------------------------------------


# Per endpoint entry: (rule message, the message with the endpoint's default filled in, or
# ``None`` when the endpoint has no default negative prompt). Catalog entries never change, so
# this is read once per endpoint, not per prompt.
_KP604_MESSAGES: dict[object, tuple[str, str | None]] = {}


def _kp604_message(info: object, template: str) -> tuple[str, str | None]:
    field = getattr(info, "fields", {}).get("negative_prompt")
    default = getattr(field, "default", None)
    message: str | None = None
    if isinstance(default, str) and default.strip():
        message = template
        with contextlib.suppress(KeyError, IndexError, ValueError):
            message = template.format(default=default)
    if len(_KP604_MESSAGES) > 256:
        _KP604_MESSAGES.clear()
    found = _KP604_MESSAGES[info] = (template, message)
    return found


@check("KP604")
def default_negative(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """No ``negative_prompt``: the endpoint's default one applies."""
    arguments = ctx.arguments
    negative = arguments.get("negative_prompt")
    info = ctx.info
    if (isinstance(negative, str) and negative.strip()) or info is None:
        return ()
    found = _KP604_MESSAGES.get(info)
    if found is None or found[0] != meta.message:
        found = _kp604_message(info, meta.message)
    message = found[1]
    if message is None:
        return ()
    # What ``ctx.report(meta, message, field=...)`` builds, without its formatting path: this
    # reports on most requests, and the message is already complete.
    code = meta.code
    return [
        Diagnostic(
            code,
            meta.name,
            ctx.severity.get(code, meta.severity),
            message,
            field="prompt" if "prompt" in arguments else None,
        )
    ]
