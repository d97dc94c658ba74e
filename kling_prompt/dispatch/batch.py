"""Batches: many requests through one thread-safe :class:`Dispatcher`, resumable from the ledger.

fal's queue does the heavy work, so a batch is a thread pool of ``concurrency`` workers sharing
one dispatcher (and so one fal-client ``SyncClient``). Before anything is sent, every request is
prepared (lint, validation, price) and matched against the ledger by request hash:

- ``reuse``: an identical request already completed here: its file is used, nothing is sent
  (``resend=True`` sends it anyway);
- ``redownload``: it completed but its file is gone (or the download was cut): downloaded again
  from the stored result URL, without paying;
- ``follow``: it was submitted and has a fal request id: polled and fetched, never resubmitted;
- ``uncertain``: the intent was written but no request id came back (crash or lost reply during
  submit): fal may have created and billed it, so it is reported and only sent again with
  ``resubmit_uncertain=True``;
- ``duplicate``: the same request appears earlier in this batch: it gets that job's result;
- ``send``: everything else.

Budget (``max_cost``): the batch's cost is what it sends plus what it follows (already on fal).
An over-budget plan raises :class:`~kling_prompt.errors.BudgetError` before anything is sent,
unless ``fill_budget``, which sends jobs in order until the next would cross the budget and
reports the rest as skipped. While running, a job is sent only if completed plus in-flight
estimates stay within the budget (jobs that failed or were cancelled on fal no longer count).
With a budget, a job of unknown price counts as over budget.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from kling_prompt.dispatch.dispatcher import (
    Dispatcher,
    JobResult,
    Prepared,
    ProgressCallback,
    ProgressEvent,
)
from kling_prompt.dispatch.errors import Interrupted, JobFailed, LintError, SubmitUncertain
from kling_prompt.dispatch.ledger import JobRow
from kling_prompt.errors import BudgetError, DispatchError, KlingPromptError, ValidationError
from kling_prompt.request import Request

__all__ = ["Batch", "BatchItem", "BatchSummary", "load_inputs", "run_batch"]

ACTIONS = ("send", "follow", "redownload", "reuse", "duplicate", "uncertain", "blocked")
OUTCOMES = ("completed", "reused", "failed", "skipped", "uncertain", "blocked")
DASHBOARD = "https://fal.ai/dashboard/requests"


class BatchItem:
    """One request of a batch: what the plan decided (``action``) and what came of it."""

    __slots__ = (
        "action",
        "attempts",
        "directives",
        "index",
        "job_id",
        "label",
        "notes",
        "outcome",
        "prepared",
        "reason",
        "request",
        "result",
        "retryable",
        "row",
        "same_as",
    )

    def __init__(
        self,
        index: int,
        label: str,
        request: Request | None,
        directives: Sequence[Any] = (),
        *,
        prepared: Prepared | None = None,
        row: JobRow | None = None,
    ) -> None:
        self.index = index
        self.label = label
        self.request = request
        self.directives = list(directives)
        self.prepared = prepared
        self.row = row
        self.action = "send"
        self.outcome: str | None = None
        self.reason: str | None = None
        self.job_id: int | None = row.id if row is not None else None
        self.result: JobResult | None = None
        self.same_as: int | None = None
        self.attempts = 0
        self.retryable = False
        self.notes: list[str] = []

    @property
    def usd(self) -> float | None:
        """The estimated cost of this item's job (None when unknown)."""
        if self.prepared is not None:
            return self.prepared.usd
        if self.row is not None:
            return self.row.estimate_usd
        return None

    @property
    def endpoint(self) -> str:
        if self.prepared is not None:
            return self.prepared.endpoint
        if self.row is not None:
            return self.row.endpoint
        return (self.request.endpoint if self.request else None) or "-"

    @property
    def file(self) -> Path | None:
        return self.result.video_path if self.result is not None else None

    def describe(self) -> str:
        """The planned action in words, for the plan table."""
        row = self.row
        if self.action == "follow" and row is not None:
            return f"follow job {row.id} ({row.state}, request {row.request_id})"
        if self.action == "redownload" and row is not None:
            return f"download job {row.id}'s result again (no charge)"
        if self.action == "reuse" and row is not None:
            return f"reuse job {row.id}: {row.file_path or 'completed'}"
        if self.action == "duplicate":
            return f"same request as #{self.same_as}: reuse its result"
        if self.action == "uncertain" and row is not None:
            return f"possibly submitted already (job {row.id}); not sent"
        if self.action == "blocked":
            return "BLOCKED"
        return self.prepared.summary() if self.prepared is not None else "send"

    def __repr__(self) -> str:
        return f"BatchItem(#{self.index} {self.label!r}, {self.action}, {self.outcome})"


class BatchSummary:
    """What a batch did: every item's outcome, counts, and costs (estimates, USD)."""

    def __init__(self, items: list[BatchItem], *, ledger: str, max_cost: float | None) -> None:
        self.items = items
        self.ledger = ledger
        self.max_cost = max_cost
        self.interrupted = False
        self._lock = threading.Lock()
        self._in_flight: dict[int, float] = {}
        self.started = time.monotonic()
        self.finished: float | None = None

    def by_outcome(self, outcome: str) -> list[BatchItem]:
        return [i for i in self.items if i.outcome == outcome]

    @property
    def completed(self) -> list[BatchItem]:
        return self.by_outcome("completed")

    @property
    def failed(self) -> list[BatchItem]:
        return self.by_outcome("failed")

    @property
    def skipped(self) -> list[BatchItem]:
        return self.by_outcome("skipped")

    @property
    def reused(self) -> list[BatchItem]:
        return self.by_outcome("reused")

    @property
    def uncertain(self) -> list[BatchItem]:
        return self.by_outcome("uncertain")

    @property
    def blocked(self) -> list[BatchItem]:
        return self.by_outcome("blocked")

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.outcome is not None)

    @property
    def spent_usd(self) -> float:
        """Estimated cost of the jobs this batch completed (sent or followed), not reused."""
        return sum(i.usd or 0.0 for i in self.completed)

    @property
    def in_flight_usd(self) -> float:
        with self._lock:
            return sum(self._in_flight.values())

    @property
    def estimated_usd(self) -> float:
        """Estimated cost of every job the plan sends or follows (known prices only)."""
        return sum(i.usd or 0.0 for i in self.items if i.action in ("send", "follow"))

    @property
    def unknown_prices(self) -> int:
        return sum(1 for i in self.items if i.action in ("send", "follow") and i.usd is None)

    @property
    def exit_code(self) -> int:
        """0 when every item completed or was reused, else 1."""
        return 0 if all(i.outcome in ("completed", "reused") for i in self.items) else 1

    def _start(self, item: BatchItem) -> None:
        with self._lock:
            self._in_flight[item.index] = item.usd or 0.0

    def _stop(self, item: BatchItem) -> None:
        with self._lock:
            self._in_flight.pop(item.index, None)

    def counts(self) -> str:
        parts = [
            f"{len(self.completed)} completed",
            f"{len(self.failed)} failed",
            f"{len(self.skipped)} skipped",
            f"{len(self.reused)} reused",
        ]
        if self.uncertain:
            parts.append(f"{len(self.uncertain)} possibly submitted")
        parts.append(f"{len(self.blocked)} blocked")
        return ", ".join(parts)

    def cost_line(self) -> str:
        unknown = f" + {self.unknown_prices} of unknown price" if self.unknown_prices else ""
        budget = f" (budget ${self.max_cost:.2f})" if self.max_cost is not None else ""
        return (
            f"cost so far ${self.spent_usd:.2f} of an estimated ${self.estimated_usd:.2f}"
            f"{unknown}{budget}"
        )

    def table(self) -> str:
        """The final summary: one row per job, then counts and costs."""
        rows = [("#", "input", "outcome", "cost", "detail")]
        for item in self.items:
            cost = "-" if item.usd is None else f"${item.usd:.2f}"
            if item.outcome == "reused":
                cost = "$0.00"
            detail = item.reason or ""
            if item.outcome in ("completed", "reused") and item.result is not None:
                where = item.result.video_path or item.result.record_path
                detail = f"{where} (job {item.result.job_id})" + (f"; {detail}" if detail else "")
            rows.append(
                (
                    str(item.index),
                    item.label,
                    item.outcome or "pending",
                    cost,
                    " ".join(detail.split()),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
        for item in self.items:
            for note in item.notes:
                lines.append(f"[{item.index}] note: {note}")
        lines.append(f"{self.counts()}; {self.cost_line()}")
        lines.append(f"ledger: {self.ledger}")
        return "\n".join(lines)


def load_inputs(
    paths: Iterable[str | os.PathLike[str]],
    *,
    config: Any = None,
    endpoint: str | None = None,
) -> tuple[list[tuple[Request, list[Any], str]], list[str]]:
    """Requests from files and folders (``.txt``, ``.json``, ``.jsonl``, ``.prompt``).

    Returns ``(requests, errors)``: each request with its suppression directives and label, and
    one message per input that could not be read. Prompt files with examples give one request
    per example; JSONL datasets one per line.
    """
    from kling_prompt.linter import inputs
    from kling_prompt.linter.config import Config

    config = config if config is not None else Config()
    found: list[tuple[Request, list[Any], str]] = []
    errors: list[str] = []
    for path in inputs.discover([os.fspath(p) for p in paths], config):
        loaded = inputs.load(path, config=config, endpoint=endpoint)
        for diag in loaded.errors:
            where = f"{diag.filename}:{diag.line}:{diag.column}" if diag.line else diag.filename
            errors.append(f"{where}: {diag.code} {diag.message}")
        for item in loaded.items:
            request = item.request
            label = f"{request.path}#{request.record}" if request.record else str(request.path)
            found.append((request, list(item.directives), label))
    return found, errors


class Batch:
    """A planned batch over one dispatcher; :meth:`plan`, check the budget, then :meth:`run`.

    ``retry_failed`` sends a job again (a new, paid job) up to that many times when it failed on
    fal's side; the default 0 never pays twice automatically.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        concurrency: int = 4,
        resend: bool = False,
        resubmit_uncertain: bool = False,
        retry_failed: int = 0,
        fill_budget: bool = False,
        progress: ProgressCallback | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if retry_failed < 0:
            raise ValueError("retry_failed must be >= 0")
        self.dispatcher = dispatcher
        self.concurrency = concurrency
        self.resend = resend
        self.resubmit_uncertain = resubmit_uncertain
        self.retry_failed = retry_failed
        self.fill_budget = fill_budget
        self.progress = progress
        self.items: list[BatchItem] = []
        self._planned = False
        self._stop = threading.Event()
        self._stop_reason = ""
        self._local = threading.local()
        self.summary = BatchSummary(
            self.items, ledger=str(dispatcher.ledger.path), max_cost=dispatcher.max_cost
        )

    # ----- building the plan -----

    def add(
        self,
        request: Request | Prepared,
        *,
        label: str | None = None,
        directives: Sequence[Any] = (),
    ) -> BatchItem:
        """Add a request (or an already prepared one) to the batch."""
        prepared = request if isinstance(request, Prepared) else None
        req = prepared.request if prepared is not None else request
        assert isinstance(req, Request)
        if label is None:
            label = prepared.label if prepared is not None else _label(req)
        item = BatchItem(len(self.items) + 1, label, req, directives, prepared=prepared)
        self.items.append(item)
        return item

    def add_row(self, row: JobRow) -> BatchItem:
        """Add an unfinished ledger job (resume without inputs)."""
        item = BatchItem(len(self.items) + 1, row.source or f"job {row.id}", None, row=row)
        self.items.append(item)
        return item

    def plan(self) -> list[BatchItem]:
        """Prepare every request (no network) and decide its action from the ledger."""
        dispatcher = self.dispatcher
        realm = dispatcher.realm
        claimed: set[int] = set()
        first_of: dict[str, int] = {}
        for item in self.items:
            if item.request is None and item.row is not None:
                self._plan_row(item)
                continue
            if item.prepared is None:
                try:
                    assert item.request is not None
                    item.prepared = dispatcher.prepare(item.request, directives=item.directives)
                except ValidationError as exc:
                    item.action, item.reason = "blocked", "; ".join(str(p) for p in exc.problems)
                    continue
                except LintError as exc:
                    item.action, item.reason = "blocked", str(exc)
                    continue
                except KlingPromptError as exc:
                    item.action, item.reason = "blocked", str(exc)
                    continue
            prepared = item.prepared
            rows = [r for r in dispatcher.ledger.find(prepared.request_hash) if r.realm == realm]
            rows = [r for r in rows if r.id not in claimed]
            completed = [r for r in rows if r.state == "completed"]
            active = [r for r in rows if r.state in ("queued", "running") and r.request_id]
            unsure = [r for r in rows if r.state == "submitting"]
            if not self.resend and completed:
                row = completed[-1]
                item.row = row
                present = row.file_path and Path(row.file_path).exists()
                media = _has_media(row)
                if present or not media:
                    item.action = "reuse"
                elif row.result_url:
                    item.action = "redownload"
                    claimed.add(row.id)
                else:
                    item.action = "send"
                    item.row = None
            elif active:
                item.action, item.row = "follow", active[0]
                claimed.add(active[0].id)
            elif unsure:
                row = unsure[0]
                claimed.add(row.id)
                if row.request_id:  # submitted, reply stored, state not yet moved: follow
                    item.action, item.row = "follow", row
                else:
                    item.action, item.row = "uncertain", row
                    item.reason = _uncertain_message(row)
                    if self.resubmit_uncertain:
                        item.action = "send"
            elif not self.resend and prepared.request_hash in first_of:
                item.action, item.same_as = "duplicate", first_of[prepared.request_hash]
            if item.action in ("send", "follow", "redownload"):
                first_of.setdefault(prepared.request_hash, item.index)
            for stale in rows:
                if stale.state == "planned" and stale.id not in claimed:
                    # intent never written: the process stopped before sending it
                    claimed.add(stale.id)
                    dispatcher.ledger.update(
                        stale.id,
                        state="cancelled",
                        error="never sent: the run stopped before submitting it",
                    )
        for item in self.items:
            if item.action == "blocked":
                item.outcome = "blocked"
            elif item.action == "uncertain":
                item.outcome = "uncertain"
        self._planned = True
        return self.items

    def _plan_row(self, item: BatchItem) -> None:
        row = item.row
        assert row is not None
        if row.state == "completed":
            item.action = "redownload" if row.result_url else "reuse"
        elif row.request_id and row.state in ("submitting", "queued", "running"):
            item.action = "follow"
        elif row.state == "submitting":
            item.action, item.reason = "uncertain", _uncertain_message(row)
            if self.resubmit_uncertain:
                request = Request(row.endpoint, dict(row.arguments), path=None)
                try:
                    prepared = self.dispatcher.prepare(request)
                except KlingPromptError as exc:
                    item.action, item.reason = "blocked", str(exc)
                    return
                prepared.request_hash = row.request_hash  # the same request as first planned
                prepared.label = item.label
                item.prepared, item.request, item.action = prepared, request, "send"
        else:
            item.action, item.reason = "blocked", f"job {row.id} is {row.state}"

    def cost(self) -> tuple[float, int]:
        """Estimated USD of the jobs the plan sends or follows, and how many have no price."""
        known = self.summary.estimated_usd
        return known, self.summary.unknown_prices

    def over_budget(self) -> str | None:
        """Why the plan exceeds ``max_cost`` (None if it fits or there is no budget)."""
        limit = self.dispatcher.max_cost
        if limit is None:
            return None
        known, unknown = self.cost()
        already = self.dispatcher.committed_usd
        if unknown:
            return (
                f"{unknown} job(s) have no known price, and with --max-cost a job of unknown "
                f"price counts as over budget; nothing was sent (add a price override in "
                "[tool.kling-prompt.prices] or drop --max-cost)"
            )
        if already + known > limit + 1e-9:
            spent = f" (plus ${already:.2f} already committed)" if already else ""
            return (
                f"the plan costs an estimated ${known:.2f}{spent}, over --max-cost "
                f"${limit:.2f}; nothing was sent (raise --max-cost, send fewer jobs, or pass "
                "--fill-budget to send what fits)"
            )
        return None

    # ----- running -----

    def run(self) -> BatchSummary:
        """Send, follow and download with ``concurrency`` workers; return the summary.

        Raises :class:`BudgetError` before anything is sent if the plan is over budget (unless
        ``fill_budget``). Ctrl-C stops sending, leaves jobs on fal to resume, and returns.
        """
        if not self._planned:
            self.plan()
        problem = self.over_budget()
        if problem is not None and not self.fill_budget:
            raise BudgetError(problem)
        from kling_prompt.dispatch.downloads import clean_partials

        clean_partials(self.dispatcher.out_dir)
        dispatcher = self.dispatcher
        outer = dispatcher.progress
        dispatcher.progress = self._relay
        start = getattr(self.progress, "start", None)
        if callable(start):
            start(self.summary)
        for item in self.items:
            if item.outcome in ("blocked", "uncertain"):
                self._emit(item, item.outcome, item.reason or item.outcome)
        # followed jobs are already on fal: they count against the budget from the start
        for item in self.items:
            if item.action == "follow" and item.usd is not None:
                dispatcher._commit(item.usd)
        work = [i for i in self.items if i.action in ("send", "follow", "redownload", "reuse")]
        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=min(self.concurrency, max(1, len(work))),
            thread_name_prefix="kling-batch",
        )
        try:
            futures = [pool.submit(self._work, item) for item in work]
            pending = set(futures)
            while pending:
                _, pending = concurrent.futures.wait(pending, timeout=0.25)
        except KeyboardInterrupt:
            self.summary.interrupted = True
            self._halt("stopped (Ctrl-C); run 'kling-prompt resume' with the same inputs")
            dispatcher.abort()
            pool.shutdown(wait=True, cancel_futures=True)
        finally:
            pool.shutdown(wait=True)
            dispatcher.progress = outer
        for item in self.items:
            if item.action == "duplicate":
                self._finish_duplicate(item)
            elif item.outcome is None:
                item.outcome, item.reason = "skipped", self._stop_reason or "not run"
        self.summary.finished = time.monotonic()
        close = getattr(self.progress, "close", None)
        if callable(close):
            close()
        return self.summary

    def _halt(self, reason: str) -> None:
        if not self._stop.is_set():
            self._stop_reason = reason
            self._stop.set()

    def _work(self, item: BatchItem) -> None:
        self._local.item = item
        try:
            if self._stop.is_set():
                self._skip(item, self._stop_reason)
                return
            if item.action == "reuse":
                self._reuse(item)
            elif item.action == "redownload":
                self._attempt(
                    item,
                    lambda: self.dispatcher.redownload(
                        item.row.id if item.row else 0, label=item.label
                    ),
                )
            elif item.action == "follow":
                assert item.row is not None
                row = item.row
                self._attempt(item, lambda: self.dispatcher.resume(row.id), follow=True)
            else:
                self._send(item)
        except Exception as exc:  # a bug must not take the other jobs down
            self._fail(item, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self._local.item = None

    def _reuse(self, item: BatchItem) -> None:
        row = item.row
        assert row is not None
        item.result = self.dispatcher._reused(row)
        item.job_id = row.id
        item.outcome = "reused"
        item.reason = f"identical to job {row.id} (completed); nothing sent"
        self._emit(item, "reused", item.reason)

    def _send(self, item: BatchItem) -> None:
        assert item.prepared is not None
        old = item.row if item.row is not None and item.row.state == "submitting" else None
        while True:
            item.attempts += 1
            done = self._attempt(
                item,
                lambda: self.dispatcher.run(item.prepared, resend=True),  # type: ignore[arg-type]
            )
            if done is not None:
                if old is not None and item.result is not None:
                    self.dispatcher.ledger.update(
                        old.id,
                        state="failed",
                        error=f"possibly submitted; superseded by job {item.result.job_id} "
                        f"(--resubmit-uncertain); fal may have billed it: check {DASHBOARD}",
                    )
                return
            if (
                item.outcome == "failed"
                and item.retryable
                and item.attempts <= self.retry_failed
                and not self._stop.is_set()
            ):
                self._emit(
                    item,
                    "retry",
                    f"failed on fal; sending again (retry {item.attempts} of "
                    f"{self.retry_failed}, a new paid job)",
                )
                item.outcome = None
                continue
            return

    def _attempt(
        self, item: BatchItem, call: Callable[[], JobResult], *, follow: bool = False
    ) -> JobResult | None:
        """Run one dispatcher call for ``item``, sorting its error into an outcome."""
        item.retryable = False
        self.summary._start(item)
        try:
            result = call()
        except BudgetError as exc:
            self._halt("budget: completed plus in-flight estimates would exceed --max-cost")
            self._skip(item, f"budget: {exc}")
            return None
        except SubmitUncertain as exc:
            item.outcome, item.reason = "uncertain", str(exc)
            item.job_id = self._job_of(item)
            self._emit(item, "uncertain", str(exc))
            return None
        except Interrupted as exc:
            self._skip(item, f"stopped while on fal; resumable ({exc})")
            return None
        except JobFailed as exc:
            item.retryable = True
            self._fail(item, str(exc))
            return None
        except ValidationError as exc:
            problems = "; ".join(str(p) for p in exc.problems)
            self._fail(item, f"fal rejected the arguments: {problems}")
            return None
        except DispatchError as exc:
            self._fail(item, str(exc))
            return None
        finally:
            self.summary._stop(item)
            if follow and item.row is not None and item.usd is not None:
                state = self.dispatcher.ledger.job(item.row.id).state
                if state in ("failed", "cancelled"):
                    self.dispatcher._release(item.usd)
        item.result = result
        item.job_id = result.job_id
        item.notes.extend(result.notes)
        item.outcome = "completed" if result.state == "completed" or follow else "reused"
        if item.action == "redownload":
            item.outcome = "reused"
            item.reason = f"job {result.job_id} downloaded again; nothing paid"
        where = result.video_path or result.record_path
        self._emit(item, item.outcome, f"done: {where} (job {result.job_id})")
        return result

    def _job_of(self, item: BatchItem) -> int | None:
        if item.prepared is None:
            return item.job_id
        rows = self.dispatcher.ledger.find(item.prepared.request_hash)
        return rows[-1].id if rows else item.job_id

    def _finish_duplicate(self, item: BatchItem) -> None:
        first = self.items[(item.same_as or 1) - 1]
        if first.outcome in ("completed", "reused") and first.result is not None:
            item.result, item.job_id = first.result, first.result.job_id
            item.outcome = "reused"
            item.reason = f"same request as #{first.index}; nothing sent"
            self._emit(item, "reused", item.reason)
        else:
            item.outcome = "skipped"
            item.reason = f"same request as #{first.index}, which is {first.outcome or 'not done'}"
            self._emit(item, "skipped", item.reason)

    def _skip(self, item: BatchItem, reason: str) -> None:
        item.outcome, item.reason = "skipped", reason
        self._emit(item, "skipped", reason)

    def _fail(self, item: BatchItem, reason: str) -> None:
        item.outcome, item.reason = "failed", reason
        item.job_id = self._job_of(item) if item.job_id is None else item.job_id
        self._emit(item, "failed", reason)

    # ----- progress -----

    def _emit(self, item: BatchItem, stage: str, message: str) -> None:
        if self.progress is not None:
            event = ProgressEvent(stage, message, label=item.label, job_id=item.job_id)
            event.index = item.index
            self.progress(event)

    def _relay(self, event: ProgressEvent) -> None:
        """Dispatcher events, tagged with the batch item of the worker thread sending them."""
        item: BatchItem | None = getattr(self._local, "item", None)
        if item is not None:
            event.index = item.index
            event.label = item.label
            if event.job_id is not None and item.job_id is None:
                item.job_id = event.job_id
        if event.stage in ("failed", "completed", "reused"):
            return  # the batch reports outcomes itself, once, after sorting them
        if self.progress is not None:
            self.progress(event)


def _label(request: Request) -> str:
    if request.path:
        return f"{request.path}#{request.record}" if request.record else request.path
    return request.endpoint or "request"


def _has_media(row: JobRow) -> bool:
    result = row.result
    if not isinstance(result, dict):
        return False
    return any(isinstance(v, dict) and isinstance(v.get("url"), str) for v in result.values())


def _uncertain_message(row: JobRow) -> str:
    return (
        f"possibly submitted: job {row.id} was being submitted when the run stopped (or the "
        f"reply was lost) and has no fal request id; fal may have created and billed it: check "
        f"{DASHBOARD} ; send it again only with --resubmit-uncertain"
    )


def run_batch(
    requests: Iterable[Request | Prepared | str | os.PathLike[str]],
    *,
    dispatcher: Dispatcher | None = None,
    concurrency: int = 4,
    max_cost: float | None = None,
    fill_budget: bool = False,
    force: bool = False,
    resend: bool = False,
    resubmit_uncertain: bool = False,
    retry: int = 0,
    progress: ProgressCallback | None = None,
    **options: Any,
) -> BatchSummary:
    """Run many requests with bounded concurrency; see the module docstring.

    ``requests`` may mix :class:`Request` objects, prepared requests, and paths of files or
    folders (loaded like ``kling-prompt run`` does). ``force`` sends despite lint errors;
    ``resend`` sends requests identical to completed ones again; ``retry`` sends jobs that
    failed on fal's side again (new paid jobs) up to that many times. Without ``dispatcher``,
    one is made from ``options`` (``ledger``, ``out_dir``, ``poll_interval``...) and closed.

    Raises :class:`BudgetError` (nothing sent) when the plan exceeds ``max_cost``.
    """
    own = dispatcher is None
    if dispatcher is None:
        dispatcher = Dispatcher(max_cost=max_cost, force=force, **options)
    else:
        if max_cost is not None:
            dispatcher.max_cost = max_cost
        if force:
            dispatcher.force = True
    try:
        batch = Batch(
            dispatcher,
            concurrency=concurrency,
            resend=resend,
            resubmit_uncertain=resubmit_uncertain,
            retry_failed=retry,
            fill_budget=fill_budget,
            progress=progress,
        )
        paths: list[str | os.PathLike[str]] = []
        for entry in requests:
            if isinstance(entry, (Request, Prepared)):
                batch.add(entry)
            else:
                paths.append(entry)
        if paths:
            config = dispatcher.lint_config
            if config is not None and not hasattr(config, "exclude"):
                from kling_prompt.linter.config import Config

                config = Config(config)
            found, errors = load_inputs(paths, config=config)
            if errors:
                raise DispatchError(
                    f"{len(errors)} input(s) could not be read (nothing was sent): "
                    + "; ".join(errors[:5])
                )
            for request, directives, label in found:
                batch.add(request, label=label, directives=directives)
        return batch.run()
    finally:
        if own:
            dispatcher.close()
