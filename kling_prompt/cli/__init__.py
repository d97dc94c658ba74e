"""The ``kling-prompt`` command line: thin, it parses flags and calls the library.

Each command lives in its own module under ``kling_prompt.cli`` that exposes
``register(subparsers)``; modules import their heavy dependencies inside the handler, so that
``kling-prompt lint`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Any

# Command modules in the order their commands appear in ``--help``.
COMMAND_MODULES = (
    "lint_cmd",
    "rules_cmd",
    "render_cmd",
    "catalog_cmd",
    "library_cmd",
    "run_cmd",
    "craft_cmd",
)

# Which module defines each command, so that running one command builds only its parser (a
# test checks this table against what the modules register).
COMMAND_OWNERS = {
    "lint": "lint_cmd",
    "rule": "rules_cmd",
    "rules": "rules_cmd",
    "render": "render_cmd",
    "endpoints": "catalog_cmd",
    "endpoint": "catalog_cmd",
    "schema": "catalog_cmd",
    "new": "library_cmd",
    "price": "library_cmd",
    "run": "run_cmd",
    "jobs": "run_cmd",
    "resume": "run_cmd",
    "cancel": "run_cmd",
    "troubleshoot": "craft_cmd",
    "stages": "craft_cmd",
    "presets": "craft_cmd",
}

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _terminal_width() -> int:
    """The terminal's columns as ``shutil.get_terminal_size()`` gives them (``COLUMNS``, then the
    terminal of stdout, then 80), without importing shutil and the compression modules it
    brings: argparse would import it for every command line, help or not."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, with the width found without shutil."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _terminal_width() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line naming the problem (and ``--help`` as the fix)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``command``, only that command's module is loaded."""
    from kling_prompt import __version__

    parser = _Parser(
        prog="kling-prompt",
        description="Write, check and send prompts for Kling video models on fal.ai.",
    )
    parser.add_argument("--version", action="version", version=f"kling-prompt {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show tracebacks for internal errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    owner = COMMAND_OWNERS.get(command or "")
    for name in (owner,) if owner else COMMAND_MODULES:
        qualified = f"{__name__}.{name}"
        if importlib.util.find_spec(qualified) is None:
            continue
        module = importlib.import_module(qualified)
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    from kling_prompt.errors import KlingPromptError

    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in arguments if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    verbose = bool(args.verbose) or os.environ.get("KLING_PROMPT_VERBOSE") == "1"
    try:
        code: int = args.func(args)
        return code
    except KlingPromptError as exc:
        if verbose:
            raise
        print(f"kling-prompt: error: {_redact(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("kling-prompt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # an internal failure: one line, traceback with --verbose
        if verbose:
            raise
        print(
            f"kling-prompt: internal error: {type(exc).__name__}: {_redact(str(exc))} "
            "(run with --verbose for the traceback)",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _redact(text: str) -> str:
    key = os.environ.get("FAL_KEY")
    if key and len(key) >= 4:
        text = text.replace(key, "***")
    return text


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
