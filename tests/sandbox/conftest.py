"""Shared fixtures for the sandbox tests: a stub validator, a started sandbox, real clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fal_client
import pytest
from sandbox_support import MULTI, T2V, ManualClock, stub_validator

from kling_prompt.sandbox import Sandbox

__all__ = ["MULTI", "T2V", "ManualClock", "stub_validator"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(validator=stub_validator, latency=0.05) as sb, sb.environment():
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Any:
    """A real fal-client, built after the environment points at the sandbox."""
    return fal_client.SyncClient(key="sandbox-key")


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """fal-client's retry backoff in milliseconds instead of up to 50 seconds."""
    monkeypatch.setattr(fal_client.client, "BASE_DELAY", 0.005)
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 5)
