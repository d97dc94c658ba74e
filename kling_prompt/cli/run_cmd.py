"""``kling-prompt run`` sends prompts to fal; ``kling-prompt jobs`` reads the ledger.

``run`` loads the inputs, lints, validates and prices every request, shows the plan with the
cost of each job and the total, asks before spending (``--yes`` skips the question; without a
terminal it refuses), then sends the jobs one by one with progress lines, downloads the videos
and records everything in the ledger. ``--sandbox`` runs the same flow against the built-in
local fal look-alike: no key, no network, nothing billed.

Exit status: 0 when every job completed, 1 when any job failed or was blocked, 2 for usage
errors (bad flags, missing inputs, unreadable files, no confirmation possible).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from kling_prompt.dispatch import Dispatcher, Prepared, ProgressEvent
    from kling_prompt.dispatch.ledger import JobRow
    from kling_prompt.lint.inputs import Item

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SANDBOX_LATENCY = 0.6
SANDBOX_POLL = 0.15


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="send prompts to fal.ai: plan, confirm, submit, follow, download",
        description="Lint, validate and price the requests, show the plan and its cost, ask, "
        "then send them to fal and download the videos. Every job is recorded in the ledger.",
    )
    run.add_argument(
        "paths",
        nargs="+",
        metavar="FILE|DIR|JSONL",
        help="payload files (.json, .jsonl, .txt, .prompt) or folders to search",
    )
    run.add_argument("-y", "--yes", action="store_true", help="do not ask before spending")
    run.add_argument(
        "--dry-run", action="store_true", help="show the plan and its cost; send nothing"
    )
    run.add_argument(
        "--max-cost",
        type=_usd,
        metavar="USD",
        help="refuse to spend more than this (estimated) in this run; jobs of unknown price "
        "are then refused too",
    )
    run.add_argument("--out", default=".", metavar="DIR", help="where videos go (default: .)")
    run.add_argument("--force", action="store_true", help="send requests despite lint errors")
    run.add_argument(
        "--sandbox",
        action="store_true",
        help="run against the built-in local fal sandbox (no key, no network, nothing billed)",
    )
    run.add_argument(
        "--ledger", metavar="PATH", help="ledger file (default: .kling-prompt/ledger.sqlite3)"
    )
    run.add_argument(
        "--timeout",
        type=_seconds,
        default=1800.0,
        metavar="SECONDS",
        help="cancel a job that has not finished this long after submit (default: 1800)",
    )
    run.add_argument(
        "--poll-interval",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="seconds between status checks (default: 2; 0.15 with --sandbox)",
    )
    run.add_argument("--endpoint", help="endpoint for inputs that do not name one (.txt files)")
    run.add_argument("--config", help="config file (default: the nearest pyproject.toml)")
    run.add_argument("-q", "--quiet", action="store_true", help="no fal log lines")
    run.set_defaults(func=_run)

    jobs = subparsers.add_parser(
        "jobs",
        help="list the jobs in the ledger ('jobs show ID', 'jobs resume ID')",
        description="List the jobs recorded in the ledger, newest first.",
    )
    _ledger_flag(jobs, argparse.SUPPRESS)
    jobs.add_argument("--state", help="only jobs in this state (e.g. failed, submitting)")
    jobs.add_argument("--limit", type=int, default=50, help="how many (default: 50)")
    jobs.add_argument("--output-format", choices=("table", "json"), default="table")
    jobs.set_defaults(func=_jobs, ledger=None)
    actions = jobs.add_subparsers(dest="jobs_action", metavar="ACTION")
    show = actions.add_parser("show", help="show one job: arguments, state history, result")
    show.add_argument("job_id", type=int, metavar="ID")
    _ledger_flag(show, argparse.SUPPRESS)
    show.add_argument("--output-format", choices=("text", "json"), default="text")
    show.set_defaults(func=_show)
    resume = actions.add_parser(
        "resume", help="follow a job that was interrupted and download its result"
    )
    resume.add_argument("job_id", type=int, metavar="ID")
    _ledger_flag(resume, argparse.SUPPRESS)
    resume.add_argument("--out", default=".", metavar="DIR")
    resume.add_argument("--timeout", type=_seconds, default=1800.0, metavar="SECONDS")
    resume.set_defaults(func=_resume)


def _ledger_flag(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--ledger",
        metavar="PATH",
        default=default,
        help="ledger file (default: .kling-prompt/ledger.sqlite3)",
    )


def _usd(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in USD, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the amount must be >= 0")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("seconds must be > 0")
    return value


def _money(usd: float | None) -> str:
    return "unknown" if usd is None else f"${usd:.2f}"


class _Job:
    """One line of the plan: the loaded item, and either its preparation or why it is blocked."""

    __slots__ = ("blocked", "item", "label", "prepared")

    def __init__(self, item: Item, label: str) -> None:
        self.item = item
        self.label = label
        self.prepared: Prepared | None = None
        self.blocked: str | None = None


# ----- run -----


def _run(args: argparse.Namespace) -> int:
    from kling_prompt.lint import inputs
    from kling_prompt.lint.config import load_config

    missing = [p for p in args.paths if p != "-" and not os.path.exists(p)]
    if missing:
        _err(f"no such file or folder: {', '.join(missing)}")
        return EXIT_USAGE
    if "-" in args.paths:
        _err("run reads files, not stdin: save the payload to a file first")
        return EXIT_USAGE
    config = load_config(args.config, start=args.paths[0])
    files = list(inputs.discover(args.paths, config))
    if not files:
        _err(f"no inputs (.json, .jsonl, .txt, .prompt) found in {', '.join(args.paths)}")
        return EXIT_USAGE
    items: list[tuple[Item, str]] = []
    parse_errors = 0
    for path in files:
        loaded = inputs.load(path, config=config, endpoint=args.endpoint)
        for diag in loaded.errors:
            where = f"{diag.filename}:{diag.line}:{diag.column}" if diag.line else diag.filename
            _err(f"{where}: {diag.code} {diag.message}")
            parse_errors += 1
        for item in loaded.items:
            request = item.request
            label = f"{request.path}#{request.record}" if request.record else str(request.path)
            items.append((item, label))
    if parse_errors:
        _err(f"{parse_errors} input(s) could not be read; fix them first (nothing was sent)")
        return EXIT_USAGE
    if not args.sandbox and not args.dry_run and not _have_key():
        from kling_prompt.dispatch.errors import KEY_HELP

        _err(f"no fal key: {KEY_HELP}")
        return EXIT_USAGE

    with _environment(args.sandbox) as realm:
        from kling_prompt.dispatch import Dispatcher

        printer = _Printer(sys.stdout, total=len(items), quiet=args.quiet)
        poll = args.poll_interval or (SANDBOX_POLL if args.sandbox else 2.0)
        with Dispatcher(
            ledger=args.ledger,
            out_dir=args.out,
            max_cost=args.max_cost,
            force=args.force,
            timeout=args.timeout,
            poll_interval=poll,
            progress=printer,
            realm=realm,
            lint_config=config,
        ) as dispatcher:
            jobs = _plan(dispatcher, items, args.max_cost)
            _print_plan(jobs, args, sys.stdout)
            runnable = [j for j in jobs if j.prepared is not None]
            blocked = len(jobs) - len(runnable)
            if args.dry_run:
                return EXIT_FAILED if blocked else EXIT_OK
            if not runnable:
                print("Nothing to send.")
                return EXIT_FAILED
            total = _total(runnable)
            if args.max_cost is not None and total[0] > args.max_cost + 1e-9:
                _err(
                    f"the plan costs an estimated {_money(total[0])}, over --max-cost "
                    f"{_money(args.max_cost)}; nothing was sent"
                )
                return EXIT_FAILED
            if not args.yes:
                answer = _confirm(runnable, total, args.sandbox)
                if answer is None:
                    return EXIT_USAGE
                if not answer:
                    print("Nothing sent.")
                    return EXIT_FAILED
            failed = _send(dispatcher, runnable, printer)
            completed = len(runnable) - failed
            print(
                f"\n{completed} completed, {failed} failed, {blocked} blocked; "
                f"ledger: {dispatcher.ledger.path}"
            )
            return EXIT_OK if failed == 0 and blocked == 0 else EXIT_FAILED


def _have_key() -> bool:
    return bool(
        os.environ.get("FAL_KEY")
        or (os.environ.get("FAL_KEY_ID") and os.environ.get("FAL_KEY_SECRET"))
    )


@contextmanager
def _environment(sandbox: bool) -> Iterator[str]:
    """The realm to record; with ``sandbox``, a running sandbox and this process's env set."""
    if not sandbox:
        yield "fal"
        return
    from kling_prompt.errors import DispatchError
    from kling_prompt.sandbox import Sandbox, SandboxError

    server = Sandbox(latency=SANDBOX_LATENCY)
    try:
        server.start()
    except SandboxError as exc:
        raise DispatchError(f"--sandbox cannot start: {exc}") from None
    try:
        with server.environment():
            print(f"Sandbox: a local fal look-alike on 127.0.0.1:{server.port}; nothing is billed.")
            yield f"sandbox:{server.port}"
    finally:
        server.stop()


def _plan(
    dispatcher: Dispatcher, items: list[tuple[Item, str]], max_cost: float | None
) -> list[_Job]:
    from kling_prompt.errors import KlingPromptError, ValidationError

    jobs: list[_Job] = []
    for item, label in items:
        job = _Job(item, label)
        try:
            job.prepared = dispatcher.prepare(item.request, directives=item.directives)
        except ValidationError as exc:
            job.blocked = "; ".join(str(p) for p in exc.problems)
        except KlingPromptError as exc:
            job.blocked = str(exc)
        if job.prepared is not None and max_cost is not None and job.prepared.usd is None:
            job.blocked = "its price is unknown, so it cannot be checked against --max-cost"
            job.prepared = None
        jobs.append(job)
    return jobs


def _total(jobs: list[_Job]) -> tuple[float, int]:
    """Known total in USD, and how many jobs have an unknown price."""
    known = [j.prepared.usd for j in jobs if j.prepared is not None and j.prepared.usd is not None]
    unknown = sum(1 for j in jobs if j.prepared is not None and j.prepared.usd is None)
    return sum(known), unknown


def _short(endpoint: str) -> str:
    return endpoint.removeprefix("fal-ai/kling-video/")


def _print_plan(jobs: list[_Job], args: argparse.Namespace, out: TextIO) -> None:
    rows = []
    for n, job in enumerate(jobs, 1):
        prep = job.prepared
        if prep is None:
            endpoint = _short(job.item.request.endpoint or "-")
            rows.append((str(n), job.label, endpoint, "BLOCKED", "-"))
        else:
            rows.append(
                (str(n), job.label, _short(prep.endpoint), prep.summary(), _money(prep.usd))
            )
    header = ("#", "input", "endpoint", "payload", "cost")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    print(f"Plan: {len(jobs)} job(s){' (sandbox)' if args.sandbox else ''}", file=out)
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        print("  " + "  ".join(cells) + "  " + row[4].rjust(8), file=out)
    for n, job in enumerate(jobs, 1):
        if job.blocked:
            print(f"  [{n}] blocked: {job.blocked}", file=out)
        elif job.prepared is not None:
            for note in job.prepared.notes:
                print(f"  [{n}] note: {note}", file=out)
    runnable = [j for j in jobs if j.prepared is not None]
    known, unknown = _total(runnable)
    extra = f" + {unknown} job(s) of unknown price" if unknown else ""
    free = " (sandbox: nothing is billed)" if args.sandbox else ""
    print(f"Total: {_money(known)}{extra} for {len(runnable)} job(s){free}", file=out)


def _confirm(jobs: list[_Job], total: tuple[float, int], sandbox: bool) -> bool | None:
    if not sys.stdin.isatty():
        _err(
            "refusing to spend without confirmation: no terminal to ask on; pass --yes to send "
            "without asking (or --dry-run to only see the plan)"
        )
        return None
    known, unknown = total
    extra = f" plus {unknown} of unknown price" if unknown else ""
    where = "the sandbox" if sandbox else "fal.ai"
    prompt = f"Send {len(jobs)} job(s) to {where} for an estimated {_money(known)}{extra}? [y/N] "
    try:
        answer = input(prompt)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _send(dispatcher: Dispatcher, jobs: list[_Job], printer: _Printer) -> int:
    from kling_prompt.errors import KlingPromptError, ValidationError

    failed = 0
    for n, job in enumerate(jobs, 1):
        assert job.prepared is not None
        printer.current = n
        try:
            result = dispatcher.run(job.prepared)
        except ValidationError as exc:
            failed += 1
            problems = "; ".join(str(p) for p in exc.problems)
            printer.line(job.prepared.label, f"FAILED: fal rejected the arguments: {problems}")
        except KlingPromptError as exc:
            failed += 1
            printer.line(job.prepared.label, f"FAILED: {exc}")
        else:
            where = result.video_path or result.record_path
            printer.line(job.prepared.label, f"done: {where} (job {result.job_id})")
    return failed


class _Printer:
    """Progress lines: ``[2/5] examples/fox.json: queued (position 3)``."""

    def __init__(self, out: TextIO, *, total: int, quiet: bool) -> None:
        self.out = out
        self.total = total
        self.quiet = quiet
        self.current = 0

    def __call__(self, event: ProgressEvent) -> None:
        if event.stage == "log":
            if self.quiet:
                return
            self.line(event.label, f"  {event.message}")
        elif event.stage not in ("failed", "downloaded", "completed"):
            self.line(event.label, event.message)

    def line(self, label: str, message: str) -> None:
        print(f"[{self.current}/{self.total}] {label}: {message}", file=self.out, flush=True)


def _err(message: str) -> None:
    print(f"kling-prompt: error: {message}", file=sys.stderr)


# ----- jobs -----


def _open_ledger(args: argparse.Namespace) -> Any:
    from kling_prompt.dispatch.ledger import Ledger, default_path

    path = args.ledger or default_path()
    if not os.path.exists(path):
        _err(f"no ledger at {path}: nothing was sent from here yet (or pass --ledger PATH)")
        return None
    return Ledger(path)


def _jobs(args: argparse.Namespace) -> int:
    ledger = _open_ledger(args)
    if ledger is None:
        return EXIT_USAGE
    with ledger:
        rows = ledger.jobs(state=args.state, limit=args.limit, newest_first=True)
        if args.output_format == "json":
            json.dump([r.to_dict() for r in rows], sys.stdout, indent=2, ensure_ascii=False)
            print()
            return EXIT_OK
        if not rows:
            print("No jobs.")
            return EXIT_OK
        table = [("id", "state", "endpoint", "cost", "created", "where", "request id / file")]
        for r in rows:
            where = "sandbox" if r.realm.startswith("sandbox") else r.realm
            last = r.file_path or r.request_id or (r.error or "")[:40]
            table.append(
                (
                    str(r.id),
                    r.state,
                    _short(r.endpoint),
                    _money(r.estimate_usd),
                    r.created_at[:19].replace("T", " "),
                    where,
                    last,
                )
            )
        widths = [max(len(row[i]) for row in table) for i in range(6)]
        for row in table:
            print("  ".join(row[i].ljust(widths[i]) for i in range(6)) + "  " + row[6])
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from kling_prompt.dispatch.ledger import LedgerError

    ledger = _open_ledger(args)
    if ledger is None:
        return EXIT_USAGE
    with ledger:
        try:
            row = ledger.job(args.job_id)
        except LedgerError as exc:
            _err(str(exc))
            return EXIT_USAGE
        events = ledger.events(row.id)
    if args.output_format == "json":
        json.dump({**row.to_dict(), "events": events}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return EXIT_OK
    _print_row(row, events)
    return EXIT_OK


def _print_row(row: JobRow, events: list[dict[str, Any]]) -> None:
    fields = [
        ("job", str(row.id)),
        ("state", row.state),
        ("endpoint", row.endpoint),
        ("where", row.realm),
        ("source", row.source or "-"),
        ("request id", row.request_id or "-"),
        ("request hash", row.request_hash),
        ("estimate", _money(row.estimate_usd)),
        ("created", row.created_at),
        ("submitted", row.submitted_at or "-"),
        ("finished", row.finished_at or "-"),
        ("result url", row.result_url or "-"),
        ("file", row.file_path or "-"),
        ("error", row.error or "-"),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        print(f"{key.ljust(width)}  {value}")
    print("arguments:")
    print("  " + json.dumps(row.arguments, indent=2, ensure_ascii=False).replace("\n", "\n  "))
    print("history:")
    for event in events:
        message = f"  {event['message']}" if event["message"] else ""
        print(f"  {event['at']}  {event['state']}{message}")


def _resume(args: argparse.Namespace) -> int:
    from kling_prompt.dispatch import Dispatcher
    from kling_prompt.errors import KlingPromptError

    ledger = _open_ledger(args)
    if ledger is None:
        return EXIT_USAGE
    row = ledger.job(args.job_id)
    if row.realm.startswith("sandbox"):
        ledger.close()
        _err(f"job {row.id} ran in a sandbox that is gone; it cannot be resumed")
        return EXIT_FAILED
    if not _have_key():
        from kling_prompt.dispatch.errors import KEY_HELP

        ledger.close()
        _err(f"no fal key: {KEY_HELP}")
        return EXIT_USAGE
    printer = _Printer(sys.stdout, total=1, quiet=False)
    printer.current = 1
    with (
        ledger,
        Dispatcher(
            ledger=ledger, out_dir=Path(args.out), timeout=args.timeout, progress=printer
        ) as dispatcher,
    ):
        try:
            result = dispatcher.resume(row.id)
        except KlingPromptError as exc:
            printer.line(f"job {row.id}", f"FAILED: {exc}")
            return EXIT_FAILED
    printer.line(f"job {row.id}", f"done: {result.video_path or result.record_path}")
    return EXIT_OK
