"""``run``/``resume`` against the ledger (reuse, re-download, resend), ``jobs`` filters, ``cancel``,
and the two progress displays."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kling_prompt.cli import main
from kling_prompt.dispatch import (
    Dispatcher,
    Ledger,
    LineDisplay,
    ProgressEvent,
    TerminalDisplay,
    run_batch,
)
from kling_prompt.sandbox import Sandbox

from .conftest import T2V, TURBO, requests


def _cli(tmp_path: Path, *args: str) -> int:
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    return main([*args, "--ledger", str(ledger), "--out", str(out), "--poll-interval", "0.02"])


def test_rerun_reuses_redownloads_and_resends_only_when_forced(
    sandbox: Sandbox,
    tmp_path: Path,
    write_inputs: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = write_inputs(3)
    assert _cli(tmp_path, "run", str(inputs), "--yes") == 0
    capsys.readouterr()
    assert sandbox.stats().jobs_created == 3

    # same inputs again: nothing is sent, no confirmation needed
    assert _cli(tmp_path, "run", str(inputs)) == 0
    out = capsys.readouterr().out
    assert "0 completed, 0 failed, 0 skipped, 3 reused" in out
    assert sandbox.stats().jobs_created == 3

    # a video deleted: downloaded again from the stored URL, free
    video = tmp_path / "out" / "clip02.mp4"
    size = video.stat().st_size
    video.unlink()
    assert _cli(tmp_path, "resume", str(inputs)) == 0
    out = capsys.readouterr().out
    assert "1 to download again (free)" in out
    assert video.stat().st_size == size
    assert sandbox.stats().jobs_created == 3

    # --force-resend: new paid jobs, after confirmation
    assert _cli(tmp_path, "run", str(inputs), "--yes", "--force-resend") == 0
    assert "3 completed" in capsys.readouterr().out
    assert sandbox.stats().jobs_created == 6


def test_duplicate_inputs_in_one_batch_are_sent_once(sandbox: Sandbox, tmp_path: Path) -> None:
    batch = [*requests(2), *requests(1)]
    summary = run_batch(batch, ledger=tmp_path / "l.sqlite3", out_dir=tmp_path, poll_interval=0.02)
    assert [i.outcome for i in summary.items] == ["completed", "completed", "reused"]
    assert summary.items[2].reason == "same request as #1; nothing sent"
    assert summary.items[2].file == summary.items[0].file
    assert sandbox.stats().jobs_created == 2


def _crash_after_submit(tmp_path: Path, count: int, endpoint: str = T2V) -> list[int]:
    """Submit jobs that stay on fal, as if the process died right after each submit."""

    def crash(event: Any) -> None:
        if event.stage == "submitted":
            raise RuntimeError("process died")

    ids = []
    with Dispatcher(
        ledger=tmp_path / "ledger.sqlite3", out_dir=tmp_path / "out", progress=crash
    ) as dispatcher:
        for request in requests(count, endpoint=endpoint):
            with pytest.raises(RuntimeError):
                dispatcher.run(request)
        ids = [r.id for r in dispatcher.ledger.jobs()]
    return ids


def test_resume_without_inputs_follows_unfinished_jobs(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.set_latency(0.3)
    _crash_after_submit(tmp_path, 3)
    assert _cli(tmp_path, "resume") == 0
    out = capsys.readouterr().out
    assert "3 to follow (already on fal)" in out
    assert "3 completed" in out
    assert sandbox.stats().jobs_created == 3
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mp4")) == [
        "clip1.mp4",
        "clip2.mp4",
        "clip3.mp4",
    ]
    assert _cli(tmp_path, "resume") == 0
    assert "Nothing to resume" in capsys.readouterr().out


def test_possibly_submitted_job_is_explained_by_resume(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        job = ledger.add_job(
            request_hash="0" * 64,
            endpoint=T2V,
            arguments={"prompt": "x"},
            source="clip9.json",
            state="submitting",
        )
    assert _cli(tmp_path, "resume") == 1
    out = capsys.readouterr().out
    assert f"possibly submitted: job {job} was being submitted" in out
    assert "fal may have created and billed it" in out
    assert "https://fal.ai/dashboard/requests" in out
    assert "--resubmit-uncertain" in out
    assert sandbox.stats().jobs_created == 0


def test_jobs_filters_and_json(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_batch(
        [*requests(2), *requests(1, endpoint=TURBO, start=3)],
        ledger=tmp_path / "ledger.sqlite3",
        out_dir=tmp_path / "out",
        poll_interval=0.02,
    )
    ledger = ["--ledger", str(tmp_path / "ledger.sqlite3")]

    def listing(*args: str) -> list[dict[str, Any]]:
        assert main(["jobs", *ledger, "--output-format", "json", *args]) == 0
        rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
        return rows

    assert len(listing()) == 3
    assert [r["endpoint"] for r in listing("--endpoint", "v2.5-turbo")] == [TURBO]
    assert len(listing("--state", "completed", "--since", "1h")) == 3
    assert listing("--state", "failed") == []
    assert listing("--since", "2999-01-01") == []
    assert len(listing("--since", "2000-01-01T00:00")) == 3
    assert main(["jobs", *ledger, "--endpoint", "v2.1"]) == 0
    assert capsys.readouterr().out.count("completed") == 2
    with pytest.raises(SystemExit):
        main(["jobs", *ledger, "--since", "yesterday-ish"])
    assert "expected an ISO date" in capsys.readouterr().err


def test_cancel_one_and_all_running(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.script.never_finish(times=3)
    ids = _crash_after_submit(tmp_path, 3)
    ledger = ["--ledger", str(tmp_path / "ledger.sqlite3")]
    assert main(["cancel", str(ids[0]), *ledger]) == 0
    assert f"job {ids[0]}: cancelled" in capsys.readouterr().out
    assert main(["cancel", "--all-running", *ledger]) == 0
    out = capsys.readouterr().out
    assert f"job {ids[1]}: cancelled" in out
    assert f"job {ids[2]}: cancelled" in out
    assert [j.state for j in sandbox.jobs] == ["CANCELLED"] * 3
    with Ledger(tmp_path / "ledger.sqlite3") as book:
        assert [r.state for r in book.jobs()] == ["cancelled"] * 3
    assert main(["cancel", str(ids[0]), *ledger]) == 1
    assert "only queued or running jobs can be cancelled" in capsys.readouterr().out
    assert main(["cancel", *ledger]) == 2
    assert sandbox.stats().billed_jobs == 0


def test_line_display_prints_one_line_per_state_change(sandbox: Sandbox, tmp_path: Path) -> None:
    out = io.StringIO()
    run_batch(
        requests(2),
        ledger=tmp_path / "l.sqlite3",
        out_dir=tmp_path,
        poll_interval=0.01,
        progress=LineDisplay(out),
    )
    lines = out.getvalue().splitlines()
    assert "\x1b[" not in out.getvalue()
    for n in (1, 2):
        mine = [line for line in lines if line.startswith(f"[{n}/2] clip{n}.json: ")]
        stages = [line.split(": ", 1)[1].split(" ")[0] for line in mine]
        # "in queue" is only seen if a poll lands in the short queued phase
        assert [s for s in stages if s != "in"] == ["submitted", "running", "done:"], mine
        assert stages.count("in") <= 1
    assert lines[-1].endswith("of est. $2.80]")


def test_terminal_display_redraws_in_place() -> None:
    from kling_prompt.dispatch.batch import BatchItem, BatchSummary

    out = io.StringIO()
    items = [BatchItem(n, f"clip{n}.json", None) for n in (1, 2)]
    summary = BatchSummary(items, ledger="l", max_cost=None)
    display = TerminalDisplay(out)
    display.start(summary)
    display(ProgressEvent("running", "running", label="clip1.json", index=1))
    display(ProgressEvent("queued", "in queue, position 0", label="clip2.json", index=2))
    items[0].outcome = "completed"
    display(ProgressEvent("completed", "done: clip1.mp4", label="clip1.json", index=1))
    display.close()
    text = out.getvalue()
    assert "\x1b[" in text
    assert "F\x1b[J" in text
    assert "[1/2] clip1.json: done: clip1.mp4" in text
    assert "#2   clip2.json  in queue, position 0" in text
    assert "1/2 done, $0.00 spent" in text
    assert "[" + "#" * 14 + "." * 14 + "]" in text
