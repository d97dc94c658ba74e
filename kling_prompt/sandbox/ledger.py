"""The sandbox's own books: jobs, uploads, requests and what was billed.

Tests use these records to prove what fal would have seen: that a retried submit created a second
(paid) job, that a rejected payload created none, that a cancelled job cost nothing.

Billing rule: a job is billed once, when it reaches COMPLETED without error, for the duration of
the video it produced (Kling bills per second of output). Jobs that fail on fal's side, never
finish, or are cancelled before they complete are not billed. Sync runs bill when they answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Job", "JobState", "Stats", "Upload", "WireRequest"]

JobState = Literal["IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"]
TERMINAL: frozenset[str] = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


@dataclass
class Job:
    """One job fal would have created. ``sandbox.jobs`` hands out copies, so they stay put.

    ``state`` uses FAILED and CANCELLED for the ledger; on the wire both are fal's COMPLETED
    with ``error``/``error_type``.
    """

    request_id: str
    endpoint_id: str
    path: str
    arguments: dict[str, Any]
    mode: Literal["queue", "run"]
    created_at: float
    """Wall-clock time (``time.time()``) the job was created."""
    duration: float
    """Seconds of video the job produces."""
    aspect_ratio: str
    headers: dict[str, str] = field(default_factory=dict)
    """The ``X-Fal-*`` request headers (priority, runner hint, request timeout)."""
    webhook_url: str | None = None
    state: JobState = "IN_QUEUE"
    billed_seconds: float = 0.0
    error: str | None = None
    error_type: str | None = None
    error_status: int | None = None
    never_finish: bool = False
    seq: int = 0
    t0: float = 0.0
    queue_seconds: float = 0.0
    run_seconds: float = 0.0
    completed_at: float | None = None
    cancelled_clock: float | None = None

    @property
    def billed(self) -> bool:
        return self.billed_seconds > 0


@dataclass(frozen=True)
class Upload:
    """A file stored through one of fal's upload routes and served back by the fake CDN."""

    file_id: str
    url: str
    file_name: str
    content_type: str
    size: int
    via: Literal["cdn_v3", "storage_initiate"]
    created_at: float


@dataclass(frozen=True)
class WireRequest:
    """One HTTP request as the sandbox saw it. ``Authorization`` values are redacted."""

    method: str
    host: str
    path: str
    query: str
    route: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    """HTTP status answered; None when the connection was dropped without a reply."""
    fault: str | None
    at: float


@dataclass(frozen=True)
class Stats:
    """A consistent snapshot of the ledger, taken under the sandbox's lock."""

    jobs_created: int
    by_endpoint: dict[str, int]
    by_state: dict[str, int]
    billed_jobs: int
    billed_seconds: float
    billed_by_job: dict[str, float]
    uploads: int
    requests_by_route: dict[str, int]
    faults_fired: int
    rejected: dict[int, int]
    """Requests refused before any job was made, by HTTP status (401, 404, 422...)."""
