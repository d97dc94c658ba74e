"""Suppression directives, written as Jinja comments so they never reach the model.

Three forms, each naming rule codes or names and optionally a reason after ``--``::

    a dancer on a neon stage {# kp-ignore: KP301 -- the reference is a still pose #}
    {# kp-ignore-next-line: KP401, too-many-words #}
    {# kp-ignore-file: KP403 #}

A Jinja template drops them when it renders; for plain text and JSON strings
:func:`extract` removes them before the text is linted or sent, and remembers which lines they
cover. A directive that suppressed nothing is reported as KP004.
"""

from __future__ import annotations

import re

from kling_prompt.linter.lazyre import lazy

DIRECTIVE = lazy(
    r"\{#-?\s*kp-ignore(?P<kind>-next-line|-file)?\s*(?::\s*(?P<body>.*?))?\s*-?#\}",
    re.DOTALL,
)
_SPLIT = lazy(r"[\s,]+")


class Directive:
    """One suppression: its kind, the rules it names, and what it covers.

    ``field`` and ``line`` (0-based, in the cleaned text of that field) give the line a line or
    next-line directive covers (already resolved: a directive alone on its line covers the line
    that follows); ``file_line`` (1-based, also resolved) is used instead when directives were
    read from a template file whose rendered text has other line numbers. ``start``/``end`` is the
    directive's own span in the raw text, for reporting it.
    """

    __slots__ = (
        "codes",
        "end",
        "field",
        "file_column",
        "file_line",
        "kind",
        "line",
        "reason",
        "required",
        "start",
        "used",
    )

    def __init__(
        self,
        kind: str,
        codes: list[str],
        reason: str | None,
        *,
        field: str | None = None,
        line: int | None = None,
        file_line: int | None = None,
        file_column: int | None = None,
        start: int = 0,
        end: int = 0,
        required: bool = False,
    ) -> None:
        self.kind = kind
        self.required = required
        self.codes = codes
        self.reason = reason
        self.field = field
        self.line = line
        self.file_line = file_line
        self.file_column = file_column
        self.start = start
        self.end = end
        self.used: set[str] = set()

    def __repr__(self) -> str:
        return f"Directive({self.kind}, {self.codes}, field={self.field!r}, line={self.line}, file_line={self.file_line})"


def parse_body(body: str | None) -> tuple[list[str], str | None]:
    """Codes and reason of a directive body such as ``KP301, KP302 -- reason``."""
    if not body:
        return [], None
    codes_part, sep, reason = body.partition("--")
    codes = [c for c in _SPLIT.split(codes_part.strip()) if c]
    return codes, (reason.strip() or None) if sep else None


def _kind(raw: str | None) -> str:
    return {None: "line", "-next-line": "next-line", "-file": "file"}[raw]


def extract(
    text: str, field: str = "prompt"
) -> tuple[str, list[Directive], list[tuple[int, int, int]]]:
    """Remove directives from ``text``.

    Returns the cleaned text, the directives (lines in cleaned-text coordinates), and the kept
    segments as ``(clean_start, clean_end, raw_start)`` so positions can be mapped back.
    A directive alone on its line takes the whole line with it.
    """
    if "{#" not in text:
        return text, [], [(0, len(text), 0)]
    pieces: list[str] = []
    segments: list[tuple[int, int, int]] = []
    directives: list[Directive] = []
    raw_pos = 0
    clean_len = 0
    for m in DIRECTIVE.finditer(text):
        start, end = m.span()
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end == -1 else line_end
        alone = text[line_start:start].strip() == "" and text[end:line_end].strip() == ""
        cut_start, cut_end = start, end
        if alone:
            cut_start = line_start
            cut_end = line_end + 1 if line_end < len(text) else line_end
            if cut_end == len(text) and line_start > 0 and cut_start == line_start:
                cut_start = line_start - 1  # drop the newline before a last-line directive
        else:
            while cut_start > raw_pos and text[cut_start - 1] in " \t":
                cut_start -= 1
        if cut_start < raw_pos:
            cut_start = raw_pos
        kept = text[raw_pos:cut_start]
        if kept:
            segments.append((clean_len, clean_len + len(kept), raw_pos))
            pieces.append(kept)
            clean_len += len(kept)
        line = sum(p.count("\n") for p in pieces)
        kind = _kind(m.group("kind"))
        if kind == "next-line" and not alone:
            line += 1
        codes, reason = parse_body(m.group("body"))
        # The directive is gone from the cleaned text: point at the place it was removed from.
        directives.append(
            Directive(kind, codes, reason, field=field, line=line, start=clean_len, end=clean_len)
        )
        raw_pos = cut_end
    tail = text[raw_pos:]
    if tail:
        segments.append((clean_len, clean_len + len(tail), raw_pos))
        pieces.append(tail)
    return "".join(pieces), directives, segments


def strip(text: str) -> str:
    """The text with every directive removed: what is sent to fal."""
    return extract(text)[0] if "{#" in text else text


def covers(
    directive: Directive,
    code: str,
    name: str,
    field: str | None,
    line: int | None,
    file_line: int | None,
) -> bool:
    """Whether a directive covers a diagnostic of rule ``code`` at the given place."""
    from kling_prompt.linter.config import selects

    if not any(selects(c, code, name) for c in directive.codes):
        return False
    if directive.kind == "file":
        return True
    if directive.file_line is not None:
        if file_line is None:
            return False
        return file_line == directive.file_line
    if directive.field is not None and field is not None and directive.field != field:
        return False
    if line is None or directive.line is None:
        return False
    return line == directive.line
