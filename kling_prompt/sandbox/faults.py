"""Scripted failures: a queue of rules, each matched by route (and optionally endpoint) and count.

Tests describe what fal should do wrong next ("the next three submits get 429"), then assert
both what the client saw and what the sandbox's ledger recorded. Rules fire in the order they
were added; the first rule that matches a request is consumed and decides its fate.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ROUTES", "Fault", "FaultScript", "Route"]

Route = Literal[
    "submit",
    "status",
    "result",
    "cancel",
    "run",
    "token",
    "upload",
    "initiate",
    "put",
    "download",
    "any",
]
ROUTES: tuple[str, ...] = (
    "submit",
    "status",
    "result",
    "cancel",
    "run",
    "token",
    "upload",
    "initiate",
    "put",
    "download",
    "any",
)
"""Route names: queue submit/status/result/cancel, sync run, storage token, CDN upload, GCS-style
upload initiate and its PUT, CDN download, and ``any``."""

Action = Literal["reply", "drop", "delay", "lose_reply", "fail_job", "never_finish"]
WIRE_ACTIONS: tuple[str, ...] = ("reply", "drop", "delay", "lose_reply")
"""Rules consulted when a request arrives; the other two are consulted when a job is created."""
JOB_ACTIONS: tuple[str, ...] = ("fail_job", "never_finish")

NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


@dataclass
class Fault:
    """One scripted rule. ``times=None`` means it never runs out."""

    route: str
    action: Action
    times: int | None = 1
    endpoint: str | None = None
    status: int = 500
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    detail: Any = None
    error_type: str | None = None
    fired: int = 0

    def matches(self, route: str, endpoint: str | None, actions: tuple[str, ...]) -> bool:
        if self.action not in actions:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.route not in ("any", route):
            return False
        return self.endpoint is None or (
            endpoint is not None
            and (endpoint == self.endpoint or endpoint.startswith(self.endpoint + "/"))
        )


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


class FaultScript:
    """Thread-safe list of fault rules the sandbox consults on every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._rejected: dict[str, int] = {}

    def _add(self, fault: Fault) -> Fault:
        if fault.route not in ROUTES:
            raise ValueError(f"unknown route {fault.route!r}; use one of {', '.join(ROUTES)}")
        with self._lock:
            self._rules.append(fault)
        return fault

    def fail_next(
        self,
        route: str,
        status: int = 500,
        *,
        times: int | None = 1,
        endpoint: str | None = None,
        detail: Any = None,
        error_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        html: bool | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer the next ``times`` matching requests with an HTTP error instead of serving them.

        Defaults follow what fal sends: 429 carries ``Retry-After``; 502/503/504 are nginx HTML
        pages (an ingress error, which fal-client retries) unless ``html=False``; anything else is
        JSON ``{"detail": ..., "error_type": ...}`` with an ``X-Fal-Error-Type`` header.
        """
        hdrs = dict(headers or {})
        if html is None:
            html = status in _REASONS and detail is None
        if html:
            page = NGINX_PAGE.format(code=status, reason=_REASONS.get(status, "Error"))
            return self._add(
                Fault(route, "reply", times, endpoint, status, page.encode(), "text/html", hdrs)
            )
        if status == 429:
            hdrs.setdefault("Retry-After", str(retry_after if retry_after is not None else 1))
            detail = detail if detail is not None else "Too many requests, please slow down"
            error_type = error_type or "rate_limited"
        elif retry_after is not None:
            hdrs.setdefault("Retry-After", str(retry_after))
        if detail is None:
            detail = "Internal server error" if status >= 500 else f"Request failed ({status})"
        error_type = error_type or ("internal_error" if status >= 500 else "bad_request")
        hdrs.setdefault("X-Fal-Error-Type", error_type)
        body = _json({"detail": detail, "error_type": error_type})
        return self._add(Fault(route, "reply", times, endpoint, status, body, headers=hdrs))

    def rate_limit(
        self, route: str = "submit", *, times: int | None = 1, retry_after: float = 1
    ) -> Fault:
        """429 with ``Retry-After`` (fal-client retries 429 but ignores the header)."""
        return self.fail_next(route, 429, times=times, retry_after=retry_after)

    def nginx_error(self, route: str, status: int = 502, *, times: int | None = 1) -> Fault:
        """An ingress error page without ``x-fal-request-id``: fal-client retries it."""
        return self.fail_next(route, status, times=times, html=True)

    def drop(self, route: str, *, times: int | None = 1, endpoint: str | None = None) -> Fault:
        """Close the connection without any reply, before the request has any effect."""
        return self._add(Fault(route, "drop", times, endpoint))

    def delay(
        self, route: str, seconds: float, *, times: int | None = 1, endpoint: str | None = None
    ) -> Fault:
        """Sleep before serving the request normally; the work still happens if the client gave up."""
        return self._add(Fault(route, "delay", times, endpoint, seconds=seconds))

    def lose_reply(
        self, route: str = "submit", *, times: int | None = 1, endpoint: str | None = None
    ) -> Fault:
        """Do the work (create the job, store the upload), then drop the connection unanswered."""
        return self._add(Fault(route, "lose_reply", times, endpoint))

    def fail_job(
        self,
        *,
        times: int | None = 1,
        endpoint: str | None = None,
        status: int = 500,
        detail: Any = "Internal server error while generating the video",
        error_type: str = "runner_server_error",
        route: str = "submit",
    ) -> Fault:
        """Make the next created jobs fail on fal's side.

        Queued jobs run their course, then report COMPLETED with ``error``/``error_type`` and
        their result answers ``status`` with ``{"detail", "error_type"}`` (fal-client raises
        ``FalClientHTTPError`` from ``get()``/``subscribe()``). With ``route="run"`` the sync run
        answers that error directly. Failed jobs are not billed.
        """
        return self._add(
            Fault(route, "fail_job", times, endpoint, status, detail=detail, error_type=error_type)
        )

    def never_finish(self, *, times: int | None = 1, endpoint: str | None = None) -> Fault:
        """Queued jobs that stay IN_PROGRESS forever (until cancelled)."""
        return self._add(Fault("submit", "never_finish", times, endpoint))

    def reject_key(self, key: str, status: int = 401) -> None:
        """Refuse a fal key (401 or 403) on the queue, run and storage routes."""
        if status not in (401, 403):
            raise ValueError("a rejected key answers 401 or 403")
        with self._lock:
            self._rejected[key] = status

    def rejected_status(self, key: str) -> int | None:
        with self._lock:
            return self._rejected.get(key)

    def take(
        self, route: str, endpoint: str | None, actions: tuple[str, ...] = WIRE_ACTIONS
    ) -> Fault | None:
        """Consume and return the first rule of ``actions`` matching ``route``/``endpoint``."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(route, endpoint, actions):
                    rule.fired += 1
                    return rule
        return None

    def pending(self) -> list[Fault]:
        """Rules that can still fire, so a test can assert its script was used up."""
        with self._lock:
            return [r for r in self._rules if r.times is None or r.fired < r.times]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._rejected.clear()
