"""Where each value of a JSON document sits in its source text.

``json`` gives values without positions. This scanner walks already-valid JSON once and records,
for every value path (``arguments.multi_prompt[1].prompt``), its offset, and for strings the
verbatim runs between escape sequences, so a position inside a decoded string maps to the exact
line and column in the file.
"""

from __future__ import annotations

from kling_prompt.linter.lazyre import lazy

_WS = lazy(r"[ \t\n\r]*")
_PLAIN = lazy(r'[^"\\]*')
_NUMBER = lazy(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class Located:
    """A value's start offset and, for strings, ``(decoded_start, decoded_end, raw_start)`` runs.

    ``end`` is the offset just past the value, and ``key`` the ``[start, end)`` of the quoted key
    of an object member (``None`` for the root and for array items): what fixes need to replace
    or delete a value in place.
    """

    __slots__ = ("end", "key", "offset", "runs")

    def __init__(
        self,
        offset: int,
        runs: list[tuple[int, int, int]] | None = None,
        *,
        end: int = -1,
        key: tuple[int, int] | None = None,
    ) -> None:
        self.offset = offset
        self.runs = runs
        self.end = end
        self.key = key


def locate(text: str) -> dict[str, Located]:
    """Positions of every value in a valid JSON text, keyed by path ('' for the root)."""
    out: dict[str, Located] = {}
    _value(text, _skip(text, 0), "", out)
    return out


def _member(text: str, pos: int, path: str, out: dict[str, Located]) -> int:
    """Scan an object member ``"key": value`` at ``pos``; return the offset after the value."""
    key_start = pos
    key, pos = _string(text, pos, None)
    key_end = pos
    pos = _skip(text, pos)
    pos = _skip(text, pos + 1)  # the colon
    child = _join(path, key)
    pos = _value(text, pos, child, out)
    out[child].key = (key_start, key_end)
    return pos


def _skip(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _value(text: str, pos: int, path: str, out: dict[str, Located]) -> int:
    ch = text[pos] if pos < len(text) else ""
    if ch == "{":
        located = out[path] = Located(pos)
        pos = _skip(text, pos + 1)
        if text[pos] == "}":
            located.end = pos + 1
            return pos + 1
        while True:
            pos = _skip(text, _member(text, pos, path, out))
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
                continue
            located.end = pos + 1
            return pos + 1
    if ch == "[":
        located = out[path] = Located(pos)
        pos = _skip(text, pos + 1)
        if text[pos] == "]":
            located.end = pos + 1
            return pos + 1
        index = 0
        while True:
            pos = _value(text, pos, f"{path}[{index}]", out)
            index += 1
            pos = _skip(text, pos)
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
                continue
            located.end = pos + 1
            return pos + 1
    if ch == '"':
        runs: list[tuple[int, int, int]] = []
        start = pos
        _, end = _string(text, pos, runs)
        out[path] = Located(start, runs, end=end)
        return end
    for word in ("true", "false", "null"):
        if text.startswith(word, pos):
            out[path] = Located(pos, end=pos + len(word))
            return pos + len(word)
    m = _NUMBER.match(text, pos)
    if m is None:
        raise ValueError(f"unexpected character at offset {pos}")
    out[path] = Located(pos, end=m.end())
    return m.end()


def _string(text: str, pos: int, runs: list[tuple[int, int, int]] | None) -> tuple[str, int]:
    """Decode the string starting at ``pos`` (a quote); record verbatim runs when asked."""
    pos += 1
    pieces: list[str] = []
    decoded = 0
    while True:
        m = _PLAIN.match(text, pos)
        assert m is not None
        chunk = m.group()
        if chunk:
            if runs is not None:
                runs.append((decoded, decoded + len(chunk), pos))
            pieces.append(chunk)
            decoded += len(chunk)
        pos = m.end()
        ch = text[pos]
        if ch == '"':
            return "".join(pieces), pos + 1
        esc = text[pos + 1]
        if esc == "u":
            code = int(text[pos + 2 : pos + 6], 16)
            pos += 6
            if 0xD800 <= code < 0xDC00 and text.startswith("\\u", pos):
                low = int(text[pos + 2 : pos + 6], 16)
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                pos += 6
            pieces.append(chr(code))
        else:
            pieces.append(_ESCAPES.get(esc, esc))
            pos += 2
        decoded += 1


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
