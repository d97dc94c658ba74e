"""Front matter: split a prompt file, read its YAML with positions, check its keys.

YAML is read with ``yaml.compose`` so every key and value keeps its line and column; problems
become :class:`Problem` objects with a file position, turned into KP001 diagnostics by the
caller. Checks are hand-written (no jsonschema on the lint path) and kept in step with
``schema.json`` by the tests.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any

from kling_prompt.library._source import Source

if TYPE_CHECKING:
    import yaml

TOP_KEYS = ("model", "config", "input", "metadata", "examples", "shots", "spec")
MODEL_KEYS = ("mode", "family", "tier")
INPUT_KEYS = ("schema", "default")
METADATA_KEYS = ("name", "description", "tags", "owner", "version")
EXAMPLE_KEYS = ("vars", "expect", "description", "config")
SHOT_KEYS = ("prompt", "duration")
PARTIAL_KEYS = ("metadata",)
TYPES = ("string", "integer", "number", "boolean", "any")
MODES = (
    "text-to-video",
    "image-to-video",
    "reference-to-video",
    "motion-control",
    "video-edit",
    "video-reference",
    "multi-shot",
)
_VAR = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<opt>\?)?(?:\((?P<args>[^)]*)\))?$")


class Loc:
    """A 1-based position in a file."""

    __slots__ = ("column", "line", "path")

    def __init__(self, path: str, line: int, column: int) -> None:
        self.path = path
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class Problem(Exception):
    """Something wrong in a prompt file, with where it is and how to fix it."""

    def __init__(
        self,
        message: str,
        loc: Loc | None,
        code: str = "KP001",
        name: str = "parse-error",
        severity: str = "error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.code = code
        self.name = name
        self.severity = severity


class Entry:
    """Where one front-matter value was written: its key, its value, and a source for strings."""

    __slots__ = ("key", "source", "value")

    def __init__(self, key: Loc | None, value: Loc, source: Source | None = None) -> None:
        self.key = key
        self.value = value
        self.source = source


class Split:
    """A prompt file cut into front matter and body."""

    __slots__ = ("body", "body_line", "front", "front_line")

    def __init__(self, front: str | None, front_line: int, body: str, body_line: int) -> None:
        self.front = front
        self.front_line = front_line
        self.body = body
        self.body_line = body_line


def split(text: str, path: str) -> Split:
    """Cut ``text`` at its ``---`` fences; a file without an opening fence is all body."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return Split(None, 1, text, 1)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            front = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            return Split(front, 2, body, index + 2)
    raise Problem(
        "the front matter opened with '---' on line 1 is never closed; add a line '---' after it",
        Loc(path, 1, 1),
    )


class Document:
    """The front matter as plain values plus an index of where each value was written.

    Index keys are paths: ``config.duration``, ``examples.hero.vars.name``, ``shots[0].prompt``.
    """

    __slots__ = ("data", "index", "path")

    def __init__(self, data: dict[str, Any], index: dict[str, Entry], path: str) -> None:
        self.data = data
        self.index = index
        self.path = path

    def loc(self, key_path: str, *, key: bool = False) -> Loc | None:
        """The position of a value (or of its key), falling back to the nearest parent."""
        path = key_path
        while path:
            entry = self.index.get(path)
            if entry is not None:
                return (entry.key or entry.value) if key else entry.value
            path = _parent(path)
        return self.index[""].value if "" in self.index else None

    def source(self, key_path: str) -> Source | None:
        entry = self.index.get(key_path)
        return entry.source if entry is not None else None


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rsplit(".", 1)[0] if "." in path else ""


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def parse(front: str | None, front_line: int, path: str) -> Document:
    """Read front-matter YAML into a :class:`Document` (raises :class:`Problem` for bad YAML)."""
    if front is None or not front.strip():
        return Document({}, {"": Entry(None, Loc(path, 1, 1))}, path)
    import yaml

    loader = yaml.SafeLoader(front)
    try:
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Loc(path, mark.line + front_line, mark.column + 1) if mark else Loc(path, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise Problem(f"invalid YAML in the front matter: {problem}", loc) from None
    except yaml.YAMLError as exc:
        raise Problem(f"invalid YAML in the front matter: {exc}", Loc(path, 1, 1)) from None
    if node is None:
        return Document({}, {"": Entry(None, Loc(path, 1, 1))}, path)
    reader = _Reader(loader, front, front_line, path)
    index: dict[str, Entry] = {}
    value = reader.read(node, "", None, index)
    if not isinstance(value, dict):
        raise Problem(
            "the front matter must be a mapping of keys (model, config, input, ...)",
            reader.loc(node.start_mark),
        )
    return Document(value, index, path)


class _Reader:
    def __init__(self, loader: yaml.SafeLoader, text: str, first_line: int, path: str) -> None:
        self.loader = loader
        self.text = text
        self.lines = text.split("\n")
        self.first_line = first_line
        self.path = path

    def loc(self, mark: Any) -> Loc:
        return Loc(self.path, mark.line + self.first_line, mark.column + 1)

    def read(self, node: Any, path: str, key: Loc | None, index: dict[str, Entry]) -> Any:
        import yaml

        here = self.loc(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            index[path] = Entry(key, here)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key_loc = self.loc(key_node.start_mark)
                if not isinstance(key_node, yaml.ScalarNode):
                    raise Problem("keys must be plain names, not lists or mappings", key_loc)
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise Problem(
                        "YAML merge keys ('<<') are not supported here; write the keys out",
                        key_loc,
                    )
                name = str(self.loader.construct_object(key_node))
                if name in out:
                    raise Problem(
                        f"duplicate key {name!r}; YAML keeps only the last one, so remove one",
                        key_loc,
                    )
                out[name] = self.read(value_node, join(path, name), key_loc, index)
            return out
        if isinstance(node, yaml.SequenceNode):
            index[path] = Entry(key, here)
            return [
                self.read(item, join(path, i), self.loc(item.start_mark), index)
                for i, item in enumerate(node.value)
            ]
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise Problem(f"cannot read this value: {exc}", here) from None
        source = self._source(node, value, path) if isinstance(value, str) else None
        index[path] = Entry(key, here, source)
        return value

    def _source(self, node: Any, value: str, path: str) -> Source:
        start, end = node.start_mark, node.end_mark
        line, column = start.line + self.first_line, start.column + 1
        raw = self.text[start.index : end.index]
        field = path
        if node.style in (None, "'", '"') and "\n" not in raw:
            inner = raw if node.style is None else raw[1:-1]
            shift = 0 if node.style is None else 1
            if inner == value:
                return Source(value, self.path, [(line, column + shift)], field=field)
        if node.style == "|":
            table = self._literal(start.line, value)
            if table is not None:
                return Source(value, self.path, table, field=field)
        return Source(value, self.path, [(line, column)], exact=False, field=field)

    def _literal(self, indicator_line: int, value: str) -> list[tuple[int, int]] | None:
        """Per-line positions of a literal block scalar whose lines are copied unchanged."""
        parts = value.split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        first = indicator_line + 1
        content = self.lines[first : first + len(parts)]
        if len(content) < len(parts):
            return None
        indents = [len(s) - len(s.lstrip(" ")) for s in content if s.strip()]
        if not indents:
            return None
        indent = min(indents)
        table = []
        for i, (want, have) in enumerate(zip(parts, content, strict=False)):
            if want and have[indent:] != want:
                return None
            table.append((first + i + self.first_line, indent + 1))
        table.append((first + len(parts) + self.first_line, indent + 1))
        return table


# -- checks --------------------------------------------------------------------------------------


def _unknown(key: str, known: tuple[str, ...], where: str, loc: Loc | None) -> Problem:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return Problem(
        f"unknown key {key!r} in {where}; {hint}known keys: {', '.join(known)}",
        loc,
    )


def check(doc: Document, *, partial: bool = False) -> list[Problem]:
    """Every structural problem of the front matter (keys, types), with positions."""
    out: list[Problem] = []
    data = doc.data
    allowed = PARTIAL_KEYS if partial else TOP_KEYS
    for key in data:
        if key not in allowed:
            if partial and key in TOP_KEYS:
                out.append(
                    Problem(
                        f"a partial (a file named _*.prompt) takes only {', '.join(PARTIAL_KEYS)} "
                        f"in its front matter, not {key!r}; move it to the including file",
                        doc.loc(key, key=True),
                    )
                )
            else:
                out.append(_unknown(key, allowed, "the front matter", doc.loc(key, key=True)))
    if "metadata" in data:
        out += _check_metadata(doc, data["metadata"])
    if partial:
        return out
    if "model" in data:
        out += _check_model(doc, data["model"])
    for key in ("config", "spec"):
        if key in data and not isinstance(data[key], dict):
            out.append(Problem(f"{key} must be a mapping", doc.loc(key)))
    config = data.get("config")
    if isinstance(config, dict):
        out += _check_config(doc, config, "config")
    if "input" in data:
        out += _check_input(doc, data["input"])
    if "examples" in data:
        out += _check_examples(doc, data["examples"])
    if "shots" in data:
        out += _check_shots(doc, data["shots"])
    return out


def _check_metadata(doc: Document, value: Any) -> list[Problem]:
    if not isinstance(value, dict):
        return [
            Problem("metadata must be a mapping (description, tags, owner)", doc.loc("metadata"))
        ]
    out = []
    for key, item in value.items():
        path = join("metadata", key)
        if key.startswith("x-"):
            continue
        if key not in METADATA_KEYS:
            out.append(
                _unknown(
                    key, METADATA_KEYS, "metadata (or prefix it with x-)", doc.loc(path, key=True)
                )
            )
        elif key == "tags":
            if not isinstance(item, list) or not all(isinstance(t, str) for t in item):
                out.append(Problem("metadata.tags must be a list of strings", doc.loc(path)))
        elif not isinstance(item, str | int | float):
            out.append(Problem(f"metadata.{key} must be text", doc.loc(path)))
    return out


def _check_model(doc: Document, value: Any) -> list[Problem]:
    if isinstance(value, str):
        if not value.strip():
            return [
                Problem(
                    "model is empty; give an endpoint id or {mode, family, tier}", doc.loc("model")
                )
            ]
        return []
    if not isinstance(value, dict):
        return [
            Problem(
                "model must be an endpoint id (fal-ai/kling-video/...) or a mapping "
                "{mode, family, tier}",
                doc.loc("model"),
            )
        ]
    out = []
    for key, item in value.items():
        path = join("model", key)
        if key not in MODEL_KEYS:
            out.append(_unknown(key, MODEL_KEYS, "model", doc.loc(path, key=True)))
        elif not isinstance(item, str):
            out.append(Problem(f"model.{key} must be a string", doc.loc(path)))
        elif key == "mode" and item not in MODES:
            close = difflib.get_close_matches(item, MODES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(
                Problem(
                    f"model.mode {item!r} is not a mode{hint} modes: {', '.join(MODES)}",
                    doc.loc(path),
                )
            )
    return out


def _check_config(doc: Document, config: dict[str, Any], path: str) -> list[Problem]:
    out = []
    for key in config:
        if key == "prompt":
            out.append(
                Problem(
                    f"{path}.prompt: the prompt is the file's body (or its shots); move the text "
                    "below the front matter",
                    doc.loc(join(path, key), key=True),
                )
            )
    return out


def parse_var(key: str) -> tuple[str, bool, list[str]] | None:
    """``name``, ``name?`` or ``name(enum, description)`` -> name, optional, modifiers."""
    match = _VAR.match(key.strip())
    if match is None:
        return None
    args = [a.strip() for a in (match.group("args") or "").split(",") if a.strip()]
    return match.group("name"), bool(match.group("opt")), args


def _check_input(doc: Document, value: Any) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem("input must be a mapping with schema and default", doc.loc("input"))]
    out = []
    for key in value:
        if key not in INPUT_KEYS:
            out.append(_unknown(key, INPUT_KEYS, "input", doc.loc(join("input", key), key=True)))
    schema = value.get("schema")
    if schema is not None:
        if not isinstance(schema, dict):
            out.append(
                Problem(
                    "input.schema must map variable names to types (name: string, count?: integer)",
                    doc.loc("input.schema"),
                )
            )
        else:
            for key, item in schema.items():
                out += _check_var(doc, key, item)
    default = value.get("default")
    if default is not None and not isinstance(default, dict):
        out.append(
            Problem("input.default must map variable names to values", doc.loc("input.default"))
        )
    return out


def _check_var(doc: Document, key: str, item: Any) -> list[Problem]:
    path = join("input.schema", key)
    parsed = parse_var(key)
    if parsed is None:
        return [
            Problem(
                f"{key!r} is not a variable name; use letters, digits and _ (add ? for optional)",
                doc.loc(path, key=True),
            )
        ]
    _, _, modifiers = parsed
    if modifiers and modifiers[0] == "enum":
        if not isinstance(item, list) or not item:
            return [Problem(f"{key}: an enum lists its values, e.g. [calm, tense]", doc.loc(path))]
        return []
    if modifiers:
        return [
            Problem(
                f"{key}: only (enum) or (enum, description) is understood", doc.loc(path, key=True)
            )
        ]
    if isinstance(item, dict):
        out = []
        for sub in item:
            if sub not in ("type", "description", "enum"):
                out.append(
                    _unknown(
                        sub,
                        ("type", "description", "enum"),
                        path,
                        doc.loc(join(path, sub), key=True),
                    )
                )
        kind = item.get("type", "any")
        if kind not in TYPES:
            out.append(
                Problem(
                    f"{key}: unknown type {kind!r}; use one of {', '.join(TYPES)}",
                    doc.loc(join(path, "type")),
                )
            )
        return out
    if not isinstance(item, str):
        return [Problem(f"{key}: write a type, e.g. 'string, what it is'", doc.loc(path))]
    kind = item.split(",", 1)[0].strip()
    if kind not in TYPES:
        close = difflib.get_close_matches(kind, TYPES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return [
            Problem(
                f"{key}: unknown type {kind!r}{hint}; use one of {', '.join(TYPES)}", doc.loc(path)
            )
        ]
    return []


def _check_examples(doc: Document, value: Any) -> list[Problem]:
    if not isinstance(value, dict) or not value:
        return [
            Problem(
                "examples must map example names to {vars, expect}, e.g. hero: {vars: {name: Ada}}",
                doc.loc("examples"),
            )
        ]
    out = []
    for name, example in value.items():
        path = join("examples", name)
        if example is None:
            continue
        if not isinstance(example, dict):
            out.append(
                Problem(f"example {name!r} must be a mapping with vars and expect", doc.loc(path))
            )
            continue
        for key, item in example.items():
            sub = join(path, key)
            if key not in EXAMPLE_KEYS:
                out.append(_unknown(key, EXAMPLE_KEYS, f"example {name!r}", doc.loc(sub, key=True)))
            elif key in ("vars", "config") and not isinstance(item, dict):
                out.append(Problem(f"examples.{name}.{key} must be a mapping", doc.loc(sub)))
            elif key == "expect" and not (
                isinstance(item, str)
                or (isinstance(item, list) and all(isinstance(c, str) for c in item))
            ):
                out.append(
                    Problem(
                        f"examples.{name}.expect must list rule codes, e.g. [KP301]", doc.loc(sub)
                    )
                )
            elif key == "config" and isinstance(item, dict):
                out += _check_config(doc, item, sub)
    return out


def _check_shots(doc: Document, value: Any) -> list[Problem]:
    if not isinstance(value, list) or not value:
        return [Problem("shots must be a list of {prompt, duration}", doc.loc("shots"))]
    out = []
    for i, shot in enumerate(value):
        path = join("shots", i)
        if not isinstance(shot, dict):
            out.append(
                Problem(f"shots[{i}] must be a mapping with prompt and duration", doc.loc(path))
            )
            continue
        for key in shot:
            if key not in SHOT_KEYS:
                out.append(
                    _unknown(key, SHOT_KEYS, f"shots[{i}]", doc.loc(join(path, key), key=True))
                )
        if not isinstance(shot.get("prompt"), str) or not shot["prompt"].strip():
            out.append(
                Problem(f"shots[{i}] needs a prompt (text, may use variables)", doc.loc(path))
            )
        duration = shot.get("duration")
        if isinstance(duration, bool) or not (
            isinstance(duration, int) or (isinstance(duration, str) and duration.strip().isdigit())
        ):
            out.append(
                Problem(
                    f"shots[{i}] needs a duration in whole seconds, e.g. 3",
                    doc.loc(join(path, "duration")),
                )
            )
    return out


# -- variants ------------------------------------------------------------------------------------


def merge(base: Document, variant: Document) -> Document:
    """The variant's front matter deep-merged over its base's.

    Mappings merge key by key; anything else (lists, scalars) replaces the base value; a key set
    to ``null`` removes it. Positions follow the value: inherited values point at the base file.
    """
    data = _merge_values(base.data, variant.data)
    assert isinstance(data, dict)
    index = dict(base.index)
    for path, entry in variant.index.items():
        if not path:
            continue
        value = _lookup(variant.data, path)
        base_value = _lookup(base.data, path)
        if not (isinstance(value, dict) and isinstance(base_value, dict)):
            for other in [p for p in index if p == path or p.startswith((path + ".", path + "["))]:
                del index[other]
        if value is not None:
            index[path] = entry
    index[""] = variant.index.get("", base.index.get("", Entry(None, Loc(variant.path, 1, 1))))
    return Document(data, index, variant.path)


def _merge_values(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = _merge_values(out[key], value)
            else:
                out[key] = value
        return out
    return over


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _lookup(data: Any, path: str) -> Any:
    current = data
    for match in _PART.finditer(path):
        name, index = match.groups()
        if index is not None:
            if not isinstance(current, list) or int(index) >= len(current):
                return None
            current = current[int(index)]
        else:
            if not isinstance(current, dict) or name not in current:
                return None
            current = current[name]
    return current
