"""Fixtures for the dispatch tests: a fast sandbox, a dispatcher factory and local media makers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fal_client
import pytest

from kling_prompt.dispatch import Dispatcher, ProgressEvent
from kling_prompt.sandbox import Sandbox

DATA = Path(__file__).parent / "data"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with short latencies, and os.environ pointing fal-client at it."""
    with Sandbox(latency=0.08) as server, server.environment():
        yield server


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """fal-client's retry backoff in milliseconds instead of up to 50 seconds."""
    monkeypatch.setattr(fal_client.client, "BASE_DELAY", 0.005)
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 4)


class Events(list[ProgressEvent]):
    def stages(self) -> list[str]:
        return [e.stage for e in self]


@pytest.fixture
def make_dispatcher(tmp_path: Path) -> Iterator[Callable[..., tuple[Dispatcher, Events]]]:
    """Build dispatchers with a ledger and output folder in tmp_path; closed after the test."""
    made: list[Dispatcher] = []

    def make(**options: Any) -> tuple[Dispatcher, Events]:
        events = Events()
        options.setdefault("ledger", tmp_path / "ledger.sqlite3")
        options.setdefault("out_dir", tmp_path / "out")
        options.setdefault("poll_interval", 0.02)
        options.setdefault("timeout", 10.0)
        options.setdefault("progress", events.append)
        dispatcher = Dispatcher(**options)
        made.append(dispatcher)
        return dispatcher, events

    yield make
    for dispatcher in made:
        dispatcher.close()


@pytest.fixture
def data_dir(tmp_path: Path, make_png: Callable[..., Path]) -> Path:
    """A copy of tests/dispatch/data with the frame.png that portrait.json names."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    make_png(target / "frame.png")
    return target


@pytest.fixture
def make_png() -> Callable[..., Path]:
    def make(path: Path, size: tuple[int, int] = (640, 480), color: str = "red") -> Path:
        from PIL import Image

        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, color).save(path)
        return path

    return make


@pytest.fixture
def make_video() -> Callable[..., Path]:
    """A real H.264 MP4 of a given length and pixel size (the sandbox's writer, any size)."""

    def make(path: Path, seconds: float = 5.0, size: tuple[int, int] = (352, 640)) -> Path:
        from kling_prompt.sandbox import make_mp4

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make_mp4(seconds, size=size))
        return path

    return make
