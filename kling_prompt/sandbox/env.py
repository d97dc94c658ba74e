"""Environment handling: which variables point fal-client at the sandbox, and restoring them."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["PROXY_BYPASS_VARS", "SANDBOX_KEY", "patched_environ"]

SANDBOX_KEY = "sandbox-key"
"""The fake fal key the sandbox hands out; any ``Key ...`` is accepted unless rejected."""

PROXY_BYPASS_VARS: tuple[str, ...] = (
    "NO_PROXY",
    "no_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
)
"""Variables to unset: they would send fal traffic around the sandbox (``no_proxy``), or win over
``HTTPS_PROXY`` (lower-case ``https_proxy`` takes precedence in urllib's lookup that httpx uses)."""


@contextmanager
def patched_environ(
    env: Mapping[str, str], unset: tuple[str, ...] = PROXY_BYPASS_VARS
) -> Iterator[None]:
    """Set ``env`` and remove ``unset`` in ``os.environ``; restore every touched key exactly."""
    touched = set(env) | set(unset)
    saved = {k: os.environ.get(k) for k in touched}
    try:
        for k in unset:
            os.environ.pop(k, None)
        os.environ.update(env)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
