"""Batches under load against a misbehaving sandbox: the summary and the ledger stay exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from kling_prompt.dispatch import BatchSummary, Dispatcher, run_batch
from kling_prompt.sandbox import Sandbox

from .conftest import TURBO, requests


def _run(tmp_path: Path, reqs: list, **options: object) -> BatchSummary:  # type: ignore[type-arg]
    options.setdefault("concurrency", 8)
    options.setdefault("poll_interval", 0.02)
    options.setdefault("timeout", 20.0)
    return run_batch(
        reqs,
        ledger=tmp_path / "ledger.sqlite3",
        out_dir=tmp_path / "out",
        **options,  # type: ignore[arg-type]
    )


def _ledger_states(tmp_path: Path) -> dict[str, int]:
    from collections import Counter

    from kling_prompt.dispatch import Ledger

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        return dict(Counter(r.state for r in ledger.jobs()))


def test_429_storm(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fal_client

    monkeypatch.setattr(fal_client.client, "BASE_DELAY", 0.002)
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 6)
    sandbox.script.rate_limit("submit", times=40)
    summary = _run(tmp_path, requests(20))

    completed, failed = summary.completed, summary.failed
    assert len(completed) + len(failed) == 20
    assert len(completed) >= 10
    assert all("rate-limiting" in (i.reason or "") for i in failed)
    stats = sandbox.stats()
    # a 429 creates nothing: one fal job per completed item, none for the failed ones
    assert stats.jobs_created == stats.billed_jobs == len(completed)
    assert _ledger_states(tmp_path) == {
        k: v for k, v in {"completed": len(completed), "failed": len(failed)}.items() if v
    }
    assert summary.exit_code == (1 if failed else 0)
    # every submit either created a job or was answered 429 (an item that failed used all its
    # attempts on 429s, so the count is not always 20 + faults)
    assert stats.faults_fired <= 40
    assert stats.requests_by_route["submit"] == len(completed) + stats.faults_fired


def test_dropped_connections_while_polling(
    sandbox: Sandbox, tmp_path: Path, fast_retries: None
) -> None:
    sandbox.set_latency(0.3)
    sandbox.script.drop("status", times=30)
    summary = _run(tmp_path, requests(12), concurrency=6)
    assert len(summary.completed) == 12, summary.table()
    assert sandbox.stats().faults_fired == 30
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.billed_jobs) == (12, 12)
    assert _ledger_states(tmp_path) == {"completed": 12}


def test_slow_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set_latency(1.0)
    sandbox.script.delay("status", 0.1, times=None)
    sandbox.script.delay("submit", 0.2, times=None)
    summary = _run(tmp_path, requests(8))
    assert len(summary.completed) == 8
    assert sandbox.stats().jobs_created == 8
    assert summary.spent_usd == pytest.approx(8 * 1.4)
    assert "8 completed, 0 failed, 0 skipped, 0 reused, 0 blocked" in summary.table()


def test_lost_submit_reply_is_held_back_until_forced(
    sandbox: Sandbox, tmp_path: Path, fast_retries: None
) -> None:
    """The reply to one job's submit never arrives: possibly submitted, never resent by itself."""
    sandbox.script.lose_reply("submit", times=None, endpoint=TURBO)
    batch = [*requests(6), *requests(1, endpoint=TURBO, start=7)]
    summary = _run(tmp_path, batch)
    (lost,) = summary.uncertain
    assert lost.label == "clip7.json"
    assert "fal may have created, and may bill" in (lost.reason or "")
    assert "dashboard" in (lost.reason or "")
    assert len(summary.completed) == 6
    assert summary.exit_code == 1
    assert _ledger_states(tmp_path) == {"completed": 6, "submitting": 1}
    created = sandbox.stats().by_endpoint[TURBO]
    assert created == 4  # fal-client's 4 attempts each made a job the sandbox will bill

    # run again: completed ones are reused, the uncertain one is reported and NOT sent
    again = _run(tmp_path, batch)
    assert len(again.reused) == 6
    (still,) = again.uncertain
    assert "--resubmit-uncertain" in (still.reason or "")
    assert sandbox.stats().by_endpoint[TURBO] == created
    assert sandbox.stats().jobs_created == 6 + created

    # the user forces it: sent once more, and the sandbox shows the duplicate
    sandbox.script.clear()
    forced = _run(tmp_path, batch, resubmit_uncertain=True)
    assert [i.label for i in forced.completed] == ["clip7.json"]
    assert sandbox.stats().by_endpoint[TURBO] == created + 1
    with Dispatcher(ledger=tmp_path / "ledger.sqlite3") as dispatcher:
        old = dispatcher.ledger.job(lost.job_id or 0)
    assert old.state == "failed"
    assert "superseded" in (old.error or "")


def test_single_lost_reply_is_flagged_as_a_possible_duplicate(
    sandbox: Sandbox, tmp_path: Path, fast_retries: None
) -> None:
    sandbox.script.lose_reply("submit", times=1)
    summary = _run(tmp_path, requests(3), concurrency=1)
    assert len(summary.completed) == 3
    assert sandbox.stats().jobs_created == 4  # fal-client resent the submit: a second job
    (flagged,) = [i for i in summary.items if i.notes]
    assert "possible duplicate" in flagged.notes[0]
    assert "possible duplicate" in summary.table()
    with Dispatcher(ledger=tmp_path / "ledger.sqlite3") as dispatcher:
        events = dispatcher.ledger.events(flagged.job_id or 0)
    assert any("possible duplicate" in (e["message"] or "") for e in events)


def test_failed_jobs_are_reported_and_retried_only_when_asked(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.script.fail_job(times=2)
    summary = _run(tmp_path / "a", requests(5), concurrency=1)
    assert len(summary.failed) == 2
    assert all("runner_server_error" in (i.reason or "") for i in summary.failed)
    assert summary.exit_code == 1
    assert "failed" in summary.table()
    assert sandbox.stats().jobs_created == 5  # no automatic paid retry

    sandbox.reset()
    sandbox.script.fail_job(times=2)
    retried = _run(tmp_path / "b", requests(5), concurrency=1, retry=2)
    assert len(retried.completed) == 5
    assert retried.exit_code == 0
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.billed_jobs) == (7, 5)
    assert [i.attempts for i in retried.items] == [3, 1, 1, 1, 1]

    sandbox.reset()
    sandbox.script.fail_job(times=2)
    exhausted = _run(tmp_path / "c", requests(2), concurrency=1, retry=1)
    assert [i.outcome for i in exhausted.items] == ["failed", "completed"]
    assert sandbox.stats().jobs_created == 3


def test_ctrl_c_stops_sending_and_leaves_jobs_resumable(sandbox: Sandbox, tmp_path: Path) -> None:
    import _thread

    from kling_prompt.dispatch import ProgressEvent

    sandbox.set_latency(1.0)
    fired: list[ProgressEvent] = []

    def interrupt(event: ProgressEvent) -> None:
        if event.stage == "submitted" and not fired:
            fired.append(event)
            _thread.interrupt_main()  # Ctrl-C, delivered to the main thread

    summary = _run(tmp_path, requests(6), concurrency=2, progress=interrupt)
    assert summary.interrupted
    assert summary.completed == []
    assert {i.outcome for i in summary.items} == {"skipped"}
    sent = sandbox.stats().jobs_created
    assert 1 <= sent <= 2
    assert all(j.state != "CANCELLED" for j in sandbox.jobs)  # left running on fal
    assert set(_ledger_states(tmp_path)) <= {"queued", "running"}

    resumed = _run(tmp_path, requests(6), concurrency=6)
    assert len(resumed.completed) == 6
    assert sandbox.stats().jobs_created == 6  # the interrupted ones were followed, not resent
