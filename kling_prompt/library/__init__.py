"""Prompt files: a folder of ``.prompt`` files with YAML front matter and a Jinja body.

The format
----------
A prompt file is YAML front matter between two ``---`` lines, then the body, a Jinja template
that renders to the ``prompt`` sent to fal. Key names follow dotprompt and prompty::

    ---
    # yaml-language-server: $schema=./.kling-prompt.schema.json
    model: {mode: text-to-video, family: v3}    # or an endpoint id: fal-ai/kling-video/v3/pro/text-to-video
    config:                                     # fal arguments except the prompt
      duration: "5"
      aspect_ratio: "16:9"
      negative_prompt: blur, distortion, low quality
    input:
      schema:
        city: string, where the scene takes place
        weather?: string                        # ? = optional (None when not given)
        mood(enum): [calm, tense]
      default: {city: Lisbon, mood: calm}
    metadata: {description: Establishing shot, tags: [city], owner: video-team}
    examples:
      rain: {vars: {weather: light rain}}
      known-issue: {vars: {city: Oslo}, expect: [KP303]}
    ---
    A tram climbs a steep street in {{ city }}{% if weather %} in {{ weather }}{% endif %} ...

Keys (anything else is a KP001 error at the key, with a did-you-mean):

- ``model``: an endpoint id, or ``{mode, family, tier}`` routed through the catalog
  (:func:`kling_prompt.catalog.route`) with the inputs that ``config`` uses. ``mode`` may be
  ``multi-shot``; it is then served by a text-, image- or reference-to-video endpoint.
- ``config``: fal arguments as fal names them (``duration``, ``aspect_ratio``,
  ``negative_prompt``, ``generate_audio``, ``elements``, ``voice_ids``, ``start_image_url``,
  ``multi_prompt``...). Strings are literal, not templates. Local media paths are relative to
  the file and stay as written in the request (``request.path`` is their base). Unknown or bad
  fields are reported by the lint rules against the endpoint (KP106, KP107, KP109, KP110...),
  at the line of the value.
- ``input.schema``: variables, in dotprompt's Picoschema shorthand: ``name: type[, description]``
  with type ``string``, ``integer``, ``number``, ``boolean`` or ``any``; ``name?`` is optional;
  ``name(enum[, description]): [a, b]`` lists allowed values; or a mapping ``{type, description,
  enum}``. ``input.default`` gives values; a default alone also declares a variable.
- ``metadata``: ``name``, ``description``, ``tags``, ``owner``, ``version``, and any ``x-*`` key.
- ``examples``: named variable sets: ``{vars, expect, description, config}``. Each example is
  rendered and linted as its own request (diagnostics name it as the record). ``expect`` lists
  rule codes the example is known to trigger: they are required, so an expected code that is
  not reported fails the run (KP004 at error severity). ``config`` overrides the file's config.
  Without examples the file is rendered once with ``input.default``.
- ``shots``: multi-shot, a list of ``{prompt, duration}`` where each prompt is a Jinja template;
  becomes ``multi_prompt`` (with ``duration`` as the sum and ``shot_type: customize`` where the
  endpoint has it, unless config sets them). A file has a body or shots, not both.
- ``spec``: a structured :class:`~kling_prompt.spec.PromptSpec` rendered through the built-in
  templates instead of a body; its strings are literal.

Variables: every variable a template reads must be declared (else KP002, error, at the use);
every declared one must be read (else KP003, warning, at its key). A declared variable without a
value in an example (or in ``input.default`` when there are no examples) is KP002 for that
example, which is then not linted further.

The body is folded like a paragraph: lines are trimmed and joined with one space, a blank line
of the template starts a new paragraph (sent as one newline), runs of spaces shrink to one; a
line holding only tags or comments (``{% if %}``, ``{# kp-ignore... #}``) vanishes. Blocks use
``lstrip_blocks``. Templates render in
``jinja2.sandbox.SandboxedEnvironment`` with ``StrictUndefined``.

Suppressions are Jinja comments in the body or a shot prompt: ``{# kp-ignore: KP301 -- why #}``
covers its line (or, alone on a line, the next text line), ``kp-ignore-next-line`` the next line,
``kp-ignore-file`` the whole file.

Variants: ``name.variant.prompt`` next to ``name.prompt`` is a variant of it. Its front matter is
deep-merged over the base's (mappings merge key by key, lists and scalars replace, ``null``
removes a key); its body replaces the base's body when it is not blank, else the base's body is
used. Positions of inherited values point into the base file. A dotted name without a base file
is an ordinary prompt file.

Partials: ``_name.prompt`` files, included with ``{% include "_name.prompt" %}`` or
``{{ partial("name", key=value) }}``. They see the including file's variables. The name is
searched in the including file's folder, then its parents up to the library root; ``..``,
absolute paths and symlinks that resolve outside the root are refused. A partial's front matter
may hold ``metadata`` only. Partials are not linted as prompts on their own.

The library root is the nearest folder at or above the file that holds a ``kling-prompt.toml``
(or ``.kling-prompt.toml``, or a ``pyproject.toml`` with a ``[tool.kling-prompt]`` table), else
the file's own folder.

Positions: front-matter problems come from YAML node marks. Body text keeps a map from every
rendered character to the template: literal text maps 1:1 (verbatim spans), an expression's
output maps to its ``{{``, config strings map to their YAML scalar (1:1 for one-line and literal
``|`` block scalars). Jinja syntax errors are KP001 at the template line in the file.

Editors: ``kling-prompt schema --prompt-file > .kling-prompt.schema.json`` writes the JSON Schema
(draft 2020-12) of the front matter; point the YAML language server at it with the comment
``# yaml-language-server: $schema=./.kling-prompt.schema.json`` as the first front-matter line,
or map it to ``*.prompt`` in the editor's ``yaml.schemas`` setting. The same schema ships in the
package as ``kling_prompt/library/schema.json``.

This package is on the lint path: importing it loads no YAML or Jinja; PyYAML is imported to
read front matter and Jinja only for templates with Jinja syntax.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kling_prompt.library.core import (
    Compiled,
    Rendered,
    Variable,
    base_of,
    compile_text,
    find_root,
    is_partial,
)
from kling_prompt.library.frontmatter import Loc, Problem

if TYPE_CHECKING:
    from kling_prompt.linter.config import Config
    from kling_prompt.linter.diagnostic import Diagnostic
    from kling_prompt.linter.inputs import Loaded
    from kling_prompt.request import Request

__all__ = [
    "Compiled",
    "Loc",
    "Problem",
    "Rendered",
    "Variable",
    "base_of",
    "compile_file",
    "compile_text",
    "discover",
    "find_root",
    "front_matter_schema",
    "is_partial",
    "load_for_lint",
    "render_file",
    "requests",
    "schema_path",
    "to_diagnostic",
    "where",
]


def compile_file(path: str | os.PathLike[str], **options: Any) -> Compiled:
    """Read and compile a prompt file (see :func:`compile_text` for the options)."""
    name = os.fspath(path)
    return compile_text(name, _read_text(name), **options)


def where(problem: Problem) -> str:
    """``file:line:column`` of a problem (or just the file)."""
    loc = problem.loc
    return f"{loc.path}:{loc.line}:{loc.column}" if loc is not None else ""


def _read_text(name: str) -> str:
    from kling_prompt.errors import PromptFileError

    try:
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptFileError(f"{name}: no such file; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptFileError(f"{name}: cannot read the prompt file: {exc}") from None


def render_file(
    path: str | os.PathLike[str],
    *,
    example: str | None = None,
    variables: Mapping[str, Any] | None = None,
    endpoint: str | None = None,
) -> Request:
    """The request a prompt file makes, for one example or for its defaults plus ``variables``.

    String values in ``variables`` are converted to the declared type (``--var count=3``).
    Raises :class:`~kling_prompt.errors.PromptFileError` naming ``file:line:column`` and the fix.
    """
    from kling_prompt.errors import PromptFileError
    from kling_prompt.library.core import coerce, declared_variables

    name = os.fspath(path)
    text = _read_text(name)
    try:
        declared = declared_variables(name, text)
    except Problem as problem:
        raise PromptFileError(
            f"{where(problem) or name}: {problem.message} [{problem.code}]"
        ) from None
    overrides: dict[str, Any] = {}
    for key, value in (variables or {}).items():
        if key not in declared:
            known = ", ".join(declared) or "none"
            raise PromptFileError(
                f"{name}: --var {key}: the file declares no variable {key!r} (declared: {known})"
            )
        try:
            overrides[key] = coerce(declared[key], value) if isinstance(value, str) else value
        except ValueError as exc:
            raise PromptFileError(f"{name}: {exc}") from None
    compiled = compile_text(
        name,
        text,
        example=example,
        overrides=overrides,
        endpoint=endpoint,
        defaults_only=example is None,
    )
    _raise_first(compiled, hint_examples=example is None)
    if not compiled.requests:
        raise PromptFileError(
            f"{name}: nothing to render: a partial, or a file without body, shots or spec"
        )
    return compiled.requests[0].request


def _raise_first(compiled: Compiled, *, hint_examples: bool = False) -> None:
    from kling_prompt.errors import PromptFileError

    for problem in compiled.errors:
        message = problem.message
        if (
            hint_examples
            and problem.code == "KP002"
            and message.startswith("this file gives no value")
        ):
            names = list(
                (compiled.document.data.get("examples") or {}) if compiled.document else {}
            )
            message += "; or pass --var NAME=VALUE"
            if names:
                message += f" or --example NAME ({', '.join(map(str, names))})"
        raise PromptFileError(f"{where(problem) or compiled.path}: {message} [{problem.code}]")


def requests(path: str | os.PathLike[str], **options: Any) -> list[Rendered]:
    """Every request of a prompt file (one per example); raises on the first error."""
    compiled = compile_file(path, **options)
    _raise_first(compiled)
    return compiled.requests


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Prompt files under the given files and folders, partials left out, sorted."""
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = [
                    d
                    for d in dirs
                    if not d.startswith(".") and d not in ("node_modules", "__pycache__")
                ]
                for file in files:
                    if file.endswith(".prompt") and not file.startswith("_"):
                        found.add(Path(root) / file)
        elif path.suffix == ".prompt" and not is_partial(path):
            found.add(path)
    return sorted(found)


def to_diagnostic(problem: Problem, default_path: str) -> Diagnostic:
    """A :class:`Problem` as a lint diagnostic."""
    from kling_prompt.linter.diagnostic import Diagnostic
    from kling_prompt.linter.inputs import parse_error

    loc = problem.loc
    filename = loc.path if loc is not None else default_path
    if problem.code == "KP001":
        return parse_error(
            filename, problem.message, loc.line if loc else None, loc.column if loc else None
        )
    return Diagnostic(
        problem.code,
        problem.name,
        problem.severity,
        problem.message,
        filename=filename,
        line=loc.line if loc else None,
        column=loc.column if loc else None,
        end_line=loc.line if loc else None,
        end_column=loc.column if loc else None,
    )


def load_for_lint(
    loaded: Loaded, *, config: Config, mode: str | None = None, endpoint: str | None = None
) -> None:
    """Fill ``loaded.items`` (one per example) and ``loaded.errors`` for a ``.prompt`` file."""
    from kling_prompt.linter.inputs import Item

    compiled = compile_text(
        loaded.path,
        loaded.text or "",
        endpoint=endpoint or config.default_endpoint,
        mode=mode or config.default_mode,
    )
    for problem in compiled.problems:
        loaded.errors.append(to_diagnostic(problem, loaded.path))
    for rendered in compiled.requests:
        loaded.items.append(
            Item(
                rendered.request,
                rendered.directives,
                label=rendered.name,
                expect=rendered.expect or None,
            )
        )


def schema_path() -> Path:
    """The JSON Schema file of the front matter, inside the installed package."""
    return Path(__file__).with_name("schema.json")


def front_matter_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a prompt file's front matter."""
    import json

    data: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return data
