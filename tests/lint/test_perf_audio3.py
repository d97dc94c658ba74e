"""Third round of fast paths in the audio rules (KP5xx) and the quote parse they share, each
compared with the plain computation it replaced (kept here as the reference).

The comparisons run on generated texts built to hit the corners of each fast path (every quote
mark, unclosed and nested quotes, newlines, labels that are too long, empty or unclosed) and on
the rule-file cases and the real-prompt corpus.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_perf_audio import CASE_TEXTS, CORPUS_TEXTS

from kling_prompt.linter.text import Analysis

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
