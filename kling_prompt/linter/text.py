"""Text analysis shared by all rules, computed once per text field and only on demand.

Results are cached and shared between rules: treat every list returned here as read-only.

Every property of :class:`Analysis` is lazy: a prompt without quotes never runs the dialogue
parser, one without ``@`` never scans for reference tokens. This is what keeps the linter fast
enough for pre-commit. Spans are ``(start, end)`` offsets into the field text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from functools import reduce
from itertools import accumulate
from operator import or_
from typing import TYPE_CHECKING, Any, TypeVar, cast

from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.native import word_count as native_word_count

if TYPE_CHECKING:
    from kling_prompt.linter.lexicon import Hit, Matcher

T = TypeVar("T")

# Words as rules count them: whitespace-separated tokens (GUIDELINES: emphasis markers and
# reference tokens count as one word each, which whitespace splitting gives for free).
_WORD = lazy(r"\S+")
_WORD_COUNT = native_word_count()  # len(text.split()) without making the words, when compiled
# Word tokens for analysis: letters/digits with inner apostrophes, plus clause punctuation.
_TOKEN = lazy(r"[^\W_]+(?:['’][^\W_]+)*|[.!?;:,]")
_SENTENCE = lazy(r"[^.!?\n]+(?:[.!?]+|\n|$)")

# Quoted speech: straight or curly double quotes. Single quotes are apostrophes too often.
_QUOTE = lazy(r"\"([^\"\n]*)\"|“([^”]*)”|「([^」]*)」")
# The quote marks of ``_QUOTE``: opening, closing (a straight quote closes before a newline).
_QUOTE_MARKS = (('"', '"'), ("“", "”"), ("「", "」"))
# A dialogue label such as ``[Old man, gravelly voice]`` or ``[Narrator]``.
_LABEL = lazy(r"\[([^\[\]\n]{1,80})\]")

# Reference tokens as fal binds them, and near misses that bind to nothing.
REFERENCE = lazy(r"@(Element|Image|Video)(\d+)\b|<<<voice_(\d+)>>>")
REFERENCE_HINT = lazy(
    r"@\s*(?:element|image|video)\s*\d*|<{2,}[^<>\n]{0,20}>{0,3}|<{0,3}[^<>\s]{0,20}>{2,}",
    re.IGNORECASE,
)
_EMPHASIS = lazy(r"\+\+(.*?)\+\+", re.DOTALL)
# Time marks: "at the 3-second mark", "after 2 seconds", "by the 5s mark", "at 4 seconds".
TIME_MARK = lazy(
    r"\b(?:at|after|by|until|around|from|within|in)\s+(?:the\s+)?(?:first\s+)?"
    r"(\d+(?:\.\d+)?)\s*(?:-|\s)?\s*(?:seconds?|secs?|s)\b(?:\s*mark)?",
    re.IGNORECASE,
)
_DIGIT_S = lazy(r"\d\s*-?\s*s\b")  # "5s", "5 s", "5-s": the short forms TIME_MARK takes
_SHOT_LABEL = lazy(r"(?:^|(?<=[\s.!?:;]))(?:shot|scene)\s*(\d+)\s*[:.)\-–—]", re.IGNORECASE)


# Shared by every text without hits of a key; analysis results are read-only for rules.
_NO_HITS: list[Hit] = []


class Quote:
    """A quoted line: its inner span, and the speaker label that precedes it, if any."""

    __slots__ = ("end", "label", "label_span", "start", "text")

    def __init__(
        self,
        start: int,
        end: int,
        text: str,
        label: str | None = None,
        label_span: tuple[int, int] | None = None,
    ) -> None:
        self.start = start
        self.end = end
        self.text = text
        self.label = label
        self.label_span = label_span

    @property
    def speaker(self) -> str | None:
        """The speaker's name: the label's first comma-separated part, without voice tokens."""
        if self.label is None:
            return None
        name = self.label.split(",", 1)[0]
        name = re.sub(r"<<<[^>]*>>>", "", name).strip()
        return name.lower() or None

    def __repr__(self) -> str:
        return f"Quote({self.start}, {self.end}, {self.text!r}, label={self.label!r})"


class Reference:
    """A well-formed reference token: ``@Element2`` is ``("element", 2)``."""

    __slots__ = ("end", "index", "kind", "start")

    def __init__(self, kind: str, index: int, start: int, end: int) -> None:
        self.kind = kind
        self.index = index
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"Reference({self.kind!r}, {self.index}, {self.start}, {self.end})"


class Analysis:
    """Lazy facts about one text field (a prompt, a shot prompt or a negative prompt)."""

    __slots__ = (
        "_cache",
        "field",
        "kind",
        "lower",
        "matcher",
        "shot_index",
        "text",
    )

    def __init__(
        self,
        text: str,
        *,
        field: str = "prompt",
        kind: str = "prompt",
        shot_index: int | None = None,
        matcher: Matcher | None = None,
    ) -> None:
        self.text = text
        lower = text.lower()  # (``lowercase`` inlined for the common case: same length)
        self.lower = lower if len(lower) == len(text) else lowercase(text)
        self.field = field
        self.kind = kind
        self.shot_index = shot_index
        self.matcher = matcher
        self._cache: dict[str, Any] = {}

    # -- words and tokens -------------------------------------------------------------------
    @property
    def word_count(self) -> int:
        value = self._cache.get("wc")
        if value is None:
            value = self._cache["wc"] = (
                _WORD_COUNT(self.text) if _WORD_COUNT is not None else len(self.text.split())
            )
        return int(value)

    @property
    def word_spans(self) -> list[tuple[int, int]]:
        value = self._cache.get("ws")
        if value is None:
            value = self._cache["ws"] = [m.span() for m in _WORD.finditer(self.text)]
        return value

    def words_before(self, pos: int) -> int:
        """``len(text[:pos].split())``: the words that start before ``pos``, counted without
        making them when the compiled helper is built."""
        head = self.text[:pos]
        return _WORD_COUNT(head) if _WORD_COUNT is not None else len(head.split())

    def word_start(self, n: int) -> int:
        """Where word ``n`` (0-based, as :attr:`word_spans` counts) starts; the text's length
        when there are not that many words."""
        spans = self._cache.get("ws")
        if spans is not None:
            return spans[n][0] if n < len(spans) else len(self.text)
        if n < 0:
            return self.word_spans[n][0]
        # Split in C: the rest after ``n`` splits starts at word ``n`` (``\S+`` runs are the
        # words ``str.split`` gives).
        rest = self.text.split(None, n)
        return len(self.text) - len(rest[n]) if n < len(rest) else len(self.text)

    @property
    def tokens(self) -> list[tuple[str, int, int]]:
        """Lowercased word tokens and clause punctuation, with spans."""
        value = self._cache.get("tok")
        if value is None:
            value = self._cache["tok"] = [
                (m.group(), m.start(), m.end()) for m in _TOKEN.finditer(self.lower)
            ]
        return value

    @property
    def sentences(self) -> list[tuple[int, int]]:
        value = self._cache.get("sent")
        if value is None:
            spans = []
            for m in _SENTENCE.finditer(self.text):
                start, end = m.span()
                while start < end and self.text[start].isspace():
                    start += 1
                while end > start and self.text[end - 1].isspace():
                    end -= 1
                if end > start:
                    spans.append((start, end))
            value = self._cache["sent"] = spans
        return value

    # -- lexicon hits -----------------------------------------------------------------------
    @property
    def parts(self) -> list[str]:
        """The lowercased text split at lexicon matches (see :meth:`Matcher.split`)."""
        value = self._cache.get("parts")
        if value is None:
            value = self._cache["parts"] = (
                self.matcher.split(self.lower) if self.matcher is not None else [" " + self.lower]
            )
        return value

    @property
    def matched(self) -> list[str]:
        """The text of every lexicon match, without spans: enough to test for presence.

        Word-led phrases as matched (``slow-mo`` for the phrase ``slow mo``), then the rare
        punctuation-led ones (``<<<element_1>>>``).
        """
        value = self._cache.get("matched")
        if value is None:
            value = self.parts[2::3]
            if self.matcher is not None:
                extra = self.matcher.extra_scan(self.lower)
                if extra:
                    value = value + extra
            self._cache["matched"] = value
        return value

    @property
    def hits(self) -> list[Hit]:
        value = self._cache.get("hits")
        if value is None:
            value = self._cache["hits"] = (
                self.matcher.find(self.lower, self.parts) if self.matcher is not None else []
            )
        return value

    @property
    def keys(self) -> frozenset[str]:
        """Every lexicon key (lexicon, ``lexicon.category``) with at least one hit."""
        value = self._cache.get("keys")
        if value is None:
            matched = self.matched
            if not matched or self.matcher is None:
                value = frozenset()
            else:
                value = frozenset().union(*map(self.matcher.key_sets.__getitem__, matched))
            self._cache["keys"] = value
        return value

    @property
    def key_mask(self) -> int:
        """Every lexicon key with a hit, as bits (see :meth:`Matcher.key_bit`): cheaper to make
        than :attr:`keys`, for presence tests (:meth:`has_key`, :meth:`has_any_key`)."""
        value = self._cache.get("km")
        if value is None:
            matched = self.matched
            if not matched or self.matcher is None:
                value = 0
            else:
                value = reduce(or_, map(self.matcher.key_masks.__getitem__, matched))
            self._cache["km"] = value
        return int(value)

    def has_key(self, key: str) -> bool:
        """Whether ``key`` (a lexicon or ``lexicon.category``) has a hit: ``key in a.keys``
        without building the set of keys."""
        keys = self._cache.get("keys")
        if keys is not None:
            return key in keys
        if self.matcher is None:
            return False
        return self.key_mask & self.matcher.key_bit(key) != 0

    def has_any_key(self, keys: frozenset[str]) -> bool:
        """Whether one of ``keys`` has a hit (``not a.keys.isdisjoint(keys)``)."""
        if self.matcher is None:
            return False
        return self.key_mask & self.matcher.keys_mask(keys) != 0

    def hits_for(self, lexicon: str) -> list[Hit]:
        """Hits of one lexicon (or ``lexicon.category``), in text order. To test whether there
        are any, :meth:`has_key` is cheaper: it builds no hits."""
        index = self._cache.get("hix")
        if index is None:
            index = self._cache["hix"] = {}
        found = index.get(lexicon)
        if found is None:
            if not self.has_key(lexicon):
                return _NO_HITS  # known without building a single hit
            # Built per key on demand: a prompt is asked about a few keys, while its hits
            # carry many (every lexicon, category and contained phrase). Without the full list
            # of hits, only this key's are built (equal hits, not the same objects).
            hits = self._cache.get("hits")
            if hits is not None or self.matcher is None:
                found = [h for h in self.hits if lexicon in h.keys]
            else:
                offsets = self._cache.get("off")
                if offsets is None:
                    offsets = self._cache["off"] = list(
                        accumulate(map(len, self.parts), initial=-1)
                    )
                found = self.matcher.find_key(self.lower, self.parts, lexicon, offsets)
            found = index[lexicon] = found or _NO_HITS
        return found

    # -- quotes and dialogue ----------------------------------------------------------------
    @property
    def quotes(self) -> list[Quote]:
        value = self._cache.get("q")
        if value is None:
            value = self._cache["q"] = self._parse_quotes()
        return value

    def _parse_quotes(self) -> list[Quote]:
        """The quotes as ``_QUOTE.finditer`` finds them, each with the nearest ``_LABEL`` between
        the previous quote and it; also stores :attr:`quote_spans`.

        Found with ``str.find`` rather than the regular expressions, which test every character
        against their first character set in Python's regex engine: an opening mark is the first
        of the three marks from where the last quote ended, and it opens a quote when its closing
        mark follows (for ``"``, before a newline); a label is the last ``[`` in the gap before
        the quote where ``_LABEL`` matches and ends before the quote.
        """
        text = self.text
        kinds = [mark for mark in _QUOTE_MARKS if mark[0] in text]
        quotes: list[Quote] = []
        spans: list[tuple[int, int]] = []
        if kinds:
            find = text.find
            labelled = "[" in text
            previous_end = 0  # where the previous quote's closing mark ends
            pos = 0  # where the search for the next opening mark starts
            while True:
                # The first opening mark from ``pos`` (a "“" or "「" only when the text has one).
                if len(kinds) == 1:
                    opening, closing = kinds[0]
                    open_at = find(opening, pos)
                else:
                    open_at = -1
                    opening = closing = ""
                    for o, c in kinds:
                        at = find(o, pos, open_at if open_at != -1 else len(text))
                        if at != -1:
                            open_at, opening, closing = at, o, c
                if open_at == -1:
                    break
                close_at = find(closing, open_at + 1)
                if close_at == -1:
                    # No closing mark further on: no later mark of this kind opens a quote.
                    kinds = [kind for kind in kinds if kind[0] != opening]
                    if not kinds:
                        break
                    pos = open_at + 1
                    continue
                if opening == '"' and find("\n", open_at + 1, close_at) != -1:
                    pos = open_at + 1  # not a quote: the search goes on after this mark
                    continue
                label: str | None = None
                label_span: tuple[int, int] | None = None
                if labelled:
                    # The nearest label that starts after the previous quote and ends before
                    # this one (a label belongs to the line that follows it).
                    at = text.rfind("[", previous_end, open_at)
                    while at != -1:
                        m = _LABEL.match(text, at, open_at)
                        if m is not None:
                            label, label_span = m.group(1).strip(), (at, m.end())
                            break
                        at = text.rfind("[", previous_end, at)
                start = open_at + 1
                quotes.append(Quote(start, close_at, text[start:close_at], label, label_span))
                spans.append((open_at, close_at + 1))
                previous_end = pos = close_at + 1
        self._cache["qs"] = spans
        return quotes

    @property
    def quote_spans(self) -> list[tuple[int, int]]:
        """``(start, end)`` of every quote, quote marks included."""
        value: list[tuple[int, int]] | None = self._cache.get("qs")
        if value is None:  # not parsed yet: the parse stores the spans
            self._cache["q"] = self._parse_quotes()
            value = self._cache["qs"]
        return value

    def in_quote(self, pos: int) -> bool:
        """Whether ``pos`` lies inside quoted speech (quote marks included)."""
        spans = self._cache.get("qs")
        if spans is None:
            spans = self.quote_spans
        if not spans:
            return False
        starts = self._cache.get("qst")
        if starts is None:
            starts = self._cache["qst"] = [s for s, _ in spans]
        i = bisect_right(starts, pos) - 1
        return i >= 0 and spans[i][0] <= pos < spans[i][1]

    # -- references and emphasis ------------------------------------------------------------
    @property
    def references(self) -> list[Reference]:
        value = self._cache.get("ref")
        if value is None:
            refs: list[Reference] = []
            if "@" in self.text or "<<<" in self.text:
                for m in REFERENCE.finditer(self.text):
                    if m.group(1):
                        refs.append(
                            Reference(m.group(1).lower(), int(m.group(2)), m.start(), m.end())
                        )
                    else:
                        refs.append(Reference("voice", int(m.group(3)), m.start(), m.end()))
            value = self._cache["ref"] = refs
        return value

    def first_reference(self) -> int | None:
        """Where the first reference token starts (``None`` without one): one search, not
        every :class:`Reference` of :attr:`references`, unless they are built already."""
        refs = self._cache.get("ref")
        if refs is not None:
            return refs[0].start if refs else None
        if "@" not in self.text and "<<<" not in self.text:
            return None
        m = REFERENCE.search(self.text)
        return m.start() if m is not None else None

    @property
    def emphasis(self) -> list[tuple[int, int]]:
        """Spans of well-formed ``++term++`` emphasis (markers included)."""
        value = self._cache.get("emph")
        if value is None:
            spans: list[tuple[int, int]] = []
            if "++" in self.text:
                spans = [
                    m.span() for m in _EMPHASIS.finditer(self.text) if m.group(1).strip() != ""
                ]
            value = self._cache["emph"] = spans
        return value

    # -- time -------------------------------------------------------------------------------
    @property
    def time_marks(self) -> list[tuple[float, int, int]]:
        """``(seconds, start, end)`` of every time mark, in text order."""
        value = self._cache.get("tm")
        if value is None:
            marks: list[tuple[float, int, int]] = []
            if "sec" in self.lower or _DIGIT_S.search(self.lower):
                for m in TIME_MARK.finditer(self.text):
                    marks.append((float(m.group(1)), m.start(), m.end()))
            value = self._cache["tm"] = marks
        return value

    # -- shots inside one prompt ------------------------------------------------------------
    @property
    def shot_labels(self) -> list[tuple[int, int, int]]:
        """``(number, start, end)`` of "Shot 1:" / "Scene 2:" labels written inside the text."""
        value = self._cache.get("sl")
        if value is None:
            labels: list[tuple[int, int, int]] = []
            if "shot" in self.lower or "scene" in self.lower:
                labels = [
                    (int(m.group(1)), m.start(), m.end()) for m in _SHOT_LABEL.finditer(self.text)
                ]
            value = self._cache["sl"] = labels
        return value

    def memo(self, key: str, compute: Callable[[Analysis], T]) -> T:
        """A rule module's own derived fact, computed once per text and cached here."""
        if key not in self._cache:
            self._cache[key] = compute(self)
        return cast(T, self._cache[key])

    def segments(self) -> list[tuple[int, int]]:
        """The text split at in-text shot labels: each segment is one shot for consistency rules."""
        labels = self.shot_labels
        if len(labels) < 2:
            return [(0, len(self.text))]
        bounds = sorted({0, len(self.text), *(start for _, start, _ in labels)})
        return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def lowercase(text: str) -> str:
    """``text.lower()`` with every offset kept: the few characters whose lowercase is longer
    ("İ" becomes "i̇") stay as they are, so a span found in the lowercase text is the same span
    in the original."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join([c if len(low := c.lower()) != 1 else low for c in text])


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Word tokens with spans: the baseline the throughput benchmark compares against."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text.lower())]


def line_of(text: str, offset: int) -> int:
    """0-based line index of ``offset`` in ``text``."""
    return text.count("\n", 0, offset)
