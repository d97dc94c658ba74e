"""Diagnostics, fixes and edits: what the linter reports.

On the lint path; standard library only.
"""

from __future__ import annotations

from typing import Any

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
DOCS_URL = "https://github.com/kling-prompt/kling-prompt/blob/main/docs/rules.md#{anchor}"


def docs_url(code: str, name: str) -> str:
    return DOCS_URL.format(anchor=f"{code.lower()}-{name}")


class Edit:
    """Replace ``[start, end)`` of one request field's text with ``replacement``.

    ``field`` is a request field path (``prompt``, ``negative_prompt``, ``multi_prompt[0].prompt``)
    or, for payload fixes, the argument path to set: then ``start`` and ``end`` are ``None`` and the
    replacement is the new JSON value (``delete`` removes the field instead).
    """

    __slots__ = ("delete", "end", "field", "replacement", "start")

    def __init__(
        self,
        field: str,
        start: int | None,
        end: int | None,
        replacement: Any,
        *,
        delete: bool = False,
    ) -> None:
        self.field = field
        self.start = start
        self.end = end
        self.replacement = replacement
        self.delete = delete

    @property
    def is_text(self) -> bool:
        return self.start is not None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "replacement": self.replacement,
        }
        if self.delete:
            data["delete"] = True
        return data

    def __repr__(self) -> str:
        return f"Edit({self.field!r}, {self.start}, {self.end}, {self.replacement!r})"


class Fix:
    """A set of edits that resolve one diagnostic. ``safe`` fixes keep the prompt's meaning."""

    __slots__ = ("edits", "message", "safe")

    def __init__(self, message: str, edits: list[Edit], *, safe: bool = True) -> None:
        self.message = message
        self.edits = edits
        self.safe = safe

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "applicability": "safe" if self.safe else "unsafe",
            "edits": [e.to_dict() for e in self.edits],
        }

    def __repr__(self) -> str:
        return f"Fix({self.message!r}, safe={self.safe}, edits={self.edits!r})"


class Diagnostic:
    """One finding: which rule, how severe, what to do, and exactly where.

    ``field`` is the request field (``prompt``, ``elements[0]``, ...); ``start``/``end`` is the
    span inside that field's text (``None`` when the finding is about the field as a whole).
    ``line``/``column``/``end_line``/``end_column`` are 1-based positions in ``filename`` once the
    diagnostic has been mapped through the source map.
    """

    __slots__ = (
        "code",
        "column",
        "end",
        "end_column",
        "end_line",
        "field",
        "filename",
        "fix",
        "line",
        "message",
        "name",
        "record",
        "severity",
        "start",
    )

    def __init__(
        self,
        code: str,
        name: str,
        severity: str,
        message: str,
        *,
        field: str | None = None,
        start: int | None = None,
        end: int | None = None,
        fix: Fix | None = None,
        filename: str | None = None,
        record: str | None = None,
        line: int | None = None,
        column: int | None = None,
        end_line: int | None = None,
        end_column: int | None = None,
    ) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.message = message
        self.field = field
        self.start = start
        self.end = end
        self.fix = fix
        self.filename = filename
        self.record = record
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    @property
    def url(self) -> str:
        return docs_url(self.code, self.name)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.filename or "",
            self.record or "",
            self.line or 0,
            self.column or 0,
            self.field or "",
            self.start if self.start is not None else -1,
            self.code,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON output shape (one item of ``--output-format json``)."""
        location = None
        end_location = None
        if self.line is not None:
            location = {"row": self.line, "column": self.column or 1}
            end_location = {
                "row": self.end_line if self.end_line is not None else self.line,
                "column": self.end_column if self.end_column is not None else (self.column or 1),
            }
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "filename": self.filename,
            "record": self.record,
            "field": self.field,
            "span": None if self.start is None else {"start": self.start, "end": self.end},
            "location": location,
            "end_location": end_location,
            "fix": self.fix.to_dict() if self.fix is not None else None,
            "url": self.url,
        }

    def __repr__(self) -> str:
        where = f"{self.field}[{self.start}:{self.end}]" if self.field else "-"
        return f"Diagnostic({self.code} {self.severity} at {where}: {self.message!r})"
