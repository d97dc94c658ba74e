"""``kling-prompt render FILE``: show the prompt (or the whole request) a spec or prompt file makes.

FILE is YAML or JSON describing a :class:`~kling_prompt.spec.PromptSpec` (``-`` reads stdin), or
a ``.prompt`` file (see :mod:`kling_prompt.library`), rendered for one example (``--example``)
or for its defaults plus ``--var name=value``. Loaders are chosen by file suffix in
:data:`LOADERS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kling_prompt.request import Request


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render a prompt spec file to its prompt text or fal request",
        description=(
            "Render a prompt file (.prompt) or a prompt spec (YAML or JSON; '-' for stdin) and "
            "print the prompt text, or with --json the whole request: endpoint, mode and fal "
            "arguments."
        ),
    )
    parser.add_argument(
        "spec_file", metavar="FILE", help="a .prompt file, a YAML or JSON spec file, or '-'"
    )
    parser.add_argument(
        "--example", metavar="NAME", help="(.prompt) render this example of the file's examples"
    )
    parser.add_argument(
        "--var",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="(.prompt) set a variable; repeat for more (converted to the declared type)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the whole request as JSON, not just the text"
    )
    parser.add_argument(
        "--source-map",
        action="store_true",
        help="include the source map (implies --json): which spec field each span came from",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = str(args.spec_file)
    suffix = "" if source == "-" else Path(source).suffix.lower()
    loader = LOADERS.get(suffix, _load_spec_file)
    if loader is _load_prompt_file:
        request = _load_prompt_file(source, example=args.example, variables=_variables(args.var))
    elif args.example or args.var:
        from kling_prompt.errors import SpecError

        raise SpecError(f"{source}: --example and --var apply to .prompt files only; remove them")
    else:
        request = loader(source)
    if args.json or args.source_map:
        print(request.to_json(source_map=bool(args.source_map)))
    else:
        from kling_prompt.rendering import prompt_text

        print(prompt_text(request))
    return 0


def _read(source: str) -> str:
    from kling_prompt.errors import SpecError

    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{source}: no such file; give a YAML or JSON spec file or '-'") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{source}: cannot read the spec file: {exc}") from None


def _load_spec_file(source: str) -> Request:
    """A YAML or JSON spec file (JSON is YAML, so one parser reads both)."""
    import yaml

    from kling_prompt.errors import KlingPromptError, SpecError, ValidationError
    from kling_prompt.rendering import render
    from kling_prompt.spec import load_spec

    name = "<stdin>" if source == "-" else source
    text = _read(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{where}: not valid YAML or JSON: {problem}") from None
    spec = load_spec(data, source=name)
    try:
        request = render(spec)
    except ValidationError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise SpecError(f"{name}: {problems} (endpoint {exc.endpoint_id})") from None
    except KlingPromptError as exc:
        raise SpecError(f"{name}: {' '.join(str(exc).split())}") from None
    request.path = None if source == "-" else source
    return request


def _variables(pairs: list[str]) -> dict[str, str]:
    from kling_prompt.errors import PromptFileError

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise PromptFileError(f"--var {pair!r}: write NAME=VALUE, e.g. --var city=Lisbon")
        out[name.strip()] = value
    return out


def _load_prompt_file(
    source: str, example: str | None = None, variables: dict[str, str] | None = None
) -> Request:
    """A ``.prompt`` file rendered for one example, or for its defaults plus ``variables``."""
    from kling_prompt.library import render_file

    return render_file(source, example=example, variables=variables)


# File suffix -> loader; anything not listed is read as a YAML or JSON spec.
LOADERS: dict[str, Callable[[str], Request]] = {
    ".yaml": _load_spec_file,
    ".yml": _load_spec_file,
    ".json": _load_spec_file,
    ".prompt": _load_prompt_file,
}
