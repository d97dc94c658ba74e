"""``kling-prompt new`` and ``kling-prompt price``: start a prompt file, price a prompt library."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from kling_prompt.library.scaffold import SCAFFOLD_MODES

    new = subparsers.add_parser(
        "new",
        help="create a prompt file (.prompt) for a mode, ready to edit",
        description=(
            "Write NAME.prompt with front matter (model, config, input, metadata) and a body "
            "for the mode; the file lints clean as written."
        ),
    )
    new.add_argument(
        "name", metavar="NAME", help="file name without .prompt (name.variant makes a variant)"
    )
    new.add_argument("--mode", required=True, choices=SCAFFOLD_MODES, help="what the prompt makes")
    new.add_argument("--dir", default=".", metavar="DIR", help="folder to write into (default: .)")
    new.set_defaults(func=run_new)

    price = subparsers.add_parser(
        "price",
        help="estimate the cost of prompt files, per file and example, with a total",
        description=(
            "Render every prompt file (each example is one request) and estimate its cost from "
            "the catalog's prices (and price overrides in the config). Unknown prices are shown "
            "as 'unknown' and left out of the total."
        ),
    )
    price.add_argument("paths", nargs="+", metavar="PATH", help="prompt files or folders")
    price.set_defaults(func=run_price)


def run_new(args: argparse.Namespace) -> int:
    from kling_prompt.library.scaffold import scaffold

    name = str(args.name).removesuffix(".prompt")
    if not _NAME.match(name):
        print(
            f"kling-prompt new: {args.name!r} is not a file name; use letters, digits, '.', '-' "
            "and '_' (no folders: pass --dir)",
            file=sys.stderr,
        )
        return 2
    folder = Path(args.dir)
    target = folder / f"{name}.prompt"
    if target.exists():
        print(
            f"kling-prompt new: {target} already exists; choose another name or remove it",
            file=sys.stderr,
        )
        return 2
    try:
        folder.mkdir(parents=True, exist_ok=True)
        title = name.replace("-", " ").replace("_", " ").strip() or name
        target.write_text(scaffold(args.mode, f"{title} ({args.mode})"), encoding="utf-8")
    except OSError as exc:
        print(f"kling-prompt new: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"created {target}; edit it, then run 'kling-prompt lint {target}'")
    return 0


def run_price(args: argparse.Namespace) -> int:
    from kling_prompt import library

    files = library.discover(args.paths)
    missing = [p for p in args.paths if not Path(p).exists()]
    for path in missing:
        print(f"kling-prompt price: {path}: no such file or folder", file=sys.stderr)
    if not files:
        print("kling-prompt price: no prompt files (.prompt) found", file=sys.stderr)
        return 2
    rows: list[tuple[str, str, str, str, str]] = []
    total = 0.0
    priced = unknown = failed = 0
    for path in files:
        compiled = library.compile_file(path)
        if compiled.errors:
            failed += 1
            problem = compiled.errors[0]
            print(
                f"{library.where(problem) or path}: {problem.message} [{problem.code}]",
                file=sys.stderr,
            )
            rows.append((str(path), "-", "-", "-", "error"))
            continue
        for rendered in compiled.requests:
            request = rendered.request
            label = rendered.name or "(defaults)"
            usd, seconds, why = _estimate(request)
            if usd is None:
                unknown += 1
                rows.append((str(path), label, request.endpoint or "-", seconds, "unknown"))
                if why:
                    print(f"{path} [{label}]: price unknown: {why}", file=sys.stderr)
            else:
                priced += 1
                total += usd
                rows.append((str(path), label, request.endpoint or "-", seconds, f"${usd:.2f}"))
    headers = ("FILE", "EXAMPLE", "ENDPOINT", "SECONDS", "COST")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    requests = priced + unknown
    line = f"total: ${total:.2f} for {priced} of {requests} request{'s' if requests != 1 else ''}"
    if unknown:
        line += f" (excludes {unknown} with unknown price)"
    if failed:
        line += f"; {failed} file{'s' if failed != 1 else ''} could not be rendered"
    print(line)
    return 1 if failed or missing else 0


def _estimate(request: Any) -> tuple[float | None, str, str]:
    """USD (or None), billed seconds as text, and why the price is unknown."""
    from kling_prompt import catalog
    from kling_prompt.errors import KlingPromptError
    from kling_prompt.linter.config import load_config

    if not request.endpoint:
        return None, "-", "no model: add 'model:' to the front matter"
    try:
        config = load_config(start=request.path)
        overrides = config.prices or None
    except KlingPromptError:
        overrides = None
    try:
        estimate = catalog.estimate_cost(
            request.endpoint,
            request.arguments,
            overrides=overrides,
            input_seconds=_input_seconds(request),
        )
    except (KlingPromptError, LookupError) as exc:
        return None, "-", str(exc)
    seconds = f"{estimate.seconds:g}" if estimate.seconds is not None else "-"
    return estimate.usd, seconds, "" if estimate.usd is not None else estimate.basis


def _input_seconds(request: Any) -> float | None:
    """The length of a local input video, when one is given and can be measured."""
    value = request.arguments.get("video_url")
    if not isinstance(value, str):
        return None
    try:
        from kling_prompt.linter.checks.payload import local_path, probe
    except ImportError:
        return None
    path = local_path(value, request.path)
    if path is None:
        return None
    seconds = probe(path, "video").get("duration")
    return float(seconds) if isinstance(seconds, int | float) else None
