"""``kling-prompt run`` and ``resume`` send prompts to fal; ``jobs`` and ``cancel`` use the ledger.

``run`` loads the inputs, lints, validates and prices every request, matches each against the
ledger (reuse a completed identical request, follow one already on fal, re-download a result
whose file is gone, hold back one that was possibly submitted), shows the plan with the cost of
each job and the total, asks before spending (``--yes`` skips the question; without a terminal it
refuses), then runs the jobs ``--concurrency`` at a time with a live display (plain lines when
not on a terminal), downloads the videos and prints a summary. ``resume`` is the same on the
same inputs; without inputs it picks up every unfinished job in the ledger. ``--sandbox`` runs
against the built-in local fal look-alike: no key, no network, nothing billed.

Exit status: 0 when every job completed (or was reused), 1 when any job failed, was blocked,
skipped or possibly submitted, or the plan is over ``--max-cost``; 2 for usage errors (bad
flags, missing inputs, unreadable files, no confirmation possible); 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kling_prompt.dispatch import Batch, BatchSummary
    from kling_prompt.dispatch.ledger import JobRow

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SANDBOX_LATENCY = 0.6
SANDBOX_POLL = 0.15
DEFAULT_CONCURRENCY = 4


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="send prompts to fal.ai: plan, confirm, submit, follow, download",
        description="Lint, validate and price the requests, match them against the ledger, "
        "show the plan and its cost, ask, then send them to fal (several at a time) and "
        "download the videos. Every job is recorded in the ledger; run again (or 'resume') "
        "on the same inputs to pick up after a crash without paying twice.",
    )
    run.add_argument(
        "paths",
        nargs="+",
        metavar="FILE|DIR|JSONL",
        help="payload files (.json, .jsonl, .txt, .prompt) or folders to search",
    )
    _send_flags(run)
    run.set_defaults(func=_run, resume=False)

    resume = subparsers.add_parser(
        "resume",
        help="pick up after a crash: follow, fetch and finish jobs from the ledger",
        description="Like 'run' on the same inputs: completed jobs are skipped (or their file "
        "downloaded again, free), jobs already on fal are followed instead of resent, and "
        "jobs never sent are sent. Without inputs, every unfinished job in the ledger.",
    )
    resume.add_argument("paths", nargs="*", metavar="FILE|DIR|JSONL", help="the run's inputs")
    _send_flags(resume)
    resume.set_defaults(func=_run, resume=True)

    jobs = subparsers.add_parser(
        "jobs",
        help="list the jobs in the ledger ('jobs show ID', 'jobs resume ID')",
        description="List the jobs recorded in the ledger, newest first.",
    )
    _ledger_flag(jobs, argparse.SUPPRESS)
    jobs.add_argument(
        "--state",
        choices=("planned", "submitting", "queued", "running", "completed", "failed", "cancelled"),
        help="only jobs in this state (submitting = possibly submitted if it has no request id)",
    )
    jobs.add_argument(
        "--since",
        type=_since,
        metavar="WHEN",
        help="only jobs created since WHEN: an ISO date or time (2025-06-01, "
        "2025-06-01T12:00) or an age such as 30m, 2h, 1d, 2w",
    )
    jobs.add_argument("--endpoint", help="only jobs whose endpoint id contains this text")
    jobs.add_argument("--limit", type=int, default=50, help="how many (default: 50)")
    jobs.add_argument("--output-format", choices=("table", "json"), default="table")
    jobs.set_defaults(func=_jobs, ledger=None)
    actions = jobs.add_subparsers(dest="jobs_action", metavar="ACTION")
    show = actions.add_parser("show", help="show one job: arguments, state history, result")
    show.add_argument("job_id", type=int, metavar="ID")
    _ledger_flag(show, argparse.SUPPRESS)
    show.add_argument("--output-format", choices=("text", "json"), default="text")
    show.set_defaults(func=_show)
    resume_one = actions.add_parser(
        "resume", help="follow a job that was interrupted and download its result"
    )
    resume_one.add_argument("job_id", type=int, metavar="ID")
    _ledger_flag(resume_one, argparse.SUPPRESS)
    resume_one.add_argument("--out", default=".", metavar="DIR")
    resume_one.add_argument("--timeout", type=_seconds, default=1800.0, metavar="SECONDS")
    resume_one.set_defaults(func=_resume)

    cancel = subparsers.add_parser(
        "cancel",
        help="cancel queued or running jobs on fal and record it in the ledger",
        description="Cancel jobs on fal through fal-client (a job fal already finished is "
        "reported, not cancelled) and record the outcome in the ledger.",
    )
    cancel.add_argument("job_ids", nargs="*", type=int, metavar="ID", help="ledger job ids")
    cancel.add_argument(
        "--all-running", action="store_true", help="every queued or running job in the ledger"
    )
    _ledger_flag(cancel, None)
    cancel.set_defaults(func=_cancel)


def _send_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask before spending")
    parser.add_argument(
        "--dry-run", action="store_true", help="show the plan and its cost; send nothing"
    )
    parser.add_argument(
        "--concurrency",
        type=_positive,
        metavar="N",
        help=f"jobs on fal at once (default: config 'concurrency', else {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--max-cost",
        type=_usd,
        metavar="USD",
        help="whole-run budget (estimates; config 'max-cost'): an over-budget plan sends "
        "nothing, and no job is sent once completed plus in-flight jobs would cross it; jobs "
        "of unknown price count as over budget",
    )
    parser.add_argument(
        "--fill-budget",
        action="store_true",
        help="with --max-cost: send jobs in order while they fit instead of refusing an "
        "over-budget plan; the rest are skipped (budget)",
    )
    parser.add_argument(
        "--retry-failed",
        type=_count,
        metavar="N",
        help="send a job that failed on fal's side again, up to N times (each retry is a new "
        "paid job; default: config 'retry-failed', else 0)",
    )
    parser.add_argument(
        "--force-resend",
        action="store_true",
        help="send requests identical to ones already completed again (new paid jobs) "
        "instead of reusing their results",
    )
    parser.add_argument(
        "--resubmit-uncertain",
        action="store_true",
        help="send again jobs that were possibly submitted (crash or lost reply during "
        "submit; fal may already have created and billed them: check "
        "https://fal.ai/dashboard/requests first)",
    )
    parser.add_argument("--out", metavar="DIR", help="where videos go (default: config 'out', .)")
    parser.add_argument("--force", action="store_true", help="send requests despite lint errors")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run against the built-in local fal sandbox (no key, no network, nothing billed)",
    )
    parser.add_argument(
        "--ledger", metavar="PATH", help="ledger file (default: .kling-prompt/ledger.sqlite3)"
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=1800.0,
        metavar="SECONDS",
        help="cancel a job that has not finished this long after submit (default: 1800)",
    )
    parser.add_argument(
        "--poll-interval",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="seconds between status checks (default: 2; 0.15 with --sandbox)",
    )
    parser.add_argument("--endpoint", help="endpoint for inputs that do not name one (.txt files)")
    parser.add_argument("--config", help="config file (default: the nearest pyproject.toml)")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no fal log lines (shown only at --concurrency 1)",
    )


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


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _since(text: str) -> str:
    """An ISO timestamp (UTC, as the ledger stores them) from an ISO date/time or an age."""
    match = _AGE.match(text.lower())
    if match:
        moment = datetime.now(timezone.utc) - timedelta(  # noqa: UP017
            seconds=float(match[1]) * _UNITS[match[2]]
        )
    else:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an ISO date or time (2025-06-01, 2025-06-01T12:00) or an age such as "
                f"2h or 1d, got {text!r}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.astimezone()  # local time, as the user typed it
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")  # noqa: UP017


def _money(usd: float | None) -> str:
    return "unknown" if usd is None else f"${usd:.2f}"


# ----- run and resume -----


def _run(args: argparse.Namespace) -> int:
    from kling_prompt.dispatch import load_inputs
    from kling_prompt.linter.config import load_config

    missing = [p for p in args.paths if p != "-" and not os.path.exists(p)]
    if missing:
        _err(f"no such file or folder: {', '.join(missing)}")
        return EXIT_USAGE
    if "-" in args.paths:
        _err(f"{_name(args)} reads files, not stdin: save the payload to a file first")
        return EXIT_USAGE
    config = load_config(args.config, start=args.paths[0] if args.paths else None)
    found: list[Any] = []
    if args.paths:
        found, errors = load_inputs(args.paths, config=config, endpoint=args.endpoint)
        for message in errors:
            _err(message)
        if errors:
            _err(f"{len(errors)} input(s) could not be read; fix them first (nothing was sent)")
            return EXIT_USAGE
        if not found:
            _err(f"no inputs (.json, .jsonl, .txt, .prompt) found in {', '.join(args.paths)}")
            return EXIT_USAGE
    if not args.sandbox and not args.dry_run and not _have_key():
        from kling_prompt.dispatch.errors import KEY_HELP

        _err(f"no fal key: {KEY_HELP}")
        return EXIT_USAGE
    max_cost = args.max_cost if args.max_cost is not None else config.max_cost
    concurrency = args.concurrency or config.concurrency or DEFAULT_CONCURRENCY
    retry = args.retry_failed if args.retry_failed is not None else _retry_config(config)
    out = args.out or config.out or "."

    with _environment(args.sandbox) as realm:
        from kling_prompt.dispatch import Batch, Dispatcher, make_display

        display = make_display(sys.stdout, show_logs=concurrency == 1 and not args.quiet)
        poll = args.poll_interval or (SANDBOX_POLL if args.sandbox else 2.0)
        with Dispatcher(
            ledger=args.ledger,
            out_dir=out,
            max_cost=max_cost,
            force=args.force,
            timeout=args.timeout,
            poll_interval=poll,
            realm=realm,
            lint_config=config,
        ) as dispatcher:
            batch = Batch(
                dispatcher,
                concurrency=concurrency,
                resend=args.force_resend,
                resubmit_uncertain=args.resubmit_uncertain,
                retry_failed=retry,
                fill_budget=args.fill_budget,
                progress=display,
            )
            for request, directives, label in found:
                batch.add(request, label=label, directives=directives)
            if args.resume and not args.paths and not _add_unfinished(batch, realm):
                print(f"Nothing to resume in {dispatcher.ledger.path}.")
                return EXIT_OK
            batch.plan()
            _print_plan(batch, args, max_cost)
            sending = [i for i in batch.items if i.action == "send"]
            working = [
                i for i in batch.items if i.action in ("send", "follow", "redownload", "reuse")
            ]
            problem = batch.over_budget()
            if problem is not None and not args.fill_budget:
                _err(problem)
                return EXIT_FAILED
            if args.dry_run:
                return EXIT_OK if all(i.outcome is None for i in batch.items) else EXIT_FAILED
            if not working and not any(i.action == "duplicate" for i in batch.items):
                print("Nothing to send.")
                return EXIT_FAILED
            if sending and not args.yes:
                answer = _confirm(batch, args.sandbox)
                if answer is None:
                    return EXIT_USAGE
                if not answer:
                    print("Nothing sent.")
                    return EXIT_FAILED
            summary = batch.run()
            print()
            print(summary.table())
            _advice(summary)
            if summary.interrupted:
                return EXIT_INTERRUPTED
            return summary.exit_code


def _name(args: argparse.Namespace) -> str:
    return "resume" if args.resume else "run"


def _retry_config(config: Any) -> int:
    """``retry-failed`` from the config file (0 when absent)."""
    if not getattr(config, "path", None):
        return 0
    from kling_prompt.errors import ConfigError
    from kling_prompt.linter.config import _read_table

    value = _read_table(Path(config.path)).get("retry-failed", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{config.path}: 'retry-failed' must be a whole number >= 0")
    return value


def _add_unfinished(batch: Batch, realm: str) -> int:
    """Add every unfinished job of this realm in the ledger; return how many."""
    from pathlib import Path as _Path

    added = 0
    for row in batch.dispatcher.ledger.jobs():
        if row.realm != realm:
            continue
        unfinished = row.state in ("submitting", "queued", "running")
        missing = (
            row.state == "completed"
            and row.result_url is not None
            and not (row.file_path and _Path(row.file_path).exists())
        )
        if unfinished or missing:
            batch.add_row(row)
            added += 1
    return added


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


def _short(endpoint: str) -> str:
    return endpoint.removeprefix("fal-ai/kling-video/")


def _print_plan(batch: Batch, args: argparse.Namespace, max_cost: float | None) -> None:
    rows = []
    for item in batch.items:
        cost = _money(item.usd) if item.action in ("send", "follow") else "-"
        rows.append((str(item.index), item.label, _short(item.endpoint), item.describe(), cost))
    header = ("#", "input", "endpoint", "plan", "cost")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    out = sys.stdout
    print(f"Plan: {len(rows)} job(s){' (sandbox)' if args.sandbox else ''}", file=out)
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        print("  " + "  ".join(cells) + "  " + row[4].rjust(8), file=out)
    for item in batch.items:
        if item.action in ("blocked", "uncertain") and item.reason:
            kind = "blocked" if item.action == "blocked" else "held back"
            print(f"  [{item.index}] {kind}: {item.reason}", file=out)
        elif item.prepared is not None and item.action == "send":
            for note in item.prepared.notes:
                print(f"  [{item.index}] note: {note}", file=out)
    sending = [i for i in batch.items if i.action == "send"]
    known = sum(i.usd or 0.0 for i in sending)
    unknown = sum(1 for i in sending if i.usd is None)
    extra = f" + {unknown} job(s) of unknown price" if unknown else ""
    free = " (sandbox: nothing is billed)" if args.sandbox else ""
    print(f"Total: {_money(known)}{extra} for {len(sending)} job(s){free}", file=out)
    other = {a: sum(1 for i in batch.items if i.action == a) for a in ("follow", "redownload")}
    reuse = sum(1 for i in batch.items if i.action in ("reuse", "duplicate"))
    if any(other.values()) or reuse:
        print(
            f"From the ledger: {other['follow']} to follow (already on fal), "
            f"{other['redownload']} to download again (free), {reuse} reused (nothing sent)",
            file=out,
        )
    if max_cost is not None:
        print(f"Budget: {_money(max_cost)} (--max-cost)", file=out)


def _confirm(batch: Batch, sandbox: bool) -> bool | None:
    if not sys.stdin.isatty():
        _err(
            "refusing to spend without confirmation: no terminal to ask on; pass --yes to send "
            "without asking (or --dry-run to only see the plan)"
        )
        return None
    sending = [i for i in batch.items if i.action == "send"]
    known = sum(i.usd or 0.0 for i in sending)
    unknown = sum(1 for i in sending if i.usd is None)
    extra = f" plus {unknown} of unknown price" if unknown else ""
    where = "the sandbox" if sandbox else "fal.ai"
    prompt = (
        f"Send {len(sending)} job(s) to {where} for an estimated {_money(known)}{extra}? [y/N] "
    )
    try:
        answer = input(prompt)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _advice(summary: BatchSummary) -> None:
    if summary.interrupted:
        print(
            "Stopped. Jobs already on fal keep running and are in the ledger: run "
            "'kling-prompt resume' with the same inputs to follow them without paying twice."
        )
    if summary.uncertain:
        print(
            f"{len(summary.uncertain)} job(s) were possibly submitted: fal may have created and "
            "billed them. Check https://fal.ai/dashboard/requests; to send them again anyway, "
            "rerun with --resubmit-uncertain."
        )
    if any(i.reason and i.reason.startswith("budget") for i in summary.skipped):
        print("Some jobs were skipped to stay within --max-cost; raise it and run again.")


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
        rows = ledger.jobs(
            state=args.state,
            limit=args.limit,
            newest_first=True,
            since=args.since,
            endpoint=args.endpoint,
        )
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
    from kling_prompt.dispatch import Dispatcher, LineDisplay
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
    display = LineDisplay(sys.stdout, show_logs=True)
    label = f"job {row.id}"
    with (
        ledger,
        Dispatcher(
            ledger=ledger, out_dir=Path(args.out), timeout=args.timeout, progress=display
        ) as dispatcher,
    ):
        try:
            result = dispatcher.resume(row.id)
        except KlingPromptError as exc:
            print(f"{label}: FAILED: {exc}")
            return EXIT_FAILED
    print(f"{label}: done: {result.video_path or result.record_path}")
    return EXIT_OK


# ----- cancel -----


def _cancel(args: argparse.Namespace) -> int:
    from kling_prompt.dispatch import Dispatcher
    from kling_prompt.errors import KlingPromptError

    if bool(args.job_ids) == bool(args.all_running):
        _err("name the jobs to cancel (kling-prompt cancel ID ...) or pass --all-running")
        return EXIT_USAGE
    ledger = _open_ledger(args)
    if ledger is None:
        return EXIT_USAGE
    with ledger:
        if args.all_running:
            rows = [r for r in ledger.jobs() if r.state in ("queued", "running") and r.request_id]
            if not rows:
                print("No queued or running jobs.")
                return EXIT_OK
        else:
            try:
                rows = [ledger.job(job_id) for job_id in args.job_ids]
            except KlingPromptError as exc:
                _err(str(exc))
                return EXIT_USAGE
        gone = [r for r in rows if r.realm.startswith("sandbox")]
        for row in gone:
            print(f"job {row.id}: ran in a sandbox that is gone; nothing to cancel")
        rows = [r for r in rows if not r.realm.startswith("sandbox")]
        if rows and not _have_key():
            from kling_prompt.dispatch.errors import KEY_HELP

            _err(f"no fal key: {KEY_HELP}")
            return EXIT_USAGE
        failed = 0
        with Dispatcher(ledger=ledger) as dispatcher:
            for row in rows:
                try:
                    outcome = dispatcher.cancel_job(row.id)
                except KlingPromptError as exc:
                    print(f"job {row.id}: not cancelled: {exc}")
                    failed += 1
                    continue
                if outcome == "cancelled":
                    print(f"job {row.id}: cancelled (request {row.request_id})")
                elif outcome == "completed":
                    print(
                        f"job {row.id}: fal had already completed it (billed); fetch it with "
                        "'kling-prompt resume'"
                    )
                    failed += 1
                else:
                    print(f"job {row.id}: cancelling failed: {outcome}; it may still run")
                    failed += 1
    return EXIT_FAILED if failed or gone else EXIT_OK
