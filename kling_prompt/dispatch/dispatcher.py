"""The dispatcher: check a request, upload its local files, send it to fal, follow it, download.

Everything that costs money is recorded in the ledger before it happens. The order for one job:

1. prepare (no network): strip suppression directives from the prompts, lint (errors block
   unless ``force``), find and probe local media, validate against the catalog, estimate the
   cost, hash the request;
2. check the budget (``max_cost``, for all jobs of this dispatcher together);
3. upload local files through fal storage, once per content hash (cached in the ledger);
4. write the intent (state ``submitting``) and commit it, submit, store the request id at once;
5. poll with our own loop and deadline, reporting queue position and logs to ``progress``;
   cancel on the deadline or on Ctrl-C;
6. fetch the result, download the video atomically, write a JSON record beside it.

Duplicate-job risk (see ``docs/dispatch.md``): fal-client retries a submit POST on connection
errors, 408/409/429 and nginx ingress errors, which is safe, but also when the connection drops
after the request was sent, which can create a second (paid) job that nobody tracks. fal-client
has no switch for that and its retry count is a process-wide global, so we keep its retries (429
storms are common and those retries are safe) and limit the damage instead:

- ``start_timeout`` (the deadline) is passed, which stops fal-client from retrying a *timed-out*
  submit (the riskiest case: fal was slow, not gone) and makes fal drop a job not started by then;
- every attempt of a submit is counted with httpx event hooks; when one got no reply but a later
  one succeeded, the job's ledger history and :attr:`JobResult.notes` say a duplicate may exist;
- a submit that failed on the network after sending is *uncertain* (:class:`SubmitUncertain`,
  state stays ``submitting``): it is never resent automatically;
- an identical request (same :func:`request_hash`) that already completed is reused, not resent,
  unless ``resend=True``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kling_prompt.dispatch.errors import (
    KEY_HELP,
    DeadlineError,
    DispatchError,
    DownloadError,
    Interrupted,
    JobFailed,
    LintError,
    SubmitUncertain,
    translate,
)
from kling_prompt.dispatch.ledger import JobRow, Ledger, now_iso
from kling_prompt.dispatch.media import LocalFile, Probe, find_local_files, probe
from kling_prompt.dispatch.redact import Redactor, env_secrets
from kling_prompt.errors import AuthError, BudgetError, ValidationError
from kling_prompt.request import Request, set_field

__all__ = [
    "Dispatcher",
    "JobResult",
    "Prepared",
    "ProgressCallback",
    "ProgressEvent",
    "request_hash",
]

logger = logging.getLogger("kling_prompt.dispatch")

_PLACEHOLDER = "https://v3.fal.media/files/local/{sha}/{name}"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ProgressEvent:
    """One step of a job, for progress display.

    ``stage`` is one of: ``upload``, ``submitted``, ``queued``, ``running``, ``log``,
    ``completed``, ``downloaded``, ``failed``, ``cancelled``, ``note``, ``reused``,
    ``redownload``; a batch adds ``skipped``, ``uncertain``, ``retry`` and ``blocked``.
    ``position`` is the queue position for ``queued``; ``log`` is fal's log item for ``log``;
    ``index`` is the job's 1-based position in a batch.
    """

    __slots__ = ("index", "job_id", "label", "log", "message", "position", "stage")

    def __init__(
        self,
        stage: str,
        message: str,
        *,
        label: str,
        job_id: int | None = None,
        position: int | None = None,
        log: Mapping[str, Any] | None = None,
        index: int | None = None,
    ) -> None:
        self.stage = stage
        self.message = message
        self.label = label
        self.job_id = job_id
        self.position = position
        self.log = log
        self.index = index

    def __repr__(self) -> str:
        return f"ProgressEvent({self.stage!r}, {self.message!r})"


ProgressCallback = Callable[[ProgressEvent], None]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(
    endpoint: str, arguments: Mapping[str, Any], files: Iterable[LocalFile] = ()
) -> str:
    """sha256 of the canonical JSON of endpoint and arguments, local files by content hash."""
    args = copy.deepcopy(dict(arguments))
    for file in files:
        set_field(args, file.loc, f"sha256:{file.sha256}")
    return hashlib.sha256(
        _canonical({"endpoint": endpoint, "arguments": args}).encode()
    ).hexdigest()


class Prepared:
    """A request checked and priced, ready to send (see :meth:`Dispatcher.prepare`)."""

    __slots__ = (
        "arguments",
        "diagnostics",
        "endpoint",
        "estimate",
        "files",
        "label",
        "notes",
        "probe",
        "request",
        "request_hash",
    )

    def __init__(
        self,
        request: Request,
        *,
        endpoint: str,
        arguments: dict[str, Any],
        diagnostics: list[Any],
        files: list[LocalFile],
        probe: Probe,
        estimate: Any,
        request_hash: str,
        label: str,
        notes: list[str],
    ) -> None:
        self.request = request
        self.endpoint = endpoint
        self.arguments = arguments
        self.diagnostics = diagnostics
        self.files = files
        self.probe = probe
        self.estimate = estimate
        self.request_hash = request_hash
        self.label = label
        self.notes = notes

    @property
    def usd(self) -> float | None:
        usd = getattr(self.estimate, "usd", None)
        return float(usd) if usd is not None else None

    def summary(self, width: int = 48) -> str:
        """A one-line description of the payload: prompt or shots, duration, files."""
        args = self.arguments
        parts: list[str] = []
        shots = args.get("multi_prompt")
        if isinstance(shots, list) and shots:
            parts.append(f"{len(shots)} shots")
        elif isinstance(args.get("prompt"), str):
            text = " ".join(str(args["prompt"]).split())
            parts.append(repr(text if len(text) <= width else text[: width - 3] + "..."))
        if args.get("duration") is not None:
            parts.append(f"{args['duration']} s")
        if args.get("aspect_ratio"):
            parts.append(str(args["aspect_ratio"]))
        if self.files:
            parts.append(f"{len(self.files)} local file(s)")
        return ", ".join(parts) or "-"


class JobResult:
    """A finished job: ledger id, fal request id, files written, result and timings.

    ``state`` is ``completed``, or ``reused`` when an earlier identical job's result was used
    (nothing sent, nothing paid). ``notes`` are warnings, e.g. a possible duplicate job on fal.
    """

    __slots__ = (
        "estimate",
        "job_id",
        "notes",
        "record_path",
        "request_hash",
        "request_id",
        "result",
        "state",
        "timings",
        "video_path",
    )

    def __init__(
        self,
        *,
        job_id: int,
        request_id: str,
        state: str,
        result: dict[str, Any],
        video_path: Path | None,
        record_path: Path,
        estimate: dict[str, Any] | None,
        timings: dict[str, float],
        request_hash: str,
        notes: Sequence[str] = (),
    ) -> None:
        self.job_id = job_id
        self.request_id = request_id
        self.state = state
        self.result = result
        self.video_path = video_path
        self.record_path = record_path
        self.estimate = estimate
        self.timings = timings
        self.request_hash = request_hash
        self.notes = list(notes)

    def __repr__(self) -> str:
        return f"JobResult(job_id={self.job_id}, state={self.state!r}, video={self.video_path})"


class Dispatcher:
    """Send requests to fal with one fal-client ``SyncClient``; see the module docstring.

    ``key`` defaults to ``FAL_KEY`` (or ``FAL_KEY_ID``/``FAL_KEY_SECRET``), read when the first
    job is sent, so the environment may be set after construction. ``ledger`` is a
    :class:`Ledger` or a path (default ``.kling-prompt/ledger.sqlite3``). ``timeout`` is the
    deadline in seconds from submit to result; ``poll_interval`` the time between status calls.
    ``max_cost`` caps the estimated USD of all jobs this dispatcher sends. ``realm`` names
    where jobs go (``"fal"``, or ``"sandbox:..."``); cached uploads are only reused in the same
    realm. Thread-safe: one dispatcher can run jobs from several threads.
    """

    def __init__(
        self,
        *,
        key: str | None = None,
        ledger: Ledger | str | os.PathLike[str] | None = None,
        out_dir: str | os.PathLike[str] = ".",
        max_cost: float | None = None,
        force: bool = False,
        timeout: float = 1800.0,
        poll_interval: float = 2.0,
        progress: ProgressCallback | None = None,
        probe_media: bool = True,
        realm: str = "fal",
        lint_config: Any = None,
        price_overrides: Mapping[str, Any] | None = None,
        submit_timeout: float = 120.0,
    ) -> None:
        if timeout <= 0 or poll_interval <= 0:
            raise ValueError("timeout and poll_interval must be positive")
        if max_cost is not None and max_cost < 0:
            raise ValueError("max_cost must be >= 0")
        self.redact = Redactor([key, *env_secrets()])
        self._key = key
        self._owns_ledger = not isinstance(ledger, Ledger)
        self.ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger, redact=self.redact)
        self.out_dir = Path(out_dir)
        self.max_cost = max_cost
        self.force = force
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        self.progress = progress
        self.probe_media = probe_media
        self.realm = realm
        self.lint_config = lint_config
        self.price_overrides = price_overrides
        self.submit_timeout = submit_timeout
        self._fal: Any = None
        self._http: Any = None
        self._lock = threading.Lock()
        self._upload_locks: dict[str, threading.Lock] = {}
        self.committed_usd = 0.0
        self._abort = threading.Event()
        self._local = threading.local()
        self._filter = self.redact.filter()
        for name in ("kling_prompt.dispatch", "fal_client", "fal_client.client", "httpx"):
            logging.getLogger(name).addFilter(self._filter)

    # ----- lifecycle -----

    def close(self) -> None:
        """Close fal-client's HTTP connections and (if this dispatcher opened it) the ledger."""
        for name in ("kling_prompt.dispatch", "fal_client", "fal_client.client", "httpx"):
            logging.getLogger(name).removeFilter(self._filter)
        fal, self._fal = self._fal, None
        http = vars(fal).get("_client") if fal is not None else None
        if http is not None:
            http.close()
        downloads, self._http = self._http, None
        if downloads is not None:
            downloads.close()
        if self._owns_ledger:
            self.ledger.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _client(self) -> Any:
        """The one fal-client ``SyncClient``, built on first use (after the env is set)."""
        with self._lock:
            if self._fal is None:
                key = self._key or os.environ.get("FAL_KEY")
                if not key and os.environ.get("FAL_KEY_ID") and os.environ.get("FAL_KEY_SECRET"):
                    key = f"{os.environ['FAL_KEY_ID']}:{os.environ['FAL_KEY_SECRET']}"
                if not key:
                    raise AuthError(f"no fal key: {KEY_HELP}")
                self.redact.add(key)
                import fal_client

                self._fal = fal_client.SyncClient(key=key, default_timeout=self.submit_timeout)
                self._watch_submits(self._fal)
            return self._fal

    def _watch_submits(self, fal: Any) -> None:
        """Count each HTTP attempt of a submit (fal-client retries inside one call).

        httpx event hooks run in the calling thread, so a thread-local counter sees only this
        thread's submit. If fal-client's internals change, detection is off, nothing breaks.
        """
        local = self._local

        def on_request(request: Any) -> None:
            if getattr(local, "counting", False) and request.method == "POST":
                local.attempts += 1

        def on_response(response: Any) -> None:
            if getattr(local, "counting", False) and response.request.method == "POST":
                local.replies += 1

        try:
            http = fal._client
            hooks = http.event_hooks
            http.event_hooks = {
                "request": [*hooks.get("request", []), on_request],
                "response": [*hooks.get("response", []), on_response],
            }
        except Exception:  # pragma: no cover - depends on fal-client internals
            logger.debug("cannot watch submit attempts; duplicate detection is off")

    def abort(self) -> None:
        """Stop following jobs (from any thread): followers raise :class:`Interrupted`.

        The jobs keep running on fal and stay in the ledger with their request id, so
        :meth:`resume` (``kling-prompt resume``) picks them up later. Nothing is cancelled.
        """
        self._abort.set()

    def _downloader(self) -> Any:
        """One httpx client for every download of this dispatcher (built on first use)."""
        with self._lock:
            if self._http is None:
                from kling_prompt.dispatch.downloads import http_client

                self._http = http_client()
            return self._http

    def _emit(self, stage: str, message: str, label: str, job_id: int | None, **extra: Any) -> None:
        message = self.redact(message)
        logger.info("%s: %s", label, message)
        if self.progress is not None:
            self.progress(ProgressEvent(stage, message, label=label, job_id=job_id, **extra))

    # ----- prepare -----

    def prepare(self, request: Request, *, directives: Sequence[Any] = ()) -> Prepared:
        """Lint, probe, validate and price ``request`` without any network call.

        ``directives`` are suppressions the input loader found around the request.

        Raises :class:`LintError` (lint errors, unless ``force``), :class:`ValidationError`
        (catalog or media problems, with field paths) or ``CatalogError`` (unknown endpoint).
        """
        from kling_prompt import catalog
        from kling_prompt.linter.config import Config
        from kling_prompt.linter.engine import default_linter
        from kling_prompt.linter.suppress import strip

        label = _label(request)
        if not request.endpoint:
            raise DispatchError(
                f'{label}: no endpoint; add "endpoint" to the payload or set default-endpoint '
                "in [tool.kling-prompt]"
            )
        endpoint = request.endpoint
        config = self.lint_config
        if config is not None and not isinstance(config, Config):
            config = Config(config)
        diagnostics = default_linter(config).lint(request, directives=directives)
        errors = [d for d in diagnostics if d.severity == "error"]
        notes: list[str] = []
        if errors and not self.force:
            shown = "; ".join(f"{d.code} {d.message}" for d in errors[:3])
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            raise LintError(
                f"{label}: {len(errors)} lint error(s): {shown}{more}; fix them, or pass "
                "--force (force=True) to send anyway",
                diagnostics,
            )
        if errors:
            notes.append(f"sent despite {len(errors)} lint error(s) (--force)")

        arguments = copy.deepcopy(request.arguments)
        for field, text in request.text_fields():
            clean = strip(text)
            if clean != text:
                set_field(arguments, field, clean)

        base = Path(request.path).parent if request.path and request.path != "-" else Path.cwd()
        files, problems = find_local_files(endpoint, arguments, base)
        info = catalog.get(endpoint)
        report = Probe()
        if self.probe_media and files:
            orientation = info.fields.get("character_orientation")
            report = probe(
                files,
                arguments=arguments,
                motion_control=info.capabilities.motion_control,
                orientation_default=orientation.default if orientation is not None else None,
            )
            notes.extend(report.notes)
        problems += report.problems

        placeholders = copy.deepcopy(arguments)
        for file in files:
            set_field(
                placeholders,
                file.loc,
                _PLACEHOLDER.format(sha=file.sha256[:16], name=file.path.name),
            )
        problems += catalog.check(endpoint, placeholders)
        if problems:
            raise ValidationError(endpoint, problems)

        estimate = catalog.estimate_cost(
            endpoint, arguments, overrides=self.price_overrides, input_seconds=report.input_seconds
        )
        return Prepared(
            request,
            endpoint=endpoint,
            arguments=arguments,
            diagnostics=diagnostics,
            files=files,
            probe=report,
            estimate=estimate,
            request_hash=request_hash(endpoint, arguments, files),
            label=label,
            notes=notes,
        )

    # ----- budget -----

    def _reserve(self, prepared: Prepared) -> float:
        if self.max_cost is None:
            return prepared.usd or 0.0
        usd = prepared.usd
        if usd is None:
            raise BudgetError(
                f"{prepared.label}: the price of {prepared.endpoint} is unknown "
                f"({getattr(prepared.estimate, 'basis', 'no estimate')}), so it cannot be checked "
                "against --max-cost; add a price override in [tool.kling-prompt.prices] or drop "
                "--max-cost"
            )
        with self._lock:
            if self.committed_usd + usd > self.max_cost + 1e-9:
                raise BudgetError(
                    f"{prepared.label}: estimated ${usd:.2f} would bring this run to "
                    f"${self.committed_usd + usd:.2f}, over --max-cost ${self.max_cost:.2f}; "
                    "raise --max-cost or send fewer jobs"
                )
            self.committed_usd += usd
        return usd

    def _commit(self, usd: float) -> None:
        """Count a job already on fal (followed, not sent by us) against ``max_cost``."""
        with self._lock:
            self.committed_usd += usd

    def _release(self, usd: float) -> None:
        if self.max_cost is not None:
            with self._lock:
                self.committed_usd -= usd

    # ----- run -----

    def run(
        self, request: Request | Prepared, *, name: str | None = None, resend: bool = False
    ) -> JobResult:
        """Send one request and wait for its video; raise a :class:`DispatchError` on failure.

        ``name`` is the output file stem (default: the payload file's name, or ``job-ID``).
        An identical request that already completed here (same hash and realm) is reused
        (``state == "reused"``, re-downloaded if its file is gone) unless ``resend``.
        Ctrl-C cancels the fal request, records it and re-raises ``KeyboardInterrupt``.
        """
        started = time.monotonic()
        prepared = request if isinstance(request, Prepared) else self.prepare(request)
        if not resend:
            reused = self.reuse(prepared, name=name)
            if reused is not None:
                return reused
        timings: dict[str, float] = {"prepare": time.monotonic() - started}
        client = self._client()
        reserved = self._reserve(prepared)
        label = prepared.label
        source = _source(prepared.request)
        job_id = self.ledger.add_job(
            request_hash=prepared.request_hash,
            endpoint=prepared.endpoint,
            arguments=prepared.arguments,
            estimate=_estimate_dict(prepared.estimate),
            source=source,
            realm=self.realm,
        )
        try:
            mark = time.monotonic()
            sent = self._upload_all(client, prepared, job_id)
            timings["upload"] = time.monotonic() - mark
        except BaseException as exc:
            self._release(reserved)
            error = (
                exc
                if isinstance(exc, KeyboardInterrupt)
                else translate(
                    exc, "uploading local files", endpoint=prepared.endpoint, redact=self.redact
                )
            )
            state = "cancelled" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.ledger.update(job_id, state=state, error=_text(error, "interrupted during upload"))
            if error is exc:
                raise
            raise error from None

        self.ledger.update(job_id, state="submitting", arguments=sent)
        mark = time.monotonic()
        handle, notes = self._submit(client, prepared, sent, job_id, reserved)
        timings["submit"] = time.monotonic() - mark
        self.ledger.update(job_id, state="queued", request_id=handle.request_id)
        logger.info("%s: job %s is fal request %s", label, job_id, handle.request_id)
        for note in notes:
            self.ledger.update(job_id, message=note)
            self._emit("note", note, label, job_id)
        self._emit("submitted", f"submitted as request {handle.request_id}", label, job_id)
        try:
            result = self._follow(
                prepared=prepared,
                handle=handle,
                job_id=job_id,
                sent=sent,
                name=name,
                timings=timings,
                started=started,
                submitted=mark,
            )
        except (JobFailed, DeadlineError):
            # failed or cancelled on fal: not billed, so it no longer counts against max_cost
            if self.ledger.job(job_id).state in ("failed", "cancelled"):
                self._release(reserved)
            raise
        result.notes[:0] = notes
        return result

    def _upload_all(self, client: Any, prepared: Prepared, job_id: int) -> dict[str, Any]:
        sent = copy.deepcopy(prepared.arguments)
        for file in prepared.files:
            url = self._upload(client, file, prepared.label, job_id)
            set_field(sent, file.loc, url)
        return sent

    def _upload(self, client: Any, file: LocalFile, label: str, job_id: int) -> str:
        with self._lock:
            lock = self._upload_locks.setdefault(file.sha256, threading.Lock())
        with lock:
            cached = self.ledger.upload(file.sha256, self.realm)
            if cached is not None:
                self._emit(
                    "upload", f"{file.loc}: {file.path.name} already uploaded", label, job_id
                )
                return cached.url
            url = str(client.upload_file(file.path))
            self.ledger.add_upload(
                file.sha256, url, size=file.size, file_name=file.path.name, realm=self.realm
            )
            self._emit(
                "upload",
                f"{file.loc}: uploaded {file.path.name} ({file.size} bytes)",
                label,
                job_id,
            )
            return url

    def _submit(
        self, client: Any, prepared: Prepared, sent: dict[str, Any], job_id: int, reserved: float
    ) -> tuple[Any, list[str]]:
        import httpx

        start_timeout = self.timeout if self.timeout > 1 else None
        local = self._local
        local.counting, local.attempts, local.replies = True, 0, 0
        try:
            handle = client.submit(prepared.endpoint, sent, start_timeout=start_timeout)
            lost = local.attempts - local.replies
            notes = []
            if lost > 0:
                notes.append(
                    f"possible duplicate: {lost} earlier attempt(s) of this submit got no reply "
                    "and fal-client sent it again, so fal may have created (and may bill) "
                    f"another job besides {handle.request_id}; check "
                    "https://fal.ai/dashboard/requests"
                )
            return handle, notes
        except KeyboardInterrupt:
            self.ledger.update(
                job_id,
                error="interrupted during submit: fal may have created this job; "
                "check https://fal.ai/dashboard/requests",
            )
            raise
        except Exception as exc:
            never_sent = (
                httpx.ConnectError,
                httpx.ConnectTimeout,
                httpx.PoolTimeout,
                httpx.ProxyError,
                httpx.UnsupportedProtocol,
                httpx.LocalProtocolError,
            )
            if isinstance(exc, httpx.TransportError) and not isinstance(exc, never_sent):
                error: Exception = SubmitUncertain(
                    f"{prepared.label}: the reply to the submit was lost ({type(exc).__name__}: "
                    f"{self.redact(str(exc)) or 'connection closed'}): fal may have created, and "
                    f"may bill, a job we cannot follow; check https://fal.ai/dashboard/requests "
                    f"before sending it again (ledger job {job_id} stays 'submitting')"
                )
                self.ledger.update(job_id, error=str(error))
            else:
                self._release(reserved)
                error = translate(
                    exc,
                    f"submitting to {prepared.endpoint}",
                    endpoint=prepared.endpoint,
                    redact=self.redact,
                )
                self.ledger.update(job_id, state="failed", error=str(error))
            self._emit("failed", str(error), prepared.label, job_id)
            raise error from None
        finally:
            local.counting = False

    def _follow(
        self,
        *,
        prepared: Prepared | None,
        handle: Any,
        job_id: int,
        sent: dict[str, Any],
        name: str | None,
        timings: dict[str, float],
        started: float,
        submitted: float,
    ) -> JobResult:
        import fal_client

        row = self.ledger.job(job_id)
        label = prepared.label if prepared is not None else f"job {job_id}"
        endpoint = row.endpoint
        deadline = submitted + self.timeout
        seen_logs = 0
        last_position: int | None = None
        running_at: float | None = None
        state = row.state
        poll_errors = 0
        try:
            while True:
                if self._abort.is_set():
                    self._stopped(handle, job_id, label)
                try:
                    status = handle.status(with_logs=True)
                    poll_errors = 0
                except Exception as exc:
                    poll_errors += 1
                    if _transient(exc) and poll_errors < _POLL_ERRORS:
                        # polling is free: after fal-client's own retries, wait and ask again
                        self._abort.wait(min(self.poll_interval * poll_errors, 10.0))
                        continue
                    error = translate(
                        exc,
                        f"checking request {handle.request_id}",
                        endpoint=endpoint,
                        redact=self.redact,
                    )
                    self.ledger.update(
                        job_id,
                        error=f"{error}; the job may still run on fal: resume it with "
                        f"'kling-prompt jobs resume {job_id}'",
                    )
                    raise error from None
                if isinstance(status, fal_client.Queued):
                    if state != "queued":
                        self.ledger.update(job_id, state="queued")
                        state = "queued"
                    if status.position != last_position:
                        last_position = status.position
                        self._emit(
                            "queued",
                            f"in queue, position {status.position}",
                            label,
                            job_id,
                            position=status.position,
                        )
                elif isinstance(status, fal_client.InProgress) and state != "running":
                    self.ledger.update(job_id, state="running")
                    state = "running"
                    running_at = time.monotonic()
                    self._emit("running", "running", label, job_id)
                logs = getattr(status, "logs", None) or []
                if len(logs) < seen_logs:
                    seen_logs = 0
                for item in logs[seen_logs:]:
                    self._emit("log", str(item.get("message", "")), label, job_id, log=item)
                seen_logs = len(logs)
                if isinstance(status, fal_client.Completed):
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._cancel_for_deadline(handle, job_id, label)
                    # fal completed it before the cancel arrived: poll once more and fetch the
                    # (paid) result instead of throwing it away
                    deadline, remaining = float("inf"), 0.0
                self._abort.wait(min(self.poll_interval, remaining))
            now = time.monotonic()
            timings["queue"] = (running_at or now) - submitted
            timings["run"] = now - (running_at or now)
            if status.error:
                kind = status.error_type or "error"
                message = (
                    f"{label}: fal reports request {handle.request_id} failed ({kind}): "
                    f"{self.redact(str(status.error))}"
                )
                self.ledger.update(job_id, state="failed", error=message)
                self._emit("failed", message, label, job_id)
                raise JobFailed(message, error_type=status.error_type)
            mark = time.monotonic()
            try:
                # one GET: handle.get() would poll the status once more first
                result = self._client().result(endpoint, handle.request_id)
            except Exception as exc:
                error = translate(
                    exc,
                    f"fetching the result of request {handle.request_id}",
                    endpoint=endpoint,
                    redact=self.redact,
                )
                self.ledger.update(job_id, state="failed", error=str(error))
                self._emit("failed", str(error), label, job_id)
                raise JobFailed(str(error)) from None
            timings["fetch"] = time.monotonic() - mark
        except KeyboardInterrupt:
            self._interrupted(handle, job_id, label)
            raise

        media = _output_media(result)
        url = media.get("url") if media else None
        self.ledger.update(
            job_id, state="completed", result=result, result_url=url, message="result fetched"
        )
        self._emit("completed", "completed", label, job_id)
        stem = name or _stem(prepared.request if prepared else None, job_id, row.source)
        return self._save(
            job_id,
            result,
            label=label,
            stem=stem,
            files=prepared.files if prepared else [],
            timings=timings,
            started=started,
        )

    def _save(
        self,
        job_id: int,
        result: dict[str, Any],
        *,
        label: str,
        stem: str,
        files: Sequence[LocalFile],
        timings: dict[str, float],
        started: float,
        state: str = "completed",
        target: Path | None = None,
    ) -> JobResult:
        """Download a completed job's output (atomically) and write its JSON record.

        ``target`` is where the file goes (default: a free name from ``stem`` in ``out_dir``).
        """
        media = _output_media(result)
        url = media.get("url") if media else None
        video_path: Path | None = None
        if url:
            target = target or _free_path(self.out_dir, stem, _suffix(media), job_id)
            mark = time.monotonic()
            try:
                got = _download(url, target, media.get("file_size"), self._downloader())
            except KeyboardInterrupt:
                self.ledger.update(
                    job_id, error="interrupted during download; the result URL is kept"
                )
                raise
            except DownloadError as exc:
                self.ledger.update(job_id, error=self.redact(str(exc)))
                self._emit("failed", str(exc), label, job_id)
                raise
            timings["download"] = time.monotonic() - mark
            video_path = got.path
            self.ledger.update(job_id, file_path=str(got.path), message=f"saved {got.path}")
            self._emit("downloaded", f"saved {got.path} ({got.size} bytes)", label, job_id)
            record_path = got.path.with_suffix(".json")
        else:
            record_path = _free_path(self.out_dir, stem, ".json", job_id)
        timings["total"] = time.monotonic() - started
        rounded = {k: round(v, 3) for k, v in timings.items()}
        row = self.ledger.job(job_id)
        record = {
            "job_id": job_id,
            "endpoint": row.endpoint,
            "arguments": row.arguments,
            "source": row.source,
            "local_files": {
                f.loc: {"path": str(f.path), "sha256": f.sha256, "size": f.size} for f in files
            },
            "request_id": row.request_id,
            "request_hash": row.request_hash,
            "realm": row.realm,
            "estimate": row.estimate,
            "result": result,
            "file": str(video_path) if video_path else None,
            "created_at": row.created_at,
            "finished_at": row.finished_at or now_iso(),
            "timings": rounded,
        }
        _write_json(record_path, record, self.redact)
        return JobResult(
            job_id=job_id,
            request_id=row.request_id or "",
            state=state,
            result=result,
            video_path=video_path,
            record_path=record_path,
            estimate=row.estimate,
            timings=rounded,
            request_hash=row.request_hash,
        )

    def _stopped(self, handle: Any, job_id: int, label: str) -> None:
        message = (
            f"{label}: stopped while request {handle.request_id} was on fal (not cancelled); "
            f"resume it with 'kling-prompt resume' or 'kling-prompt jobs resume {job_id}'"
        )
        self.ledger.update(job_id, message="stopped by the batch; resumable")
        self._emit("note", message, label, job_id)
        raise Interrupted(message)

    def _cancel_for_deadline(self, handle: Any, job_id: int, label: str) -> None:
        """Cancel at the deadline and raise; return only if fal says the job completed."""
        outcome = self._cancel(handle)
        if outcome == "completed":
            return
        message = f"{label}: request {handle.request_id} did not finish within {self.timeout:g} s"
        if outcome == "cancelled":
            message += "; it was cancelled"
            self.ledger.update(job_id, state="cancelled", error=message)
        else:
            message += f"; cancelling it failed ({outcome}), so it may still run and be billed"
            self.ledger.update(job_id, error=message)
        self._emit("cancelled", message, label, job_id)
        raise DeadlineError(message + "; raise the timeout (--timeout) for long jobs")

    def _interrupted(self, handle: Any, job_id: int, label: str) -> None:
        outcome = self._cancel(handle)
        if outcome == "cancelled":
            self.ledger.update(
                job_id,
                state="cancelled",
                error="interrupted (Ctrl-C); the fal request was cancelled",
            )
        elif outcome == "completed":
            self.ledger.update(
                job_id,
                error="interrupted (Ctrl-C) after fal completed the job; fetch it with "
                f"'kling-prompt jobs resume {job_id}'",
            )
        else:
            self.ledger.update(
                job_id,
                error=f"interrupted (Ctrl-C); cancelling failed ({outcome}): it may still run",
            )
        self._emit(
            "cancelled", f"interrupted; request {handle.request_id}: {outcome}", label, job_id
        )

    def _cancel(self, handle: Any) -> str:
        """``cancelled``, ``completed`` (too late), or what went wrong."""
        import fal_client

        try:
            handle.cancel()
        except fal_client.FalClientHTTPError as exc:
            if "ALREADY_COMPLETED" in str(exc.message):
                return "completed"
            return self.redact(f"HTTP {exc.status_code}: {exc.message}")
        except Exception as exc:
            return self.redact(f"{type(exc).__name__}: {exc}")
        return "cancelled"

    def resume(self, job_id: int, *, name: str | None = None) -> JobResult:
        """Follow a job that has a request id but no result yet (after a crash or Ctrl-C)."""
        row = self.ledger.job(job_id)
        if row.request_id is None:
            raise DispatchError(
                f"job {job_id} has no fal request id (state {row.state}); it cannot be resumed"
                + (
                    ": the submit may or may not have reached fal, check "
                    "https://fal.ai/dashboard/requests"
                    if row.state == "submitting"
                    else ""
                )
            )
        if row.state in ("failed", "cancelled"):
            raise DispatchError(f"job {job_id} is {row.state}; send the request again instead")
        if row.state == "completed":
            if row.file_path and Path(row.file_path).exists():
                raise DispatchError(f"job {job_id} is completed and saved at {row.file_path}")
            return self.redownload(job_id, name=name)
        client = self._client()
        handle = client.get_handle(row.endpoint, row.request_id)
        self.ledger.update(job_id, message="resumed")
        now = time.monotonic()
        return self._follow(
            prepared=None,
            handle=handle,
            job_id=row.id,
            sent=row.arguments,
            name=name,
            timings={},
            started=now,
            submitted=now,
        )

    def reuse(self, prepared: Prepared, *, name: str | None = None) -> JobResult | None:
        """The result of an identical completed job in this realm, or None (nothing sent).

        A job whose file is still there is returned as is; one whose file is gone is
        downloaded again from its result URL (free: fal is not asked to run anything).
        """
        rows = [
            r
            for r in self.ledger.find(prepared.request_hash, state="completed")
            if r.realm == self.realm
        ]
        if not rows:
            return None
        with_file = [r for r in rows if r.file_path and Path(r.file_path).exists()]
        if with_file:
            row = with_file[-1]
            self._emit(
                "reused",
                f"identical to job {row.id} (completed): reusing {row.file_path}, nothing sent",
                prepared.label,
                row.id,
            )
            return self._reused(row)
        for row in reversed(rows):
            if row.result_url:
                return self.redownload(row.id, name=name, label=prepared.label)
        row = rows[-1]
        if _output_media(row.result):
            return None  # no URL recorded: cannot re-download; send again
        self._emit("reused", f"identical to job {row.id} (completed)", prepared.label, row.id)
        return self._reused(row)

    def _reused(self, row: JobRow) -> JobResult:
        path = Path(row.file_path) if row.file_path else None
        return JobResult(
            job_id=row.id,
            request_id=row.request_id or "",
            state="reused",
            result=row.result or {},
            video_path=path,
            record_path=path.with_suffix(".json") if path else self.out_dir / f"job-{row.id}.json",
            estimate=row.estimate,
            timings={},
            request_hash=row.request_hash,
        )

    def redownload(
        self, job_id: int, *, name: str | None = None, label: str | None = None
    ) -> JobResult:
        """Download a completed job's output again from its result URL; nothing is paid.

        For a download that was interrupted (crash, Ctrl-C) or a file deleted since.
        """
        row = self.ledger.job(job_id)
        if row.state != "completed" or row.result is None:
            raise DispatchError(
                f"job {job_id} is {row.state} without a stored result; it cannot be re-downloaded"
            )
        label = label or row.source or f"job {job_id}"
        self._emit("redownload", f"downloading the result of job {job_id} again", label, job_id)
        started = time.monotonic()
        stem = name or _stem(None, job_id, row.source)
        result = self._save(
            job_id,
            row.result,
            label=label,
            stem=stem,
            files=[],
            timings={},
            started=started,
            state="reused",
            target=Path(row.file_path) if row.file_path else None,  # where it was before
        )
        return result

    def cancel_job(self, job_id: int) -> str:
        """Cancel a queued or running job on fal and record it; return what happened.

        ``cancelled``; ``completed`` (too late: fal finished it); or the error text.
        """
        row = self.ledger.job(job_id)
        if row.request_id is None or row.state not in ("submitting", "queued", "running"):
            raise DispatchError(
                f"job {job_id} is {row.state}"
                + ("" if row.request_id else " without a fal request id")
                + "; only queued or running jobs can be cancelled"
            )
        handle = self._client().get_handle(row.endpoint, row.request_id)
        outcome = self._cancel(handle)
        if outcome == "cancelled":
            self.ledger.update(
                job_id, state="cancelled", error="cancelled by the user (kling-prompt cancel)"
            )
        elif outcome == "completed":
            self.ledger.update(
                job_id,
                message="cancel refused: fal had completed it; fetch it with 'kling-prompt resume'",
            )
        else:
            self.ledger.update(job_id, message=f"cancel failed: {outcome}")
        return outcome


_POLL_ERRORS = 6
"""Consecutive failed status calls (each after fal-client's own retries) before giving up."""


def _transient(exc: BaseException) -> bool:
    """A status call failure worth retrying: network trouble or fal's 5xx, not 4xx."""
    import fal_client
    import httpx

    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, fal_client.FalClientHTTPError) and exc.status_code >= 500


def _download(url: str, target: Path, expected: Any, client: Any = None) -> Any:
    from kling_prompt.dispatch.downloads import download

    size = (
        int(expected)
        if isinstance(expected, (int, float)) and not isinstance(expected, bool)
        else None
    )
    return download(url, target, expected_size=size, client=client)


def _output_media(result: Any) -> dict[str, Any]:
    """The main output file of a result: ``video``, else ``audio``/``image``, else the first."""
    if not isinstance(result, dict):
        return {}
    for key in ("video", "audio", "image"):
        value = result.get(key)
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            return value
    for value in result.values():
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            return value
    return {}


def _suffix(media: Mapping[str, Any]) -> str:
    name = media.get("file_name")
    if isinstance(name, str) and "." in name:
        return "." + name.rsplit(".", 1)[1].lower()
    ctype = str(media.get("content_type") or "")
    return {
        "video/mp4": ".mp4",
        "audio/mpeg": ".mp3",
        "audio/wav": ".wav",
        "image/png": ".png",
    }.get(ctype, ".mp4")


def _label(request: Request) -> str:
    if request.path:
        return f"{request.path}#{request.record}" if request.record else request.path
    return request.endpoint or "request"


def _source(request: Request) -> str | None:
    if request.path is None:
        return None
    return f"{request.path}#{request.record}" if request.record else request.path


def _stem(request: Request | None, job_id: int, source: str | None = None) -> str:
    if request is not None and request.path and request.path != "-":
        path, record = request.path, request.record
    elif source:
        path, _, record = source.partition("#")
    else:
        return f"job-{job_id}"
    stem = Path(path).stem
    if record:
        stem += f"-{record}"
    return _SAFE_NAME.sub("_", stem).strip("._") or f"job-{job_id}"


def _free_path(folder: Path, stem: str, suffix: str, job_id: int) -> Path:
    target = folder / f"{stem}{suffix}"
    if target.exists() or target.with_suffix(".json").exists():
        target = folder / f"{stem}-job{job_id}{suffix}"
    return target


def _write_json(path: Path, record: Mapping[str, Any], redact: Callable[[str], str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(
        redact(json.dumps(record, indent=2, ensure_ascii=False)) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)


def _estimate_dict(estimate: Any) -> dict[str, Any] | None:
    to_dict = getattr(estimate, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else None


def _text(error: BaseException, default: str) -> str:
    return str(error) or default
