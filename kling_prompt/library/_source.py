"""Template sources and where their characters sit in a file.

A :class:`Source` is a piece of template text (a body, a shot prompt, a partial) plus a line
table saying at which file line and column each of its lines starts. When the table is exact,
every offset maps to a file position 1:1 (a body, a one-line YAML scalar, a literal block
scalar); otherwise every offset maps to the place the text starts (a folded YAML scalar).
Standard library only: this module is on the lint path.
"""

from __future__ import annotations

import bisect


class Source:
    """Text written in a file, and a map from its offsets to 1-based file lines and columns."""

    __slots__ = ("_starts", "exact", "field", "lines", "name", "path", "text")

    def __init__(
        self,
        text: str,
        path: str,
        lines: list[tuple[int, int]],
        *,
        exact: bool = True,
        field: str = "body",
        name: str = "",
    ) -> None:
        self.text = text
        self.path = path
        self.lines = lines
        self.exact = exact and bool(lines)
        self.field = field
        self.name = name
        self._starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self._starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    @classmethod
    def block(
        cls,
        text: str,
        path: str,
        line: int,
        *,
        column: int = 1,
        field: str = "body",
        name: str = "",
    ) -> Source:
        """Text copied unchanged from ``line`` on (the first line starts at ``column``)."""
        count = text.count("\n") + 1
        table = [(line, column)] + [(line + i, 1) for i in range(1, count)]
        return cls(text, path, table, field=field, name=name)

    def position(self, offset: int) -> tuple[int, int]:
        """The file line and column of ``offset`` (the start of the text when not exact)."""
        if not self.exact:
            return self.lines[0] if self.lines else (1, 1)
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= len(self.lines):
            index = len(self.lines) - 1
        line, column = self.lines[index]
        return line, column + (offset - self._starts[index])

    def line_of(self, offset: int) -> int:
        """0-based line of ``offset`` inside the text."""
        return bisect.bisect_right(self._starts, max(0, offset)) - 1

    def line_span(self, number: int) -> tuple[int, int]:
        """``[start, end)`` offsets of the 0-based line ``number`` (without its newline)."""
        start = self._starts[number]
        end = self._starts[number + 1] - 1 if number + 1 < len(self._starts) else len(self.text)
        return start, end

    @property
    def line_count(self) -> int:
        return len(self._starts)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
