"""A batch killed with SIGKILL midway is finished by ``kling-prompt resume``, paying once per job.

The sandbox runs in this process (it must outlive the batch); the batch runs in a child process
pointed at it with the sandbox's environment, so the child believes it talks to fal.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from kling_prompt.sandbox import PROXY_BYPASS_VARS, Sandbox

from .conftest import prompt

JOBS = 24


def _states(ledger: Path) -> Counter[str]:
    if not ledger.exists():
        return Counter()
    try:
        with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute("SELECT state, request_id IS NULL FROM jobs").fetchall()
    except sqlite3.Error:
        return Counter()
    states: Counter[str] = Counter()
    for state, no_id in rows:
        states["submitting-no-id" if state == "submitting" and no_id else state] += 1
    return states


def _child_env(sandbox: Sandbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_BYPASS_VARS}
    env.update(sandbox.env())
    env["KLING_PROMPT_NO_CACHE"] = "1"
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kling_prompt", *args]


def _crash_once(sandbox: Sandbox, inputs: Path, tmp: Path) -> tuple[Path, Path] | None:
    """Run the batch, SIGKILL it with jobs done and in flight; None if the kill hit a submit."""
    ledger, out = tmp / "ledger.sqlite3", tmp / "videos"
    common = ["--ledger", str(ledger), "--out", str(out), "--poll-interval", "0.05"]
    child = subprocess.Popen(
        _cli("run", str(inputs), "--yes", "--concurrency", "4", *common),
        env=_child_env(sandbox),
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            states = _states(ledger)
            in_flight = states["queued"] + states["running"]
            if states["completed"] >= 5 and in_flight >= 2 and not states["submitting-no-id"]:
                break
            if child.poll() is not None:
                pytest.fail(f"the batch ended before the kill: {child.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.01)
        else:
            pytest.fail("the batch never had jobs both completed and in flight")
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    after = _states(ledger)
    if after["submitting-no-id"]:
        return None  # killed inside a submit: a different test (possibly submitted) covers it
    assert after["completed"] < JOBS
    assert after["queued"] + after["running"] >= 1
    return ledger, out


def test_sigkill_midway_then_resume_pays_each_job_once(
    write_inputs: Callable[..., Path], tmp_path: Path
) -> None:
    inputs = write_inputs(JOBS)
    with Sandbox(latency=0.6) as sandbox:
        for attempt in range(3):
            work = tmp_path / f"attempt{attempt}"
            work.mkdir()
            sandbox.reset()
            crashed = _crash_once(sandbox, inputs, work)
            if crashed is not None:
                break
        else:
            pytest.fail("every kill landed inside a submit")
        ledger, out = crashed
        created_before = sandbox.stats().jobs_created
        assert 0 < created_before < JOBS or created_before == JOBS

        done = subprocess.run(
            _cli(
                "resume",
                str(inputs),
                "--yes",
                "--concurrency",
                "4",
                "--ledger",
                str(ledger),
                "--out",
                str(out),
                "--poll-interval",
                "0.05",
            ),
            env=_child_env(sandbox),
            cwd=work,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        assert "to follow (already on fal)" in done.stdout
        assert f"{JOBS} completed" in done.stdout or "reused" in done.stdout

        stats = sandbox.stats()
        jobs = sandbox.jobs

    # fal created and billed every job exactly once
    assert stats.jobs_created == JOBS
    assert stats.billed_jobs == JOBS
    assert sorted(j.arguments["prompt"] for j in jobs) == sorted(prompt(n) for n in range(1, 25))

    # the ledger: one completed job per input, each with its own fal request, files present
    with sqlite3.connect(ledger) as conn:
        rows = conn.execute(
            "SELECT state, request_id, file_path FROM jobs WHERE state = 'completed'"
        ).fetchall()
        others = conn.execute("SELECT state FROM jobs WHERE state != 'completed'").fetchall()
    assert len(rows) == JOBS
    assert {r[1] for r in rows} == {j.request_id for j in jobs}
    assert all(r[2] and Path(r[2]).is_file() for r in rows)
    assert {s for (s,) in others} <= {"cancelled"}  # only "planned, never sent" rows

    videos = sorted(p.name for p in out.glob("*.mp4"))
    assert len(videos) == JOBS
    leftovers = [p for p in out.iterdir() if p.suffix in (".tmp", ".part")]
    assert leftovers == []
