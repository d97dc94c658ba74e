"""Fixtures for the batch tests: a sandbox with short jobs, fast fal-client retries, inputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import fal_client
import pytest

from kling_prompt.request import Request
from kling_prompt.sandbox import Sandbox

T2V = "fal-ai/kling-video/v2.1/master/text-to-video"
TURBO = "fal-ai/kling-video/v2.5-turbo/pro/text-to-video"
PROMPT = (
    "A red fox trots across fresh snow at dawn, the camera tracking slowly beside it at ground "
    "level, soft golden light and long blue shadows, breath visible in the cold air, take {n}"
)


def prompt(n: int) -> str:
    return PROMPT.format(n=n)


def requests(count: int, endpoint: str = T2V, start: int = 1) -> list[Request]:
    """Distinct text-to-video requests (each a different request hash)."""
    return [
        Request(endpoint, {"prompt": prompt(n), "duration": "5"}, path=f"clip{n}.json")
        for n in range(start, start + count)
    ]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with short jobs, and os.environ pointing fal-client at it."""
    with Sandbox(latency=0.1) as server, server.environment():
        yield server


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """fal-client's retry backoff in milliseconds instead of up to 50 seconds (4 attempts)."""
    monkeypatch.setattr(fal_client.client, "BASE_DELAY", 0.005)
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 4)


@pytest.fixture
def write_inputs(tmp_path: Path) -> Callable[..., Path]:
    """Write ``count`` JSON payload files (clip1.json ...) into a fresh folder."""

    def write(count: int, folder: str = "inputs", endpoint: str = T2V) -> Path:
        target = tmp_path / folder
        target.mkdir(parents=True, exist_ok=True)
        for n in range(1, count + 1):
            payload = {"endpoint": endpoint, "arguments": {"prompt": prompt(n), "duration": "5"}}
            (target / f"clip{n:02d}.json").write_text(json.dumps(payload))
        return target

    return write
