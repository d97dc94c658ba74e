"""Atomic downloads of results: a temporary file in the target folder, then ``os.replace``.

(The module is ``downloads``, not ``download``: importing a submodule sets an attribute of that
name on the package, which would shadow the package's ``download`` function.)

A partial or wrong-sized file never appears under the final name. Temporary files are named
``.<name>.<pid>-<random>.part``, so :func:`clean_partials` can remove those left by a process that
died (SIGKILL, power loss) without touching a download still in progress. httpx (a fal-client
dependency) is imported on first use; it honours ``HTTPS_PROXY`` and ``SSL_CERT_FILE`` like
fal-client does, so the sandbox's CDN works too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from kling_prompt.dispatch.errors import DownloadError

__all__ = ["Downloaded", "clean_partials", "download", "http_client"]

_ATTEMPTS = 3


class Downloaded:
    """A finished download: where it is, its size and its sha256."""

    __slots__ = ("path", "sha256", "size")

    def __init__(self, path: Path, size: int, sha256: str) -> None:
        self.path = path
        self.size = size
        self.sha256 = sha256


def download(
    url: str,
    target: Path,
    *,
    expected_size: int | None = None,
    timeout: float = 120.0,
    retry_delay: float = 0.5,
    client: Any = None,
) -> Downloaded:
    """Download ``url`` to ``target`` atomically, checking ``expected_size`` when given.

    Transient failures (network errors, HTTP 5xx) are retried twice; a size mismatch is not,
    and leaves no file behind. ``client`` is an ``httpx.Client`` to reuse (its connections and
    TLS setup), e.g. :func:`http_client`'s; by default one is made for this download.
    """
    import httpx

    target.parent.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    with contextlib.ExitStack() as stack:
        http = client if client is not None else stack.enter_context(http_client(timeout))
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return _once(http, url, target, expected_size)
            except DownloadError:
                raise
            except (httpx.TransportError, _Retryable) as exc:
                last = exc
                if attempt < _ATTEMPTS:
                    time.sleep(retry_delay * attempt)
    raise DownloadError(
        f"downloading {url} failed after {_ATTEMPTS} attempts ({type(last).__name__}: {last}); "
        "the job is done and paid: fetch the file from that URL, or see 'kling-prompt jobs show'"
    )


def http_client(timeout: float = 120.0) -> Any:
    """An ``httpx.Client`` for downloads (thread-safe, so one can serve a whole batch)."""
    import httpx

    return httpx.Client(follow_redirects=True, timeout=httpx.Timeout(timeout, connect=15.0))


class _Retryable(Exception):
    pass


def _once(http: Any, url: str, target: Path, expected_size: int | None) -> Downloaded:
    digest = hashlib.sha256()
    size = 0
    # Not mkstemp: its 0600 mode would stick to the video; open(..., "xb") honours the umask.
    tmp = target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(6)}.part"
    try:
        with tmp.open("xb") as out, http.stream("GET", url) as response:
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise DownloadError(
                    f"downloading {url} failed: HTTP {response.status_code}; the URL may have "
                    "expired; see 'kling-prompt jobs show' for the job"
                )
            for chunk in response.iter_bytes(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if expected_size is not None and size != expected_size:
            raise DownloadError(
                f"downloaded {size} bytes from {url} but fal reported file_size {expected_size}; "
                "the file was not kept: run the download again from that URL"
            )
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return Downloaded(target, size, digest.hexdigest())


_PARTIAL = re.compile(r"^\..+\.(\d+)(?:-[0-9a-f]+)?\.part$")


def clean_partials(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary ``.part`` files in ``folder`` left by processes no longer running.

    Returns the files removed. Files of live processes (this one included) are kept.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(folder).glob(".*.part"))
    except OSError:
        return removed
    for path in entries:
        match = _PARTIAL.match(path.name)
        if match is not None and _alive(int(match[1])):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True
