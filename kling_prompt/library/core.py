"""Compile a prompt file into requests: one per example, each with a source map into the file.

The steps: split and read the front matter (with positions), merge a variant over its base,
check keys, analyse the templates (variables read, partials included), then for each example
render the body or shots, assemble the fal arguments from ``config``, resolve ``model`` to an
endpoint, and collect the suppression directives and the example's ``expect`` list.
Problems never raise here: they are collected with their file positions.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kling_prompt.library import frontmatter
from kling_prompt.library._source import Source
from kling_prompt.library._text import fold, literal, spans
from kling_prompt.library.frontmatter import Document, Loc, Problem
from kling_prompt.linter.suppress import DIRECTIVE, Directive, covers, parse_body
from kling_prompt.request import Origin, Request, SourceMap, Span

if TYPE_CHECKING:
    from kling_prompt.library.template import Library

SUFFIX = ".prompt"
_JINJA = re.compile(r"\{[{%#]")
CONFIG_FILES = ("kling-prompt.toml", ".kling-prompt.toml", "pyproject.toml")


class Rendered:
    """One request of a prompt file: the example it came from and what lint should expect."""

    __slots__ = ("directives", "expect", "name", "request")

    def __init__(
        self, name: str | None, request: Request, directives: list[Directive], expect: list[str]
    ) -> None:
        self.name = name
        self.request = request
        self.directives = directives
        self.expect = expect


class Compiled:
    """A compiled prompt file: its requests and its problems (KP001, KP002, KP003, ...)."""

    __slots__ = ("document", "partial", "path", "problems", "requests", "variables")

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.requests: list[Rendered] = []
        self.document: Document | None = None
        self.partial = is_partial(path)
        self.variables: dict[str, Variable] = {}

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class Variable:
    """A declared input: its type, whether it may be left out, its default and where it is."""

    __slots__ = ("default", "description", "enum", "has_default", "loc", "name", "optional", "type")

    def __init__(self, name: str, loc: Loc | None) -> None:
        self.name = name
        self.loc = loc
        self.type = "any"
        self.optional = False
        self.description: str | None = None
        self.enum: list[Any] | None = None
        self.default: Any = None
        self.has_default = False


def is_partial(path: str | os.PathLike[str]) -> bool:
    return Path(path).name.startswith("_")


def find_root(path: str | os.PathLike[str]) -> Path:
    """The library folder of a prompt file: the nearest folder at or above it holding a
    ``kling-prompt.toml`` (or a ``pyproject.toml`` with a ``[tool.kling-prompt]`` table), else
    the file's own folder."""
    from kling_prompt.linter.config import find_config

    folder = Path(path).resolve().parent if path != "-" else Path.cwd()
    found = find_config(folder)
    return Path(found).parent.resolve() if found is not None else folder


def base_of(path: Path) -> Path | None:
    """The base file of a variant ``name.variant.prompt`` (``name.prompt``), when it exists."""
    stem = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem
    if "." not in stem:
        return None
    base = path.with_name(stem.rsplit(".", 1)[0] + SUFFIX)
    return base if base.is_file() else None


# -- reading ---------------------------------------------------------------------------------


class _Layer:
    """A file's front matter and body, after merging it over its base (for variants)."""

    __slots__ = ("body", "doc", "file_directives")

    def __init__(self, doc: Document, body: Source, file_directives: list[Source]) -> None:
        self.doc = doc
        self.body = body
        self.file_directives = file_directives


def _read(path: str, text: str, seen: tuple[str, ...] = ()) -> _Layer:
    text = text.replace("\r\n", "\n")
    cut = frontmatter.split(text, path)
    doc = frontmatter.parse(cut.front, cut.front_line, path)
    body = Source.block(cut.body, path, cut.body_line, field="body")
    base_path = base_of(Path(path)) if path != "-" else None
    if base_path is None:
        return _Layer(doc, body, [body])
    key = str(base_path.resolve())
    if key in seen:
        raise Problem(
            f"variant chain loops back to {base_path}; rename one of the files", Loc(path, 1, 1)
        )
    shown = os.path.relpath(base_path) if not os.path.isabs(path) else str(base_path)
    try:
        base_text = base_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Problem(
            f"cannot read the base file {shown} of this variant: {exc}", Loc(path, 1, 1)
        ) from None
    base = _read(shown, base_text, (*seen, key))
    problems = frontmatter.check(base.doc)
    if problems:
        raise problems[0]
    merged = frontmatter.merge(base.doc, doc)
    if cut.body.strip():
        return _Layer(merged, body, [body])
    return _Layer(merged, base.body, [body, base.body])


def declared_variables(path: str, text: str) -> dict[str, Variable]:
    """The variables a prompt file declares (raises :class:`Problem` when it cannot be read)."""
    return variables(_read(path, text).doc)


# -- variables ---------------------------------------------------------------------------------


def variables(doc: Document) -> dict[str, Variable]:
    """Declared inputs: ``input.schema`` keys plus any ``input.default`` key."""
    out: dict[str, Variable] = {}
    section = doc.data.get("input") or {}
    schema = section.get("schema") or {}
    for key, item in schema.items():
        parsed = frontmatter.parse_var(key)
        if parsed is None:
            continue
        name, optional, modifiers = parsed
        var = Variable(name, doc.loc(frontmatter.join("input.schema", key), key=True))
        var.optional = optional
        if modifiers and modifiers[0] == "enum":
            var.enum = list(item) if isinstance(item, list) else None
            var.description = modifiers[1] if len(modifiers) > 1 else None
        elif isinstance(item, dict):
            var.type = str(item.get("type", "any"))
            var.description = item.get("description")
            var.enum = item.get("enum")
        elif isinstance(item, str):
            kind, _, description = item.partition(",")
            var.type = kind.strip()
            var.description = description.strip() or None
        out[name] = var
    for key, value in (section.get("default") or {}).items():
        found = out.get(key)
        if found is None:
            found = out[key] = Variable(
                key, doc.loc(frontmatter.join("input.default", key), key=True)
            )
        found.default = value
        found.has_default = True
    return out


_TYPE_CHECKS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _type_problem(var: Variable, value: Any) -> str | None:
    if value is None and var.optional:
        return None
    if var.enum is not None and value not in var.enum:
        return f"{var.name} must be one of {', '.join(map(str, var.enum))}, not {value!r}"
    wanted = _TYPE_CHECKS.get(var.type)
    if wanted is None:
        return None
    if isinstance(value, bool) and var.type in ("integer", "number"):
        return f"{var.name} must be a {var.type}, not a boolean"
    if not isinstance(value, wanted):
        return f"{var.name} must be a{'n' if var.type[0] in 'ai' else ''} {var.type}, not {type(value).__name__} {value!r}"
    return None


def coerce(var: Variable | None, raw: str) -> Any:
    """A ``--var name=value`` string as the variable's declared type."""
    if var is None or var.type in ("string", "any"):
        return raw
    try:
        if var.type == "integer":
            return int(raw)
        if var.type == "number":
            return float(raw)
        if var.type == "boolean":
            lowered = raw.lower()
            if lowered in ("true", "yes", "1"):
                return True
            if lowered in ("false", "no", "0"):
                return False
    except ValueError:
        pass
    raise ValueError(
        f"--var {var.name}={raw}: {var.name} is declared as {var.type}; give a {var.type}"
    )


# -- directives ------------------------------------------------------------------------------


def directives(source: Source) -> list[Directive]:
    """Suppression comments written in a template source, with the file lines they cover."""
    out: list[Directive] = []
    text = source.text
    for match in DIRECTIVE.finditer(text):
        kind = {None: "line", "-next-line": "next-line", "-file": "file"}[match.group("kind")]
        codes, reason = parse_body(match.group("body"))
        first = source.line_of(match.start())
        last = source.line_of(match.end())
        line_start = source.line_span(first)[0]
        line_end = source.line_span(last)[1]
        alone = (
            not text[line_start : match.start()].strip()
            and not text[match.end() : line_end].strip()
        )
        own_line, column = source.position(match.start())
        if kind == "file":
            target = own_line
        elif alone or kind == "next-line":
            following = last + 1
            while following < source.line_count - 1:
                lo, hi = source.line_span(following)
                if text[lo:hi].strip() and not DIRECTIVE.fullmatch(text[lo:hi].strip()):
                    break
                following += 1
            target = (
                source.position(source.line_span(following)[0])[0]
                if following < source.line_count
                else own_line + 1
            )
        else:
            target = own_line
        out.append(Directive(kind, codes, reason, file_line=target, file_column=column))
    return out


def _fresh(found: list[Directive]) -> list[Directive]:
    return [
        Directive(
            d.kind,
            list(d.codes),
            d.reason,
            file_line=d.file_line,
            file_column=d.file_column,
            required=d.required,
        )
        for d in found
    ]


# -- compiling ---------------------------------------------------------------------------------


def compile_text(
    path: str,
    text: str,
    *,
    endpoint: str | None = None,
    mode: str | None = None,
    example: str | None = None,
    overrides: dict[str, Any] | None = None,
    root: Path | None = None,
    defaults_only: bool = False,
) -> Compiled:
    """Compile a prompt file's text (``path`` names it and anchors partials and media paths).

    ``endpoint`` and ``mode`` apply when the file has no ``model``. ``example`` keeps only that
    example; ``defaults_only`` ignores the examples and renders ``input.default``;
    ``overrides`` are variable values placed over every example's.
    """
    result = Compiled(path)
    try:
        _compile(result, path, text, endpoint, mode, example, overrides or {}, root, defaults_only)
    except Problem as problem:
        result.problems.append(problem)
    return result


def _compile(
    result: Compiled,
    path: str,
    text: str,
    endpoint: str | None,
    mode: str | None,
    only: str | None,
    overrides: dict[str, Any],
    root: Path | None,
    defaults_only: bool,
) -> None:
    layer = _read(path, text)
    doc = layer.doc
    result.document = doc
    problems = frontmatter.check(doc, partial=result.partial)
    if problems:
        result.problems += problems
        return
    library_root = root or find_root(path)
    if result.partial:
        if _JINJA.search(layer.body.text):
            checker = _library(library_root)
            _syntax(checker, checker.name_for(Path(path), "body"), layer.body, result)
        return
    data = doc.data
    sources = _template_sources(layer, doc)
    if "spec" in data and any(s.text.strip() for s in sources):
        result.problems.append(
            Problem(
                "this file has a spec and a body (or shots); a spec renders through the built-in "
                "templates, so remove the body text or the spec",
                doc.loc("spec", key=True),
            )
        )
        return
    declared = variables(doc)
    result.variables = declared
    found = [d for s in layer.file_directives for d in directives(s)]
    found += [d for s in sources if s.field != "body" for d in directives(s)]

    used: dict[str, Loc] = {}
    library: Library | None = None
    if any(_JINJA.search(s.text) for s in sources):
        library = _library(library_root)
        for source in sources:
            name = library.name_for(Path(path), source.field)
            if not _syntax(library, name, source, result):
                continue
            analysis = library.analyse(name, source)
            result.problems += analysis.problems
            for used_name, loc in analysis.used.items():
                used.setdefault(used_name, loc)
        if result.errors:
            return
    for used_name, loc in used.items():
        if used_name not in declared:
            result.problems.append(
                Problem(
                    f"the template uses {used_name!r}, which input.schema does not declare; add "
                    f"'{used_name}: string' under input.schema (or fix the spelling)",
                    loc,
                    "KP002",
                    "undefined-variable",
                )
            )
    for var in declared.values():
        if var.name not in used and not any(
            covers(d, "KP003", "unused-variable", None, None, var.loc.line if var.loc else None)
            for d in found
        ):
            result.problems.append(
                Problem(
                    f"input {var.name!r} is declared but the template never uses it; use "
                    f"{{{{ {var.name} }}}} in the body or remove it from input",
                    var.loc,
                    "KP003",
                    "unused-variable",
                    "warning",
                )
            )
    if result.errors:
        return
    examples: list[tuple[str | None, dict[str, Any]]] = (
        [(None, {})] if defaults_only else _examples(doc)
    )
    if only is not None:
        if only not in {label for label, _ in examples if label is not None}:
            known = ", ".join(label for label, _ in examples if label) or "none"
            raise Problem(
                f"no example named {only!r} in this file (examples: {known})", doc.loc("examples")
            )
        examples = [(label, ex) for label, ex in examples if label == only]
    for label, example in examples:
        _compile_example(
            result,
            layer,
            sources,
            library,
            declared,
            found,
            label,
            example,
            overrides,
            endpoint,
            mode,
        )


def _library(root: Path) -> Library:
    from kling_prompt.library.template import Library

    cached = _LIBRARIES.get(root)
    if cached is None:
        cached = _LIBRARIES[root] = Library(root)
    return cached


_LIBRARIES: dict[Path, Library] = {}


def _syntax(library: Library, name: str, source: Source, result: Compiled) -> bool:
    import jinja2

    try:
        library.register(name, source)
        library.env.parse(source.text, name, name)
    except jinja2.TemplateSyntaxError as exc:
        result.problems.append(library.syntax_problem(exc))
        return False
    return True


def _template_sources(layer: _Layer, doc: Document) -> list[Source]:
    out = []
    if layer.body.text.strip():
        out.append(layer.body)
    shots = doc.data.get("shots")
    if isinstance(shots, list):
        for i in range(len(shots)):
            source = doc.source(f"shots[{i}].prompt")
            if source is not None:
                source.field = f"shots[{i}].prompt"
                out.append(source)
    return out


def _examples(doc: Document) -> list[tuple[str | None, dict[str, Any]]]:
    examples = doc.data.get("examples")
    if not isinstance(examples, dict) or not examples:
        return [(None, {})]
    return [(str(name), value or {}) for name, value in examples.items()]


def _compile_example(
    result: Compiled,
    layer: _Layer,
    sources: list[Source],
    library: Library | None,
    declared: dict[str, Variable],
    found: list[Directive],
    name: str | None,
    example: dict[str, Any],
    overrides: dict[str, Any],
    endpoint: str | None,
    mode: str | None,
) -> None:
    doc = layer.doc
    here = f"examples.{name}" if name is not None else ""
    values: dict[str, Any] = {v.name: None for v in declared.values() if v.optional}
    values.update({v.name: v.default for v in declared.values() if v.has_default})
    given = example.get("vars") or {}
    values.update(given)
    values.update(overrides)
    for var_name, value in given.items():
        var = declared.get(var_name)
        loc = doc.loc(f"{here}.vars.{var_name}")
        if var is None:
            result.problems.append(
                Problem(
                    f"example {name!r} sets {var_name!r}, which input.schema does not declare; "
                    "declare it or remove it",
                    doc.loc(f"{here}.vars.{var_name}", key=True),
                    "KP003",
                    "unused-variable",
                    "warning",
                )
            )
            continue
        problem = _type_problem(var, value)
        if problem is not None:
            result.problems.append(Problem(f"example {name!r}: {problem}", loc))
            return
    missing = [v for v in declared.values() if v.name not in values]
    if missing:
        names = ", ".join(v.name for v in missing)
        if name is None:
            where = missing[0].loc
            fix = f"give it a value under input.default, mark it optional ({missing[0].name}?), or add examples"
            label = "this file"
        else:
            where = doc.loc(f"{here}.vars", key=True) or doc.loc(here, key=True)
            fix = f"add it to examples.{name}.vars or to input.default"
            label = f"example {name!r}"
        result.problems.append(
            Problem(
                f"{label} gives no value for {names}; {fix}", where, "KP002", "undefined-variable"
            )
        )
        return
    arguments: dict[str, Any] = copy.deepcopy(doc.data.get("config") or {})
    smap = SourceMap()
    _config_spans(doc, "config", smap)
    extra = example.get("config")
    if isinstance(extra, dict):
        arguments = _merge(arguments, extra)
        _config_spans(doc, f"{here}.config", smap)
    data = doc.data
    if "spec" in data:
        request = _spec_request(result, doc, arguments, smap)
        if request is None:
            return
    else:
        rendered: list[tuple[Source, str, list[Span]]] = []
        for source in sources:
            out = _render(result, library, source, values)
            if out is None:
                return
            rendered.append(out)
        shots = [r for r in rendered if r[0].field != "body"]
        body = [r for r in rendered if r[0].field == "body"]
        if shots and "multi_prompt" in arguments:
            result.problems.append(
                Problem("give shots or config.multi_prompt, not both", doc.loc("shots", key=True))
            )
            return
        if shots and body:
            result.problems.append(
                Problem(
                    "this file has shots and a body; a multi-shot prompt lives in shots, so move "
                    "the body text into them (or remove shots)",
                    Loc(layer.body.path, layer.body.lines[0][0], 1),
                )
            )
            return
        if body:
            _, text, body_spans = body[0]
            arguments["prompt"] = text
            smap.extend(body_spans)
        multi: list[dict[str, Any]] = []
        raw_shots = data.get("shots") or []
        for i, (_, text, shot_spans) in enumerate(shots):
            multi.append({"prompt": text, "duration": raw_shots[i].get("duration")})
            smap.extend(shot_spans)
            smap.add(
                Span(f"multi_prompt[{i}].duration", 0, 0, _origin(doc, f"shots[{i}].duration"))
            )
        request = _assemble(result, doc, arguments, smap, multi, endpoint, mode)
        if request is None:
            return
    request.record = name
    items = _fresh(found)
    expect = example.get("expect") or []
    if isinstance(expect, str):
        expect = [expect]
    if expect:
        loc = doc.loc(f"{here}.expect")
        items.append(
            Directive(
                "file",
                [str(c) for c in expect],
                None,
                required=True,
                file_line=loc.line if loc else None,
                file_column=loc.column if loc else None,
            )
        )
    result.requests.append(Rendered(name, request, items, [str(c) for c in expect]))


def _origin(doc: Document, path: str) -> Origin:
    loc = doc.loc(path)
    if loc is None:
        return Origin(path)
    return Origin(path, path=loc.path, line=loc.line, column=loc.column)


def _config_spans(doc: Document, prefix: str, smap: SourceMap) -> None:
    """Zero-width spans at each config value, verbatim spans over text written in place."""
    start = prefix + "."
    for key, entry in doc.index.items():
        if not key.startswith(start):
            continue
        field = key[len(start) :]
        loc = entry.value
        smap.add(Span(field, 0, 0, Origin(key, path=loc.path, line=loc.line, column=loc.column)))
        source = entry.source
        if source is not None and source.exact and source.text:
            source.field = key
            chars, marks = literal(source)
            smap.extend(spans("".join(chars), marks, field))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _render(
    result: Compiled, library: Library | None, source: Source, values: dict[str, Any]
) -> tuple[Source, str, list[Span]] | None:
    field = "prompt" if source.field == "body" else source.field.replace("shots", "multi_prompt", 1)
    if library is None or not _JINJA.search(source.text):
        chars, marks = literal(source)
    else:
        name = library.name_for(Path(source.path), source.field)
        try:
            template = library.compile(name, source)
            chars, marks = library.render(template, dict(values))
        except Exception as exc:  # any template failure becomes a diagnostic at its line
            result.problems.append(library.runtime_problem(exc))
            return None
    text, folded = fold(chars, marks)
    return source, text, spans(text, folded, field)


def _assemble(
    result: Compiled,
    doc: Document,
    arguments: dict[str, Any],
    smap: SourceMap,
    shots: list[dict[str, Any]],
    endpoint: str | None,
    mode: str | None,
) -> Request | None:
    from kling_prompt import catalog
    from kling_prompt.errors import CatalogError, RoutingError

    model = doc.data.get("model")
    routing_args = dict(arguments)
    if shots:
        routing_args["multi_prompt"] = shots
    chosen = endpoint
    chosen_mode = mode
    if isinstance(model, str):
        chosen = model.strip()
        chosen_mode = None
    elif isinstance(model, dict):
        wanted = model.get("mode") or catalog.infer_mode(routing_args)
        if wanted == "multi-shot":
            wanted = catalog.infer_mode(
                {k: v for k, v in routing_args.items() if k != "multi_prompt"}
            )
        roles, features = catalog.roles_and_features(routing_args, wanted)
        try:
            chosen = catalog.route(
                mode=wanted,
                family=model.get("family"),
                tier=model.get("tier"),
                roles=roles,
                features=features,
            ).endpoint
        except (RoutingError, CatalogError) as exc:
            result.problems.append(
                Problem(
                    f"no endpoint fits model {_show(model)}: {exc}",
                    doc.loc("model"),
                    "KP111",
                    "unsupported-feature",
                )
            )
            return None
        chosen_mode = wanted
    info = None
    if chosen:
        try:
            info = catalog.get(chosen)
        except (CatalogError, LookupError):
            info = None
    if info is not None:
        chosen_mode = info.mode
    if shots:
        for shot in shots:
            shot["duration"] = _duration(info, shot["duration"], shot_item=True)
        arguments["multi_prompt"] = shots
        if "duration" not in arguments:
            total = sum(int(str(s["duration"])) for s in shots)
            arguments["duration"] = _duration(info, total)
            smap.add(Span("duration", 0, 0, _origin(doc, "shots")))
        if info is not None and "shot_type" in info.fields and "shot_type" not in arguments:
            arguments["shot_type"] = "customize"
            smap.add(Span("shot_type", 0, 0, _origin(doc, "shots")))
    if "model" in doc.data:
        smap.add(Span("endpoint", 0, 0, _origin(doc, "model")))
    return Request(chosen, arguments, source_map=smap, mode=chosen_mode, path=doc.path)


def _duration(info: Any, value: Any, *, shot_item: bool = False) -> Any:
    if info is None or info.capabilities.duration_type is None:
        return value
    text = str(value).strip()
    if not text.isdigit():
        return value
    return int(text) if info.capabilities.duration_type == "integer" else text


def _show(model: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in model.items()) + "}"


def _spec_request(
    result: Compiled, doc: Document, arguments: dict[str, Any], smap: SourceMap
) -> Request | None:
    """A ``spec`` rendered through the built-in templates, its source map pointed at the YAML."""
    from pydantic import ValidationError as PydanticError

    from kling_prompt.errors import KlingPromptError
    from kling_prompt.rendering import render
    from kling_prompt.spec import PromptSpec

    data = dict(doc.data.get("spec") or {})
    model = doc.data.get("model")
    if isinstance(model, str):
        data.setdefault("endpoint", model)
    elif isinstance(model, dict):
        for key in ("mode", "family", "tier"):
            if key in model:
                data.setdefault(key, model[key])
    try:
        spec = PromptSpec.model_validate(data)
    except PydanticError as exc:
        for err in exc.errors():
            where = "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}"
                for part in err.get("loc", ())
                if not str(part).startswith("function-")
            ).lstrip(".")
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                message = "unknown field; check its spelling and where it is nested"
            result.problems.append(
                Problem(
                    f"spec.{where}: {message}" if where else f"spec: {message}",
                    doc.loc(f"spec.{where}" if where else "spec"),
                )
            )
        return None
    try:
        request = render(spec)
    except KlingPromptError as exc:
        result.problems.append(
            Problem(f"spec: {' '.join(str(exc).split())}", doc.loc("spec", key=True))
        )
        return None
    spec_loc = doc.loc("spec")
    for span in request.source_map:
        origin = span.origin
        entry = doc.index.get(f"spec.{origin.field}") if origin.field else None
        if entry is None:
            new = Origin(
                f"spec.{origin.field}" if origin.field else "spec",
                path=spec_loc.path if spec_loc else None,
                line=spec_loc.line if spec_loc else None,
                column=spec_loc.column if spec_loc else None,
            )
        else:
            source = entry.source
            verbatim = bool(
                source is not None
                and source.exact
                and "\n" not in source.text
                and _span_text(request, span) == source.text
            )
            line, column = (
                source.position(0)
                if verbatim and source is not None
                else (entry.value.line, entry.value.column)
            )
            new = Origin(
                f"spec.{origin.field}",
                path=entry.value.path,
                line=line,
                column=column,
                verbatim=verbatim,
            )
        smap.add(Span(span.field, span.start, span.end, new))
    merged = dict(request.arguments)
    merged.update(arguments)
    if "model" in doc.data:
        smap.add(Span("endpoint", 0, 0, _origin(doc, "model")))
    return Request(
        request.endpoint, merged, source_map=smap, mode=request.mode, path=doc.path, spec=spec
    )


def _span_text(request: Request, span: Span) -> str:
    from kling_prompt.request import get_field

    try:
        value = get_field(request.arguments, span.field)
    except KeyError:
        return ""
    return value[span.start : span.end] if isinstance(value, str) else ""
