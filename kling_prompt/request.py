"""The request: what every source (builder, prompt file, raw payload) turns into.

A :class:`Request` holds the endpoint id, the fal arguments exactly as they will be sent, and a
:class:`SourceMap` from spans of the text fields back to where the author wrote them. Lint,
validation, pricing and dispatch work on requests only, so they never need to know which source
produced one.

This module is on the lint path: it imports nothing heavy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


class Origin:
    """Where a span of request text was written.

    ``field`` names the author-facing field (a builder field such as ``subject.description``, a
    front-matter key such as ``config.negative_prompt``, or ``body`` for a template body).
    ``path``, ``line`` and ``column`` (1-based) locate the start of the span in a file when there is
    one. ``verbatim`` says the span's text is copied unchanged from the source, so a position inside
    the span maps to the same distance inside the source.
    """

    __slots__ = ("column", "field", "line", "path", "verbatim")

    def __init__(
        self,
        field: str | None = None,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        verbatim: bool = False,
    ) -> None:
        self.field = field
        self.path = path
        self.line = line
        self.column = column
        self.verbatim = verbatim

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Origin):
            return NotImplemented
        return (self.field, self.path, self.line, self.column, self.verbatim) == (
            other.field,
            other.path,
            other.line,
            other.column,
            other.verbatim,
        )

    def __hash__(self) -> int:
        return hash((self.field, self.path, self.line, self.column, self.verbatim))

    def __repr__(self) -> str:
        parts = [repr(self.field)]
        if self.path is not None:
            parts.append(f"path={self.path!r}")
        if self.line is not None:
            parts.append(f"line={self.line}, column={self.column}")
        if self.verbatim:
            parts.append("verbatim=True")
        return f"Origin({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "verbatim": self.verbatim,
        }


class Span:
    """A half-open range ``[start, end)`` of one request field's text, with its origin.

    ``field`` is the request field path: ``prompt``, ``negative_prompt``,
    ``multi_prompt[1].prompt``.
    """

    __slots__ = ("end", "field", "origin", "start")

    def __init__(self, field: str, start: int, end: int, origin: Origin) -> None:
        if start < 0 or end < start:
            raise ValueError(f"bad span [{start}, {end}) for field {field!r}")
        self.field = field
        self.start = start
        self.end = end
        self.origin = origin

    def __repr__(self) -> str:
        return f"Span({self.field!r}, {self.start}, {self.end}, {self.origin!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return (self.field, self.start, self.end, self.origin) == (
            other.field,
            other.start,
            other.end,
            other.origin,
        )

    def __hash__(self) -> int:
        return hash((self.field, self.start, self.end, self.origin))


class SourceMap:
    """Spans of request text mapped back to their origins."""

    __slots__ = ("_by_field",)

    def __init__(self, spans: list[Span] | None = None) -> None:
        self._by_field: dict[str, list[Span]] = {}
        for span in spans or ():
            self.add(span)

    def add(self, span: Span) -> None:
        self._by_field.setdefault(span.field, []).append(span)

    def extend(self, spans: list[Span]) -> None:
        for span in spans:
            self.add(span)

    def __iter__(self) -> Iterator[Span]:
        for spans in self._by_field.values():
            yield from spans

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_field.values())

    def __bool__(self) -> bool:
        return bool(self._by_field)

    def spans(self, field: str) -> list[Span]:
        """The spans of one field, in the order they were added."""
        return list(self._by_field.get(field, ()))

    def fields(self) -> list[str]:
        return list(self._by_field)

    def locate(self, field: str, offset: int) -> tuple[Span, int] | None:
        """The innermost span of ``field`` containing ``offset``, and the offset's distance into it.

        An offset equal to a span's end matches that span when no other span starts there, so the
        end of a text can still be located.
        """
        best: Span | None = None
        spans = self._by_field.get(field, ())
        if any(s.start <= offset < s.end for s in spans):
            # A text span holding the offset beats an empty marker span at the same place.
            spans = [s for s in spans if s.end > s.start]
        for span in spans:
            inside = span.start <= offset < span.end
            if not inside and offset != span.end:
                continue
            if best is not None:
                best_inside = best.start <= offset < best.end
                # A span holding the offset beats one that merely ends there, whatever its size.
                if best_inside and not inside:
                    continue
                if best_inside == inside and (span.end - span.start) >= (best.end - best.start):
                    continue
            best = span
        if best is None:
            return None
        return best, offset - best.start

    def position(self, field: str, offset: int, text: str) -> tuple[Origin, int | None, int | None]:
        """Map ``offset`` in ``field`` (whose full text is ``text``) to a source position.

        Returns the origin and the 1-based line and column in the origin's file, or ``None`` for
        both when the origin has no file position. Inside a verbatim span the position moves with
        the offset; elsewhere it is the position where the span's source starts.
        """
        found = self.locate(field, offset)
        if found is None:
            return Origin(field), None, None
        span, delta = found
        origin = span.origin
        if origin.line is None:
            return origin, None, None
        if not origin.verbatim or delta == 0:
            return origin, origin.line, origin.column
        inner = text[span.start : span.start + delta]
        newlines = inner.count("\n")
        if newlines == 0:
            return origin, origin.line, (origin.column or 1) + delta
        return origin, origin.line + newlines, delta - inner.rfind("\n")

    def to_list(self) -> list[dict[str, Any]]:
        return [
            {"field": s.field, "start": s.start, "end": s.end, "origin": s.origin.to_dict()}
            for s in self
        ]


class Request:
    """An endpoint id, the fal arguments as they will be sent, and where their text came from.

    ``mode`` is the generation mode (``text-to-video``, ``motion-control``, ...) when known.
    ``path`` is the file the request came from, if any, and ``record`` the JSON Lines record id.
    ``spec`` keeps the structured spec a builder rendered, so the request can be rendered again.
    """

    __slots__ = ("arguments", "endpoint", "mode", "path", "record", "source_map", "spec")

    def __init__(
        self,
        endpoint: str | None,
        arguments: dict[str, Any],
        *,
        source_map: SourceMap | None = None,
        mode: str | None = None,
        path: str | None = None,
        record: str | None = None,
        spec: Any = None,
    ) -> None:
        self.endpoint = endpoint
        self.arguments = arguments
        self.source_map = source_map if source_map is not None else SourceMap()
        self.mode = mode
        self.path = path
        self.record = record
        self.spec = spec

    @property
    def prompt(self) -> str | None:
        value = self.arguments.get("prompt")
        return value if isinstance(value, str) else None

    def text_fields(self) -> list[tuple[str, str]]:
        """Every prompt-like text field as ``(field path, text)``: prompt, shots, negative prompt."""
        out: list[tuple[str, str]] = []
        args = self.arguments
        prompt = args.get("prompt")
        if isinstance(prompt, str):
            out.append(("prompt", prompt))
        shots = args.get("multi_prompt")
        if isinstance(shots, list):
            for i, shot in enumerate(shots):
                if isinstance(shot, dict) and isinstance(shot.get("prompt"), str):
                    out.append((f"multi_prompt[{i}].prompt", shot["prompt"]))
        negative = args.get("negative_prompt")
        if isinstance(negative, str):
            out.append(("negative_prompt", negative))
        return out

    def payload(self) -> dict[str, Any]:
        """The JSON payload form: ``{"endpoint": ..., "arguments": ...}``."""
        return {"endpoint": self.endpoint, "arguments": self.arguments}

    def to_json(self, *, indent: int | None = 2, source_map: bool = False) -> str:
        data: dict[str, Any] = {"endpoint": self.endpoint}
        if self.mode is not None:
            data["mode"] = self.mode
        data["arguments"] = self.arguments
        if source_map:
            data["source_map"] = self.source_map.to_list()
        return json.dumps(data, indent=indent, ensure_ascii=False)

    def __repr__(self) -> str:
        return (
            f"Request(endpoint={self.endpoint!r}, mode={self.mode!r}, arguments={self.arguments!r})"
        )


def get_field(arguments: dict[str, Any], path: str) -> Any:
    """Read a field path such as ``multi_prompt[1].prompt`` or ``elements[0]`` from arguments.

    Raises ``KeyError`` when the path does not exist.
    """
    current: Any = arguments
    for part in _split_path(path):
        if isinstance(part, int):
            if not isinstance(current, list) or not -len(current) <= part < len(current):
                raise KeyError(path)
            current = current[part]
        else:
            if not isinstance(current, dict) or part not in current:
                raise KeyError(path)
            current = current[part]
    return current


def set_field(arguments: dict[str, Any], path: str, value: Any) -> None:
    """Write ``value`` at a field path that already exists (see :func:`get_field`)."""
    parts = _split_path(path)
    parent: Any = get_field(arguments, _join_path(parts[:-1])) if len(parts) > 1 else arguments
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(parent, list):
            raise KeyError(path)
        parent[last] = value
    else:
        if not isinstance(parent, dict):
            raise KeyError(path)
        parent[last] = value


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in path.split("."):
        if not chunk:
            continue
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            parts.append(int(index))
            rest = rest[1:] if rest.startswith("[") else rest
    return parts


def _join_path(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
