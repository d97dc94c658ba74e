"""Dispatch errors, and the translation of fal-client and httpx failures into them.

fal-client raises its own ``FalClientHTTPError`` (whose message may be a string, a list or a
dict), a ``MissingCredentialsError`` that is not a ``FalClientError``, raw httpx exceptions once
its retries are spent, and ``ValueError``/``KeyError`` for replies it cannot parse. Users get one
hierarchy instead, with messages that say what failed and what to do, and never the key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kling_prompt.errors import AuthError, DispatchError, Problem, ValidationError

__all__ = [
    "KEY_HELP",
    "AuthError",
    "DeadlineError",
    "DispatchError",
    "DownloadError",
    "Interrupted",
    "JobFailed",
    "LintError",
    "SubmitUncertain",
    "problems_from_detail",
    "translate",
]

KEY_HELP = (
    "set FAL_KEY to a key from https://fal.ai/dashboard/keys (export FAL_KEY=...), "
    "or pass key= to Dispatcher; 'kling-prompt run --sandbox' needs no key"
)


class LintError(DispatchError):
    """The linter found errors; pass ``force=True`` (``--force``) to send anyway."""

    def __init__(self, message: str, diagnostics: Sequence[Any]) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class JobFailed(DispatchError):
    """fal accepted the job but it failed on fal's side (``error_type`` says how)."""

    def __init__(
        self, message: str, *, error_type: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status


class DeadlineError(DispatchError, TimeoutError):
    """The job did not finish before the dispatcher's deadline; it was cancelled."""


class DownloadError(DispatchError):
    """The result could not be downloaded (or its size did not match); the job is still paid."""


class SubmitUncertain(DispatchError):
    """The submit reply was lost: fal may have created (and may bill) a job we cannot track."""


class Interrupted(DispatchError):
    """The run was stopped (Ctrl-C in a batch) while the job was on fal; it can be resumed."""


def problems_from_detail(detail: Any) -> list[Problem]:
    """fal's 422 ``detail`` list (``[{"loc": ["body", ...], "msg", "type"}]``) as problems."""
    if not isinstance(detail, list):
        return [Problem("", str(detail), "value_error")]
    problems = []
    for item in detail:
        if not isinstance(item, dict):
            problems.append(Problem("", str(item)))
            continue
        loc = item.get("loc") or []
        if isinstance(loc, list) and loc[:1] == ["body"]:
            loc = loc[1:]
        problems.append(
            Problem(
                _loc_path(loc),
                str(item.get("msg", "invalid")),
                str(item.get("type", "value_error")),
            )
        )
    return problems


def _loc_path(loc: Any) -> str:
    if not isinstance(loc, list):
        return str(loc)
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _detail_text(message: Any) -> str:
    if isinstance(message, str):
        return message
    if isinstance(message, list):
        return "; ".join(str(p) for p in problems_from_detail(message))
    return str(message)


def translate(
    exc: BaseException,
    what: str,
    *,
    endpoint: str,
    redact: Callable[[str], str],
) -> Exception:
    """A user-facing error for ``exc``, raised while doing ``what`` (e.g. "submitting")."""
    import fal_client
    import httpx
    from fal_client.auth import MissingCredentialsError

    if isinstance(exc, (DispatchError, ValidationError)):
        return exc
    if isinstance(exc, MissingCredentialsError):
        return AuthError(f"{what} failed: no fal key found; {KEY_HELP}")
    if isinstance(exc, fal_client.FalClientHTTPError):
        status = exc.status_code
        message = redact(_detail_text(exc.message))
        kind = f" ({exc.error_type})" if exc.error_type else ""
        if status in (401, 403):
            return AuthError(
                f"fal rejected the key while {what} (HTTP {status}: {message}); {KEY_HELP}"
            )
        if status == 422 or (status == 400 and isinstance(exc.message, list)):
            problems = problems_from_detail(exc.message)
            for p in problems:
                p.message = redact(p.message)
            return ValidationError(endpoint, problems)
        if status == 404:
            return DispatchError(
                f"fal has no endpoint {endpoint!r} (HTTP 404 while {what}: {message}); check the "
                "endpoint id with 'kling-prompt endpoints'"
            )
        if status == 429:
            return DispatchError(
                f"fal kept rate-limiting while {what} (HTTP 429, after fal-client's retries); "
                "wait a minute and run again, or send fewer jobs at once"
            )
        return DispatchError(f"fal answered HTTP {status}{kind} while {what}: {message}")
    if isinstance(exc, httpx.TimeoutException):
        return DispatchError(
            f"{what} timed out ({type(exc).__name__}: {redact(str(exc)) or 'no reply'}); "
            "fal or the network is slow: try again later"
        )
    if isinstance(exc, httpx.ProxyError):
        return DispatchError(f"{what} failed at the proxy ({redact(str(exc))}); check HTTPS_PROXY")
    if isinstance(exc, httpx.TransportError):
        return DispatchError(
            f"{what} failed: cannot reach fal ({type(exc).__name__}: "
            f"{redact(str(exc)) or 'connection failed'}) even after fal-client's retries; "
            "check your network connection, proxy settings (HTTPS_PROXY) and SSL_CERT_FILE"
        )
    if isinstance(exc, httpx.HTTPError):
        return DispatchError(f"{what} failed: {type(exc).__name__}: {redact(str(exc))}")
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return DispatchError(
            f"{what} failed: fal sent a reply fal-client could not read "
            f"({type(exc).__name__}: {redact(str(exc))})"
        )
    return DispatchError(f"{what} failed: {type(exc).__name__}: {redact(str(exc))}")
