"""Rendered text with a file position per character: folding and source-map spans.

Every character of a rendered template carries a mark ``(kind, source, offset)``: ``"d"`` for
literal template text (copied from ``source.text[offset]``), ``"v"`` for the output of a
``{{ ... }}`` expression that starts at ``offset``, ``"g"`` for a space or newline made by
folding. Folding only deletes characters or swaps whitespace for a glue space, so every kept
character keeps its mark, and runs of literal text become verbatim spans. Standard library only.
"""

from __future__ import annotations

from kling_prompt.library._source import Source
from kling_prompt.request import Origin, Span

Mark = tuple[str, Source, int]

_BLANK = " \t\r"


def literal(source: Source) -> tuple[list[str], list[Mark]]:
    """A template without Jinja syntax: every character is literal text."""
    return list(source.text), [("d", source, i) for i in range(len(source.text))]


def fold(chars: list[str], marks: list[Mark]) -> tuple[str, list[Mark]]:
    """Fold like a paragraph: trim lines, join a paragraph's lines with one space, keep one
    newline between paragraphs (blank template lines), and squeeze runs of spaces."""
    lines: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(chars):
        if ch == "\n":
            lines.append((start, i))
            start = i + 1
    lines.append((start, len(chars)))
    out_chars: list[str] = []
    out_marks: list[Mark] = []
    pending: str | None = None
    pending_mark: Mark | None = None
    for lo, hi in lines:
        while lo < hi and chars[lo] in _BLANK:
            lo += 1
        while hi > lo and chars[hi - 1] in _BLANK:
            hi -= 1
        if lo == hi:
            if out_chars and _blank_in_source(marks, lo, hi):
                pending = "\n"
                pending_mark = _glue(marks[lo - 1])
            continue
        if out_chars and pending is None:
            pending, pending_mark = " ", _glue(marks[lo - 1])
        if pending is not None and pending_mark is not None:
            out_chars.append(pending)
            out_marks.append(pending_mark)
        pending = None
        previous_blank = False
        for i in range(lo, hi):
            ch = chars[i]
            if ch in _BLANK:
                if previous_blank:
                    continue
                previous_blank = True
                if ch != " ":
                    out_chars.append(" ")
                    out_marks.append(_glue(marks[i]))
                    continue
            else:
                previous_blank = False
            out_chars.append(ch)
            out_marks.append(marks[i])
    return "".join(out_chars), out_marks


def _blank_in_source(marks: list[Mark], lo: int, hi: int) -> bool:
    """Whether an empty output line was a blank line in the template, not a line whose only
    content was a tag or comment (those lines vanish without starting a paragraph)."""
    if lo == 0 or hi >= len(marks):
        return False
    kind_a, source_a, before = marks[lo - 1]
    kind_b, source_b, after = marks[hi]
    if kind_a != "d" or kind_b != "d" or source_a is not source_b:
        return True
    return not source_a.text[before + 1 : after].strip()


def _glue(mark: Mark) -> Mark:
    return ("g", mark[1], mark[2])


def spans(text: str, marks: list[Mark], field: str) -> list[Span]:
    """Source-map spans for ``text`` (request field ``field``): verbatim runs of literal text,
    one span per expression output, one per glue character."""
    out: list[Span] = []
    start = 0
    key: tuple[object, ...] | None = None
    verbatim_run = False
    for i, (ch, mark) in enumerate(zip(text, marks, strict=True)):
        kind, source, offset = mark
        verbatim = (
            kind == "d"
            and source.exact
            and ch != "\n"
            and offset < len(source.text)
            and source.text[offset] == ch
        )
        if verbatim:
            joins = (
                verbatim_run
                and key is not None
                and key[1] is source
                and key[2] == offset - 1
                and source.text[offset - 1] != "\n"
            )
            new_key: tuple[object, ...] = ("d", source, offset)
        elif kind == "g":
            joins, new_key = False, ("g", source, offset)
        elif kind == "v":
            new_key = ("v", source, offset)
            joins = not verbatim_run and key == new_key
        else:
            new_key = ("x", source)
            joins = not verbatim_run and key == new_key
        if not joins:
            if key is not None:
                out.append(_span(field, start, i, marks[start], verbatim_run))
            start = i
        key = new_key
        verbatim_run = verbatim
    if key is not None:
        out.append(_span(field, start, len(text), marks[start], verbatim_run))
    return out


def _span(field: str, start: int, end: int, mark: Mark, verbatim: bool) -> Span:
    _, source, offset = mark
    line, column = source.position(offset)
    return Span(
        field,
        start,
        end,
        Origin(source.field, path=source.path, line=line, column=column, verbatim=verbatim),
    )
