"""Jinja for prompt files: a sandbox confined to the library folder, with a character-level
source map.

How positions survive rendering: :class:`_Markers` sees every template before it is parsed.
It finds the offset of each literal text run and each ``{{`` in the source (from the raw lexer
tokens, in order), then rewrites the token stream so literal text renders as
``DATA id:offset MID text CLOSE`` and each expression as ``VAR id:offset MID output CLOSE``,
with private-use characters as delimiters. :func:`decode` strips the markers after rendering
and gives each output character its origin. Partials nest naturally: their markers sit inside
the marker of the ``{{ partial(...) }}`` or ``{% include %}`` that produced them.

Imported only when a template has Jinja syntax (``{{``, ``{%`` or ``{#``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.sandbox import SandboxedEnvironment

from kling_prompt.library._source import Source
from kling_prompt.library._text import Mark
from kling_prompt.library.frontmatter import Loc, Problem

_DATA, _VAR, _MID, _CLOSE = "\ue010", "\ue011", "\ue012", "\ue013"
_MARKERS = frozenset((_DATA, _VAR, _MID, _CLOSE))
SUFFIX = ".prompt"


def partial_file(name: str) -> str:
    """``intro`` -> ``_intro.prompt``; a name with a folder keeps it (``shared/intro``)."""
    folder, _, base = name.rpartition("/")
    if not base.endswith(SUFFIX):
        base += SUFFIX
    if not base.startswith("_"):
        base = "_" + base
    return f"{folder}/{base}" if folder else base


class Library:
    """One Jinja environment per library root, with the sources it has seen."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.sources: list[Source] = []
        self.ids: dict[str, int] = {}
        self.pending: dict[str, tuple[int, list[int], list[int]]] = {}
        self.problems: dict[str, Problem] = {}
        self.env = _Environment(self)

    # -- sources -------------------------------------------------------------------------------
    def register(self, name: str, source: Source) -> int:
        source.name = name
        index = self.ids.get(name)
        if index is None:
            index = len(self.sources)
            self.sources.append(source)
            self.ids[name] = index
        else:
            self.sources[index] = source
        return index

    def by_filename(self, filename: str | None) -> Source | None:
        if filename is None:
            return None
        index = self.ids.get(filename)
        return self.sources[index] if index is not None else None

    def name_for(self, path: Path, field: str) -> str:
        try:
            rel = path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            rel = path.name
        return f"{rel}#{field}"

    # -- names ---------------------------------------------------------------------------------
    def resolve(self, template: str, parent: str | None) -> str:
        """The root-relative name of a partial, searched from the including file's folder up."""
        pure = PurePosixPath(template.replace("\\", "/"))
        if (
            template.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", template)
            or pure.is_absolute()
        ):
            raise jinja2.TemplateNotFound(
                template,
                f"partial {template!r} is an absolute path; name it relative to the library "
                f"folder {self.root}",
            )
        if ".." in pure.parts:
            raise jinja2.TemplateNotFound(
                template,
                f"partial {template!r} climbs out with '..'; partials must live inside the "
                f"library folder {self.root}",
            )
        folder = PurePosixPath(parent.split("#", 1)[0]).parent if parent else PurePosixPath(".")
        while True:
            candidate = (folder / pure).as_posix()
            if (self.root / candidate).exists():
                return candidate
            if folder == PurePosixPath(".") or str(folder) == "":
                return pure.as_posix()
            folder = folder.parent

    def load(self, name: str) -> tuple[str, str, Callable[[], bool]]:
        """Read a partial (a ``_name.prompt`` file inside the root) for Jinja."""
        from kling_prompt.library import frontmatter

        path = self.root / name
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            raise jinja2.TemplateNotFound(
                name,
                f"partial {name!r} not found under the library folder {self.root}; create "
                f"{partial_file(Path(name).stem) if not name.endswith(SUFFIX) else name} there",
            ) from None
        if not real.is_relative_to(self.root):
            raise jinja2.TemplateNotFound(
                name,
                f"partial {name!r} resolves (through a symlink) to {real}, outside the library "
                f"folder {self.root}; copy it into the folder instead",
            )
        if not real.name.startswith("_") or not real.name.endswith(SUFFIX):
            raise jinja2.TemplateNotFound(
                name,
                f"{name!r} is not a partial; only files named _name.prompt can be included",
            )
        try:
            text = real.read_text(encoding="utf-8").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise jinja2.TemplateNotFound(name, f"cannot read partial {name!r}: {exc}") from None
        shown = _display(path)
        cut = frontmatter.split(text, shown)
        doc = frontmatter.parse(cut.front, cut.front_line, shown)
        problems = frontmatter.check(doc, partial=True)
        if problems:
            raise problems[0]
        body = cut.body
        source = Source.block(body, shown, cut.body_line, field="body")
        self.register(name, source)
        mtime = _mtime(real)
        return body, name, lambda: _mtime(real) == mtime

    # -- compile and analyse -------------------------------------------------------------------
    def compile(self, name: str, source: Source) -> jinja2.Template:
        self.register(name, source)
        code = self.env.compile(source.text, name=name, filename=name)
        return self.env.template_class.from_code(self.env, code, self.env.make_globals(None), None)

    def analyse(self, name: str, source: Source) -> Analysis:
        """Variables read by a template and the partials it includes (recursively)."""
        result = Analysis()
        self._analyse(name, source, result, set(), frozenset())
        return result

    def _analyse(
        self, name: str, source: Source, result: Analysis, seen: set[str], given: frozenset[str]
    ) -> None:
        if name in seen:
            return
        seen.add(name)
        self.register(name, source)
        ast = self.env.parse(source.text, name, name)
        undeclared = meta.find_undeclared_variables(ast) - set(self.env.globals) - given
        for name_node in ast.find_all(nodes.Name):
            var = name_node.name
            if name_node.ctx == "load" and var in undeclared and var not in result.used:
                result.used[var] = self._loc(source, name_node.lineno, var)
        for node, target, passed in _references(ast):
            where = self._loc(source, node.lineno, target)
            try:
                resolved = self.resolve(target, name)
                self.env.get_template(resolved)
            except jinja2.TemplateNotFound as exc:
                result.problems.append(Problem(str(exc.message or exc), where))
                continue
            except Problem as exc:
                result.problems.append(exc)
                continue
            except jinja2.TemplateSyntaxError as exc:
                result.problems.append(self.syntax_problem(exc))
                continue
            index = self.ids.get(resolved)
            if index is not None:
                self._analyse(resolved, self.sources[index], result, seen, given | passed)

    def _loc(self, source: Source, lineno: int, needle: str) -> Loc:
        number = max(0, min(lineno - 1, source.line_count - 1))
        start, end = source.line_span(number)
        text = source.text[start:end]
        tag = min((p for p in (text.find("{{"), text.find("{%")) if p >= 0), default=0)
        found = re.search(rf"(?<![\w.]){re.escape(needle)}(?!\w)", text[tag:])
        offset = start + tag + (found.start() if found else 0)
        line, column = source.position(offset)
        return Loc(source.path, line, column)

    def syntax_problem(self, exc: jinja2.TemplateSyntaxError) -> Problem:
        source = self.by_filename(exc.filename or exc.name)
        message = f"template syntax error: {exc.message}; fix the Jinja tag on this line"
        if source is None:
            return Problem(message, None)
        number = max(0, min((exc.lineno or 1) - 1, source.line_count - 1))
        line, column = source.position(source.line_span(number)[0])
        return Problem(message, Loc(source.path, line, column))

    def runtime_problem(self, exc: Exception) -> Problem:
        """A render failure placed at the template line the traceback points at."""
        where: Loc | None = None
        tb = exc.__traceback__
        while tb is not None:
            source = self.by_filename(tb.tb_frame.f_code.co_filename)
            if source is not None:
                number = max(0, min(tb.tb_lineno - 1, source.line_count - 1))
                line, column = source.position(source.line_span(number)[0])
                where = Loc(source.path, line, column)
            tb = tb.tb_next
        if isinstance(exc, jinja2.UndefinedError):
            return Problem(
                f"{exc.message}; declare it in input.schema and give it a value (input.default or "
                "the example's vars)",
                where,
                "KP002",
                "undefined-variable",
            )
        if isinstance(exc, jinja2.TemplateNotFound):
            return Problem(str(exc.message or exc), where)
        if isinstance(exc, Problem):
            return exc
        message = getattr(exc, "message", None) or str(exc)
        return Problem(f"the template failed to render: {type(exc).__name__}: {message}", where)

    def render(
        self, template: jinja2.Template, context: dict[str, Any]
    ) -> tuple[list[str], list[Mark]]:
        return self.decode(template.render(context), template.name)

    def decode(self, output: str, name: str | None) -> tuple[list[str], list[Mark]]:
        """Strip the markers; each output character gets the mark of the innermost marker."""
        fallback = self.by_filename(name) or Source("", "", [], exact=False)
        chars: list[str] = []
        marks: list[Mark] = []
        stack: list[list[Any]] = []
        i, n = 0, len(output)
        try:
            while i < n:
                ch = output[i]
                if ch in (_DATA, _VAR):
                    mid = output.index(_MID, i)
                    ident, _, offset = output[i + 1 : mid].partition(":")
                    stack.append(
                        ["d" if ch == _DATA else "v", self.sources[int(ident)], int(offset)]
                    )
                    i = mid + 1
                    continue
                if ch == _CLOSE:
                    stack.pop()
                    i += 1
                    continue
                if ch == _MID:
                    raise ValueError("stray marker")
                if stack:
                    top = stack[-1]
                    marks.append((top[0], top[1], top[2]))
                    if top[0] == "d":
                        top[2] += 1
                else:
                    marks.append(("v", fallback, 0))
                chars.append(ch)
                i += 1
        except (ValueError, IndexError):
            # A filter cut a marker apart: keep the text, map it to the template as a whole.
            text = [c for c in output if c not in _MARKERS]
            return text, [("v", fallback, 0)] * len(text)
        return chars, marks


class Analysis:
    """What a template reads: variables (first use) and partial problems."""

    def __init__(self) -> None:
        self.used: dict[str, Loc] = {}
        self.problems: list[Problem] = []


def _references(ast: nodes.Template) -> Iterator[tuple[nodes.Node, str, frozenset[str]]]:
    """Constant partial names with the variables passed to them (``partial("x", key=...)``)."""
    for node in ast.find_all(nodes.Include):
        if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
            yield node, node.template.value, frozenset()
    for call in ast.find_all(nodes.Call):
        if (
            isinstance(call.node, nodes.Name)
            and call.node.name == "partial"
            and call.args
            and isinstance(call.args[0], nodes.Const)
            and isinstance(call.args[0].value, str)
        ):
            yield call, partial_file(call.args[0].value), frozenset(k.key for k in call.kwargs)


class _Markers(Extension):
    """Wrap literal text and expressions in position markers (see the module docstring)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        library: Library = self.environment.kp_library  # type: ignore[attr-defined]
        if name is None or name not in library.ids:
            return source
        data: list[int] = []
        variables: list[int] = []
        cursor = 0
        for _, token, value in self.environment.lexer.tokeniter(source, name, filename):
            if not value:
                continue
            pos = source.find(value, cursor)
            if pos < 0:
                pos = cursor
            if token == "data":
                data.append(pos)
            elif token == "variable_begin":
                variables.append(pos)
            cursor = pos + len(value)
        library.pending[name] = (library.ids[name], data, variables)
        return source

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        library: Library = self.environment.kp_library  # type: ignore[attr-defined]
        pending = library.pending.pop(stream.name or "", None)
        if pending is None:
            yield from stream
            return
        ident, data, variables = pending
        data_iter, var_iter = iter(data), iter(variables)
        for token in stream:
            if token.type == "data":
                offset = next(data_iter, 0)
                yield Token(
                    token.lineno, "data", f"{_DATA}{ident}:{offset}{_MID}{token.value}{_CLOSE}"
                )
            elif token.type == "variable_begin":
                offset = next(var_iter, 0)
                yield Token(token.lineno, "data", f"{_VAR}{ident}:{offset}{_MID}")
                yield token
            elif token.type == "variable_end":
                yield token
                yield Token(token.lineno, "data", _CLOSE)
            else:
                yield token


class _Loader(jinja2.BaseLoader):
    def __init__(self, library: Library) -> None:
        self.library = library

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        return self.library.load(template)


class _Environment(SandboxedEnvironment):
    def __init__(self, library: Library) -> None:
        super().__init__(
            loader=_Loader(library),
            undefined=jinja2.StrictUndefined,
            trim_blocks=False,
            lstrip_blocks=True,
            autoescape=False,
            extensions=[_Markers],
        )
        self.kp_library = library
        environment = self

        @jinja2.pass_context
        def partial(context: Any, name: str, **values: Any) -> str:
            """Render the partial ``_name.prompt`` with the caller's variables (and ``values``)."""
            resolved = library.resolve(partial_file(name), context.name)
            return environment.get_template(resolved).render({**context.get_all(), **values})

        self.globals["partial"] = partial

    def join_path(self, template: str, parent: str) -> str:
        return self.kp_library.resolve(template, parent)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
