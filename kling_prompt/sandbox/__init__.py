"""A local fal-compatible server for offline tests and dry runs.

The real fal-client reaches it unpatched: set the variables from :meth:`Sandbox.start` (an
``HTTPS_PROXY`` on 127.0.0.1 plus ``SSL_CERT_FILE`` for the sandbox's own CA) and unset
:data:`PROXY_BYPASS_VARS`. It validates payloads like fal, runs jobs through IN_QUEUE and
IN_PROGRESS to COMPLETED over (simulated) time, returns small real MP4 files from a fake CDN,
stores uploads, fails on request (:class:`FaultScript`) and keeps a ledger of what it did::

    with Sandbox() as sandbox, sandbox.environment():
        client = fal_client.SyncClient()  # build clients after the environment is set
        client.subscribe("fal-ai/kling-video/v2.1/master/text-to-video", {"prompt": "a cat"})
        assert sandbox.stats().jobs_created == 1

In pytest, use the ``fal_sandbox`` fixture. ``python -m kling_prompt.sandbox`` serves in the
foreground. Names are imported on first use, so the pytest plugin costs nothing until used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .env import PROXY_BYPASS_VARS, SANDBOX_KEY, patched_environ
    from .faults import ROUTES, Fault, FaultScript
    from .ledger import Job, Stats, Upload, WireRequest
    from .mp4 import make_mp4
    from .server import (
        FAL_HOSTS,
        Sandbox,
        SandboxError,
        Validator,
        accept_all,
        catalog_validator,
    )

_EXPORTS: dict[str, str] = {
    "PROXY_BYPASS_VARS": "env",
    "SANDBOX_KEY": "env",
    "patched_environ": "env",
    "ROUTES": "faults",
    "Fault": "faults",
    "FaultScript": "faults",
    "Job": "ledger",
    "Stats": "ledger",
    "Upload": "ledger",
    "WireRequest": "ledger",
    "make_mp4": "mp4",
    "FAL_HOSTS": "server",
    "Sandbox": "server",
    "SandboxError": "server",
    "Validator": "server",
    "accept_all": "server",
    "catalog_validator": "server",
}

__all__ = [
    "FAL_HOSTS",
    "PROXY_BYPASS_VARS",
    "ROUTES",
    "SANDBOX_KEY",
    "Fault",
    "FaultScript",
    "Job",
    "Sandbox",
    "SandboxError",
    "Stats",
    "Upload",
    "Validator",
    "WireRequest",
    "accept_all",
    "catalog_validator",
    "make_mp4",
    "patched_environ",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
