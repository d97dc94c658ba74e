"""Read lint inputs: plain-text prompts, JSON payloads, JSON Lines datasets, prompt files, stdin.

Each file becomes one or more requests with a source map into the file, so every diagnostic
points at a line and column. A file that cannot be read or parsed yields a KP001 diagnostic and
the run goes on with the other files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from kling_prompt.linter.config import Config
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.jsonpos import Located, line_column, locate
from kling_prompt.linter.suppress import Directive
from kling_prompt.request import Origin, Request, SourceMap, Span

SUFFIXES = (".txt", ".json", ".jsonl", ".prompt")
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    ".mypy_cache",
}
STDIN = "-"


class Item:
    """One request read from an input, with the suppression directives found around it."""

    __slots__ = ("directives", "expect", "label", "request")

    def __init__(
        self,
        request: Request,
        directives: list[Directive] | None = None,
        *,
        label: str | None = None,
        expect: list[str] | None = None,
    ) -> None:
        self.request = request
        self.directives = directives or []
        self.label = label
        self.expect = expect


class Loaded:
    """What one input file holds: its raw text, its requests and its parse errors."""

    __slots__ = ("errors", "items", "kind", "path", "text")

    def __init__(self, path: str, kind: str, text: str | None) -> None:
        self.path = path
        self.kind = kind
        self.text = text
        self.items: list[Item] = []
        self.errors: list[Diagnostic] = []


def parse_error(
    path: str,
    message: str,
    line: int | None = None,
    column: int | None = None,
    record: str | None = None,
) -> Diagnostic:
    return Diagnostic(
        "KP001",
        "parse-error",
        "error",
        message,
        filename=path,
        record=record,
        line=line,
        column=column if line is not None else None,
        end_line=line,
        end_column=column if line is not None else None,
    )


def discover(paths: Iterable[str], config: Config | None = None) -> Iterator[str]:
    """Expand directories recursively into lint inputs; explicit files are always kept."""
    for raw in paths:
        if raw == STDIN:
            yield raw
            continue
        path = raw
        if os.path.isdir(path):
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for name in files:
                    if not name.endswith(SUFFIXES):
                        continue
                    full = os.path.join(root, name)
                    if config is not None and config.excluded(full):
                        continue
                    found.append(full)
            yield from sorted(found)
        else:
            yield raw


def load(
    path: str,
    *,
    config: Config,
    mode: str | None = None,
    endpoint: str | None = None,
    stdin_text: str | None = None,
    stdin_kind: str | None = None,
) -> Loaded:
    """Read one input into requests (never raises for bad content: that is KP001)."""
    if path == STDIN:
        text = stdin_text if stdin_text is not None else ""
        kind = stdin_kind or _sniff(text)
        return _parse(STDIN, kind, text, config=config, mode=mode, endpoint=endpoint)
    suffix = os.path.splitext(path)[1].lower()
    kind = {".json": "json", ".jsonl": "jsonl", ".prompt": "prompt"}.get(suffix, "text")
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    except FileNotFoundError:
        loaded = Loaded(path, kind, None)
        loaded.errors.append(parse_error(path, f"{path}: no such file; check the path"))
        return loaded
    except IsADirectoryError:
        loaded = Loaded(path, kind, None)
        loaded.errors.append(parse_error(path, f"{path}: is a directory"))
        return loaded
    except UnicodeDecodeError as exc:
        loaded = Loaded(path, kind, None)
        loaded.errors.append(
            parse_error(
                path, f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
            )
        )
        return loaded
    except OSError as exc:
        loaded = Loaded(path, kind, None)
        loaded.errors.append(parse_error(path, f"{path}: cannot read: {exc.strerror}"))
        return loaded
    return _parse(path, kind, text, config=config, mode=mode, endpoint=endpoint)


def kind_of(path: str) -> str:
    """The input kind a file name implies: ``json``, ``jsonl``, ``prompt`` or ``text``."""
    return {".json": "json", ".jsonl": "jsonl", ".prompt": "prompt"}.get(
        os.path.splitext(path)[1].lower(), "text"
    )


def parse(
    path: str,
    text: str,
    *,
    config: Config,
    mode: str | None = None,
    endpoint: str | None = None,
    kind: str | None = None,
) -> Loaded:
    """Read requests from text already in memory (stdin under a name, a file being fixed).

    ``kind`` defaults to what the suffix of ``path`` implies.
    """
    return _parse(path, kind or kind_of(path), text, config=config, mode=mode, endpoint=endpoint)


def _sniff(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("---"):
        return "prompt"
    if stripped.startswith("{"):
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines):
            try:
                for line in lines:
                    json.loads(line)
                return "jsonl"
            except ValueError:
                pass
        return "json"
    return "text"


def _parse(
    path: str, kind: str, text: str, *, config: Config, mode: str | None, endpoint: str | None
) -> Loaded:
    loaded = Loaded(path, kind, text)
    if kind == "text":
        _load_text(loaded, config=config, mode=mode, endpoint=endpoint)
    elif kind == "json":
        _load_json(loaded, config=config, mode=mode, endpoint=endpoint)
    elif kind == "jsonl":
        _load_jsonl(loaded, config=config, mode=mode, endpoint=endpoint)
    else:
        _load_prompt_file(loaded, config=config, mode=mode, endpoint=endpoint)
    return loaded


def _load_text(loaded: Loaded, *, config: Config, mode: str | None, endpoint: str | None) -> None:
    text = loaded.text or ""
    body = text[:-1] if text.endswith("\n") else text
    if body.endswith("\r"):
        body = body[:-1]
    smap = SourceMap(
        [
            Span(
                "prompt",
                0,
                len(body),
                Origin("prompt", path=loaded.path, line=1, column=1, verbatim=True),
            )
        ]
    )
    ep = endpoint or config.default_endpoint
    request = Request(
        ep,
        {"prompt": body},
        source_map=smap,
        mode=mode or (None if ep else config.default_mode),
        path=loaded.path,
    )
    loaded.items.append(Item(request))


def _json_error(
    path: str, text: str, exc: json.JSONDecodeError, line_offset: int = 0, record: str | None = None
) -> Diagnostic:
    return parse_error(
        path,
        f"invalid JSON: {exc.msg}",
        line=exc.lineno + line_offset,
        column=exc.colno,
        record=record,
    )


def _payload(
    loaded: Loaded,
    doc: Any,
    *,
    text: str,
    base_line: int,
    config: Config,
    mode: str | None,
    endpoint: str | None,
    record: str | None,
) -> Request | None:
    """Build a request from a payload object ``{"endpoint"|"mode", "arguments", "id"?}``."""
    where_line = base_line
    if not isinstance(doc, dict):
        loaded.errors.append(
            parse_error(
                loaded.path,
                'expected a JSON object like {"endpoint": "...", "arguments": {...}}',
                where_line,
                1,
                record,
            )
        )
        return None
    unknown = set(doc) - {"endpoint", "mode", "arguments", "id", "model"}
    if unknown:
        loaded.errors.append(
            parse_error(
                loaded.path,
                f"unknown key(s) {sorted(unknown)} in the payload; expected endpoint (or mode), arguments and an optional id",
                where_line,
                1,
                record,
            )
        )
        return None
    arguments = doc.get("arguments")
    if not isinstance(arguments, dict):
        loaded.errors.append(
            parse_error(
                loaded.path,
                '"arguments" must be a JSON object of fal arguments',
                where_line,
                1,
                record,
            )
        )
        return None
    ep = doc.get("endpoint", doc.get("model"))
    if ep is not None and not isinstance(ep, str):
        loaded.errors.append(
            parse_error(
                loaded.path, '"endpoint" must be a string endpoint id', where_line, 1, record
            )
        )
        return None
    payload_mode = doc.get("mode")
    if payload_mode is not None and not isinstance(payload_mode, str):
        loaded.errors.append(
            parse_error(loaded.path, '"mode" must be a string', where_line, 1, record)
        )
        return None
    ep = ep or endpoint or (None if payload_mode or mode else config.default_endpoint)
    smap = SourceMap()
    try:
        positions = locate(text)
    except (ValueError, IndexError, AssertionError):
        positions = {}
    endpoint_at = positions.get("endpoint") or positions.get("model")
    if endpoint_at is not None:
        line, column = line_column(text, endpoint_at.offset)
        smap.add(
            Span(
                "endpoint",
                0,
                0,
                Origin("endpoint", path=loaded.path, line=line + base_line - 1, column=column),
            )
        )
    for key, located in positions.items():
        if not key.startswith("arguments.") and key != "arguments":
            continue
        field = key[len("arguments.") :] if key != "arguments" else ""
        if not field:
            continue
        _add_spans(smap, field, located, text, loaded.path, base_line)
    return Request(
        ep,
        arguments,
        source_map=smap,
        mode=payload_mode or mode or (None if ep else config.default_mode),
        path=loaded.path,
        record=record,
    )


def _add_spans(
    smap: SourceMap, field: str, located: Located, text: str, path: str, base_line: int
) -> None:
    line, column = line_column(text, located.offset)
    smap.add(Span(field, 0, 0, Origin(field, path=path, line=line + base_line - 1, column=column)))
    if located.runs:
        for d_start, d_end, raw_start in located.runs:
            r_line, r_column = line_column(text, raw_start)
            smap.add(
                Span(
                    field,
                    d_start,
                    d_end,
                    Origin(
                        field,
                        path=path,
                        line=r_line + base_line - 1,
                        column=r_column,
                        verbatim=True,
                    ),
                )
            )


def _load_json(loaded: Loaded, *, config: Config, mode: str | None, endpoint: str | None) -> None:
    text = loaded.text or ""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        loaded.errors.append(_json_error(loaded.path, text, exc))
        return
    if isinstance(doc, dict) and "arguments" not in doc and "prompt" in doc:
        # A bare argument object, as fal's docs show them: the document is the arguments.
        ep = endpoint or config.default_endpoint
        request = Request(
            ep,
            doc,
            source_map=_bare_map(text, loaded.path),
            mode=mode or (None if ep else config.default_mode),
            path=loaded.path,
        )
        loaded.items.append(Item(request))
        return
    payload = _payload(
        loaded,
        doc,
        text=text,
        base_line=1,
        config=config,
        mode=mode,
        endpoint=endpoint,
        record=None,
    )
    if payload is not None:
        loaded.items.append(Item(payload))


def _bare_map(text: str, path: str) -> SourceMap:
    smap = SourceMap()
    try:
        positions = locate(text)
    except (ValueError, IndexError, AssertionError):
        return smap
    for key, located in positions.items():
        if key:
            _add_spans(smap, key, located, text, path, 1)
    return smap


def _load_jsonl(loaded: Loaded, *, config: Config, mode: str | None, endpoint: str | None) -> None:
    text = loaded.text or ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            loaded.errors.append(
                parse_error(loaded.path, f"invalid JSON on this line: {exc.msg}", number, exc.colno)
            )
            continue
        record = None
        if isinstance(doc, dict) and "id" in doc:
            record = str(doc["id"])
        request = _payload(
            loaded,
            doc,
            text=line,
            base_line=number,
            config=config,
            mode=mode,
            endpoint=endpoint,
            record=record,
        )
        if request is not None:
            loaded.items.append(Item(request))


def _load_prompt_file(
    loaded: Loaded, *, config: Config, mode: str | None, endpoint: str | None
) -> None:
    try:
        from kling_prompt import library
    except ImportError:
        loaded.errors.append(
            parse_error(
                loaded.path, "prompt files (.prompt) are not supported by this installation"
            )
        )
        return
    library.load_for_lint(loaded, config=config, mode=mode, endpoint=endpoint)
