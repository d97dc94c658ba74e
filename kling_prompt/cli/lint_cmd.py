"""``kling-prompt lint PATH...``: lint prompt files, payloads and datasets, ruff-style.

Runs on every commit, so this module imports only argparse and os at load time; the engine is
imported by the handler. Exit codes: 0 clean, 1 a diagnostic at or above ``--fail-on`` (or, with
``--diff``, a file that would change), 2 a usage error or an internal failure.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kling_prompt.errors import KlingPromptError

if TYPE_CHECKING:
    from kling_prompt.linter.config import Config
    from kling_prompt.linter.diagnostic import Diagnostic
    from kling_prompt.linter.engine import Linter
    from kling_prompt.linter.formats import FileResult
    from kling_prompt.linter.inputs import Loaded

FORMAT_CHOICES = ("full", "concise", "json", "json-lines", "github", "sarif", "junit", "gitlab")
ENV_FORMAT = "KLING_PROMPT_OUTPUT_FORMAT"
FILES_PER_JOB = 64


class UsageError(KlingPromptError):
    """A bad path, flag or environment value given to ``kling-prompt lint``."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lint",
        help="lint prompts, fal payloads and JSON Lines datasets",
        description=(
            'Lint .txt prompts, .prompt files, JSON payloads ({"endpoint", "arguments"}) and '
            "JSON Lines datasets; folders are searched recursively and '-' reads stdin. "
            "Settings come from [tool.kling-prompt] in pyproject.toml (or kling-prompt.toml); "
            "flags override them."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders to lint ('-' for stdin; default: .)",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--output-format",
        choices=FORMAT_CHOICES,
        help=f"how to print diagnostics (default: full on a terminal, else concise; or ${ENV_FORMAT})",
    )
    out.add_argument(
        "--statistics", action="store_true", help="print the number of diagnostics per rule instead"
    )
    out.add_argument("-q", "--quiet", action="store_true", help="print diagnostics, but no summary")
    out.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the full format (honours NO_COLOR, FORCE_COLOR)",
    )
    out.add_argument(
        "--show-info", action="store_true", default=None, help="show info-level diagnostics"
    )
    rules = parser.add_argument_group("rule selection")
    rules.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="comma-separated codes, prefixes or names to enable instead of the config's",
    )
    rules.add_argument(
        "--extend-select",
        action="append",
        metavar="RULES",
        help="rules to enable on top of the selection",
    )
    rules.add_argument(
        "--ignore",
        action="append",
        metavar="RULES",
        help="rules to disable (added to the config's)",
    )
    rules.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: the nearest kling-prompt.toml or pyproject.toml)",
    )
    rules.add_argument("--mode", help="mode for .txt prompts, e.g. text-to-video, motion-control")
    rules.add_argument("--endpoint", help="fal endpoint id for .txt prompts")
    rules.add_argument(
        "--stdin-filename", metavar="NAME", help="name for '-' input; its suffix picks the kind"
    )
    status = parser.add_argument_group("exit status")
    status.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when diagnostics are found"
    )
    status.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        help="lowest severity that makes lint exit 1 (default: error)",
    )
    fixing = parser.add_argument_group("fixes")
    fixing.add_argument("--fix", action="store_true", help="apply safe fixes to the files")
    fixing.add_argument(
        "--unsafe-fixes", action="store_true", help="apply unsafe fixes too (with --fix or --diff)"
    )
    fixing.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff instead of writing them",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes (default: one per 64 files, up to the CPUs)",
    )
    parser.set_defaults(func=run)


# -- settings ------------------------------------------------------------------------------------


def _split(values: Sequence[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _output_format(args: argparse.Namespace) -> str:
    if args.output_format:
        return str(args.output_format)
    env = os.environ.get(ENV_FORMAT)
    if env:
        if env not in FORMAT_CHOICES:
            raise UsageError(
                f"${ENV_FORMAT}={env!r} is not an output format; use one of {', '.join(FORMAT_CHOICES)}"
            )
        return env
    return "full" if sys.stdout.isatty() else "concise"


def use_color(choice: str, stream: Any) -> bool:
    """Colour for ``--color``: flags win, then NO_COLOR, then FORCE_COLOR, then whether it is a terminal."""
    if choice in ("always", "never"):
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _check_paths(paths: Sequence[str], stdin_filename: str | None) -> None:
    for path in paths:
        if path == "-":
            continue
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such file or directory; check the path")
        if not os.access(path, os.R_OK):
            raise UsageError(f"{path}: permission denied; make it readable or leave it out")
    if stdin_filename and "-" not in paths:
        raise UsageError(
            "--stdin-filename needs '-' among the paths, to read the prompt from stdin"
        )


def _settings(args: argparse.Namespace) -> tuple[Config, Linter]:
    from kling_prompt.linter.config import MODES, load_config, matches_any
    from kling_prompt.linter.engine import Linter

    if args.mode is not None and args.mode not in MODES:
        raise UsageError(f"--mode {args.mode!r} is not a mode; use one of {', '.join(MODES)}")
    if args.jobs is not None and args.jobs < 0:
        raise UsageError("--jobs must be 0 (automatic) or a positive number of processes")
    start = next((p for p in args.paths if p != "-"), args.stdin_filename)
    config = load_config(args.config, start=start)
    select, extend, ignore = _split(args.select), _split(args.extend_select), _split(args.ignore)
    flags: dict[str, Any] = {
        "select": select,
        "extend_select": None if extend is None else [*config.extend_select, *extend],
        "ignore": None if ignore is None else [*config.ignore, *ignore],
        "fail_on": args.fail_on,
        "show_info": args.show_info,
    }
    config = config.overlay(**flags)
    linter = Linter(config, skip_hidden=True)
    for flag, selectors in (
        ("--select", select),
        ("--extend-select", extend),
        ("--ignore", ignore),
    ):
        for selector in selectors or ():
            if not matches_any(selector, linter.names):
                raise UsageError(
                    f"{flag} {selector!r} matches no rule; list the rules with 'kling-prompt rule --all'"
                )
    if args.endpoint is not None:
        from kling_prompt.linter.engine import endpoint_info

        if endpoint_info(args.endpoint) is None:
            raise UsageError(
                f"--endpoint {args.endpoint!r} is not a known endpoint; list them with 'kling-prompt endpoints'"
            )
    return config, linter


# -- linting one input ---------------------------------------------------------------------------


class Job:
    """What a worker needs to lint and fix one input (picklable)."""

    def __init__(self, config: Config, args: argparse.Namespace) -> None:
        self.config = config
        self.mode: str | None = args.mode
        self.endpoint: str | None = args.endpoint
        self.fix = bool(args.fix or args.diff)
        self.unsafe = bool(args.unsafe_fixes)
        self.show_info = bool(config.show_info) or config.fail_on == "info"


def _collect(
    linter: Linter, loaded: Loaded, diagnostics: list[list[Diagnostic]], show_info: bool
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for error in loaded.errors:
        # Loaders report KP001 and, for prompt files, KP002/KP003: each keeps its own code.
        if linter.enabled(error.code, error.filename or loaded.path):
            error.severity = linter.severity.get(error.code, error.severity)
            out.append(error)
    for diags in diagnostics:
        out.extend(diags)
    if not show_info:
        out = [d for d in out if d.severity != "info"]
    out.sort(key=lambda d: (d.filename or "", d.record or "", d.line or 0, d.column or 0, d.code))
    return out


def _lint_loaded(linter: Linter, loaded: Loaded) -> list[list[Diagnostic]]:
    return [linter.lint(item.request, directives=item.directives) for item in loaded.items]


def process(
    job: Job,
    linter: Linter,
    path: str,
    stdin_text: str | None = None,
    stdin_name: str | None = None,
) -> FileResult:
    """Lint (and with ``job.fix``, fix in memory) one input."""
    from kling_prompt.linter import inputs
    from kling_prompt.linter.formats import FileResult

    if path == inputs.STDIN:
        text = stdin_text or ""
        if stdin_name:
            loaded = inputs.parse(
                stdin_name, text, config=job.config, mode=job.mode, endpoint=job.endpoint
            )
        else:
            loaded = inputs.load(
                inputs.STDIN,
                config=job.config,
                mode=job.mode,
                endpoint=job.endpoint,
                stdin_text=text,
            )
    else:
        loaded = inputs.load(path, config=job.config, mode=job.mode, endpoint=job.endpoint)
    display = loaded.path
    diagnostics = _lint_loaded(linter, loaded)
    if not job.fix or loaded.text is None or loaded.errors:
        return FileResult(
            display, loaded.text, _collect(linter, loaded, diagnostics, job.show_info)
        )

    from kling_prompt.linter.fixes import fix_text

    kind = loaded.kind

    def relint(text: str) -> tuple[Loaded, list[list[Diagnostic]]]:
        if text == loaded.text:
            return loaded, diagnostics
        again = inputs.parse(
            display, text, config=job.config, mode=job.mode, endpoint=job.endpoint, kind=kind
        )
        return again, _lint_loaded(linter, again)

    outcome = fix_text(loaded.text, relint, unsafe=job.unsafe)
    final = _collect(linter, outcome.loaded, outcome.diagnostics, job.show_info)
    changed = outcome.text if outcome.text != loaded.text else None
    return FileResult(
        display,
        loaded.text,
        final,
        fixed=outcome.applied,
        unfixable=outcome.unfixable,
        fixed_text=changed,
    )


_WORKER: dict[str, Any] = {}


def _init_worker(job: Job) -> None:
    from kling_prompt.linter.engine import Linter

    _WORKER["job"] = job
    _WORKER["linter"] = Linter(job.config, skip_hidden=True)


def _work(paths: list[str]) -> list[FileResult]:
    job: Job = _WORKER["job"]
    linter: Linter = _WORKER["linter"]
    return [process(job, linter, path) for path in paths]


def default_jobs(files: int) -> int:
    """One process per 64 files, at most one per CPU."""
    return max(1, min(os.cpu_count() or 1, files // FILES_PER_JOB))


def lint_all(job: Job, linter: Linter, paths: list[str], jobs: int) -> list[FileResult]:
    """Lint files, in worker processes when ``jobs`` > 1; results keep the order of ``paths``."""
    if jobs <= 1 or len(paths) < 2:
        return [process(job, linter, path) for path in paths]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = max(jobs * 4, 1)
    size = max(1, -(-len(paths) // chunks))
    parts = [paths[i : i + size] for i in range(0, len(paths), size)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    results: list[FileResult] = []
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(job,)
    ) as pool:
        for part in pool.map(_work, parts):
            results.extend(part)
    return results


# -- the command ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    from kling_prompt.linter import inputs
    from kling_prompt.linter.diagnostic import SEVERITY_RANK
    from kling_prompt.linter.formats import FileResult, render, statistics

    paths = list(args.paths) or ["."]
    fmt = _output_format(args)
    _check_paths(paths, args.stdin_filename)
    if args.unsafe_fixes and not (args.fix or args.diff):
        raise UsageError("--unsafe-fixes applies only with --fix or --diff; add one of them")
    config, linter = _settings(args)
    job = Job(config, args)

    files: list[str] = []
    seen: set[str] = set()
    for path in inputs.discover(paths, config):
        path = path if path == inputs.STDIN else os.path.normpath(path)
        if path not in seen:
            seen.add(path)
            files.append(path)
    stdin_text = sys.stdin.read() if inputs.STDIN in seen else None

    disk = [f for f in files if f != inputs.STDIN]
    jobs = args.jobs if args.jobs else default_jobs(len(disk))
    by_path = {r.path: r for r in lint_all(job, linter, disk, jobs)} if disk else {}
    results: list[FileResult] = []
    for path in files:
        if path == inputs.STDIN:
            results.append(process(job, linter, path, stdin_text, args.stdin_filename))
        else:
            results.append(by_path[path])
    if not files and not args.quiet:
        print(
            "kling-prompt: warning: no prompt files (.prompt, .txt, .json, .jsonl) found",
            file=sys.stderr,
        )

    config_diags = [d for d in linter.config_diagnostics() if job.show_info or d.severity != "info"]
    if config_diags:
        cpath = config.path or "config"
        text = None
        try:
            with open(cpath, encoding="utf-8", newline="") as fh:
                text = fh.read()
        except OSError:
            pass
        results.insert(0, FileResult(cpath, text, config_diags))

    to_stdout_fix = args.fix and not args.diff and stdin_text is not None
    report = sys.stderr if to_stdout_fix else sys.stdout
    changed = [r for r in results if r.fixed_text is not None]
    if args.diff:
        _print_diff(changed)
        if not args.quiet:
            total = sum(r.fixed for r in changed)
            print(f"Would fix {total} issue(s) in {len(changed)} file(s).", file=sys.stderr)
        return 1 if changed and not args.exit_zero else 0
    if args.fix:
        for result in changed:
            assert result.fixed_text is not None
            if result.path == inputs.STDIN or (
                args.stdin_filename
                and result.path == args.stdin_filename
                and stdin_text is not None
            ):
                continue
            with open(result.path, "w", encoding="utf-8", newline="") as fh:
                fh.write(result.fixed_text)
        if to_stdout_fix:
            stdin_result = next(r for r in results if r.path in (inputs.STDIN, args.stdin_filename))
            sys.stdout.write(
                stdin_result.fixed_text if stdin_result.fixed_text is not None else stdin_text or ""
            )

    if args.statistics:
        report.write(statistics(results, as_json=fmt in ("json", "json-lines")))
    else:
        rules: list[dict[str, Any]] = []
        if fmt == "sarif":
            from kling_prompt.linter.loader import load_documents

            rules = list(load_documents()[0])
        color = use_color(args.color, report) and fmt == "full"
        report.write(
            render(fmt, results, color=color, rules=rules, unsafe_fixes=bool(args.unsafe_fixes))
        )
        if fmt in ("full", "concise") and not args.quiet:
            report.write(_summary(results, fixing=bool(args.fix), unsafe=bool(args.unsafe_fixes)))
    report.flush()

    threshold = SEVERITY_RANK[config.fail_on]
    failing = any(
        SEVERITY_RANK.get(d.severity, 2) >= threshold for r in results for d in r.diagnostics
    )
    return 1 if failing and not args.exit_zero else 0


def _print_diff(changed: Sequence[FileResult]) -> None:
    import difflib

    for result in changed:
        before = (result.text or "").splitlines(keepends=True)
        after = (result.fixed_text or "").splitlines(keepends=True)
        for line in difflib.unified_diff(before, after, fromfile=result.path, tofile=result.path):
            sys.stdout.write(
                line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(results: Sequence[FileResult], *, fixing: bool, unsafe: bool) -> str:
    diags = [d for r in results for d in r.diagnostics]
    lines: list[str] = []
    fixed = sum(r.fixed for r in results)
    if fixing and fixed:
        files = sum(1 for r in results if r.fixed)
        lines.append(f"Fixed {_plural(fixed, 'issue')} in {_plural(files, 'file')}.")
    if not diags:
        lines.append("All checks passed!")
        return "\n".join(lines) + "\n"
    counts = {
        sev: sum(1 for d in diags if d.severity == sev) for sev in ("error", "warning", "info")
    }
    detail = ", ".join(_plural(n, sev) for sev, n in counts.items() if n)
    files = sum(1 for r in results if r.diagnostics)
    lines.append(
        f"Found {_plural(len(diags), 'diagnostic')} in {_plural(files, 'file')} ({detail})."
    )
    safe = sum(1 for d in diags if d.fix is not None and (d.fix.safe or unsafe))
    hidden = sum(1 for d in diags if d.fix is not None and not d.fix.safe and not unsafe)
    unfixable = sum(r.unfixable for r in results)
    if safe and not fixing:
        lines.append(f"[*] {safe} fixable with the --fix option.")
    if hidden:
        lines.append(
            f"{_plural(hidden, 'more fix')} available with --fix --unsafe-fixes.".replace(
                "fixs", "fixes"
            )
        )
    if unfixable:
        lines.append(
            f"{_plural(unfixable, 'fix')} could not be applied: the text is not written verbatim in the file "
            "(template output or an escaped string).".replace("fixs", "fixes")
        )
    return "\n".join(lines) + "\n"
