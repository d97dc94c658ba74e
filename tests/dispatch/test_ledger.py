"""The SQLite ledger: schema versions and migrations, job states, the upload cache, threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from kling_prompt.dispatch.ledger import MIGRATIONS, SCHEMA_VERSION, Ledger, LedgerError


def _job(ledger: Ledger, **extra: object) -> int:
    return ledger.add_job(
        request_hash="h" * 64,
        endpoint="fal-ai/kling-video/v2.1/master/text-to-video",
        arguments={"prompt": "a fox"},
        estimate={"usd": 1.4, "basis": "test"},
        **extra,  # type: ignore[arg-type]
    )


def test_new_ledger_has_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "ledger.sqlite3"
    with Ledger(path) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"jobs", "uploads", "job_events"} <= tables
    conn.close()


def test_migrates_a_version_1_ledger_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO jobs (request_hash, endpoint, arguments, state, request_id, created_at, "
        "updated_at) VALUES ('x', 'fal-ai/e', '{}', 'queued', 'rid-1', 't', 't')"
    )
    conn.execute("INSERT INTO uploads VALUES ('abc', 'https://v3.fal.media/f', 3, 'a.png', 't')")
    conn.commit()
    conn.close()
    with Ledger(path) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
        (row,) = ledger.jobs()
        assert (row.request_id, row.state, row.realm) == ("rid-1", "queued", "fal")
        cached = ledger.upload("abc", "fal")
        assert cached is not None
        assert cached.url == "https://v3.fal.media/f"
        assert ledger.upload("abc", "sandbox:1") is None


def test_refuses_a_ledger_from_a_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(LedgerError, match="upgrade kling-prompt"):
        Ledger(path)


def test_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("just some text, not SQLite\n" * 100)
    with pytest.raises(LedgerError, match="not a kling-prompt ledger"):
        Ledger(path)


def test_job_lifecycle_records_states_and_history(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        job = _job(ledger, source="prompts/fox.json", realm="sandbox:1")
        assert ledger.job(job).state == "planned"
        row = ledger.update(job, state="submitting")
        assert row.submitted_at is not None
        ledger.update(job, state="queued", request_id="rid-1")
        ledger.update(job, state="running")
        ledger.update(job, state="queued")  # fal may requeue a job
        row = ledger.update(
            job,
            state="completed",
            result={"video": {"url": "https://x/v.mp4"}},
            result_url="https://x/v.mp4",
        )
        assert row.finished_at is not None
        assert row.result == {"video": {"url": "https://x/v.mp4"}}
        assert row.estimate_usd == 1.4
        assert row.estimate == {"usd": 1.4, "basis": "test"}
        assert [e["state"] for e in ledger.events(job)] == [
            "planned",
            "submitting",
            "queued",
            "running",
            "queued",
            "completed",
        ]
        assert ledger.find("h" * 64, state="completed")[0].id == job


def test_finished_jobs_keep_their_state_and_states_never_go_back(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        job = _job(ledger)
        ledger.update(job, state="submitting")
        with pytest.raises(LedgerError, match="cannot go back"):
            ledger.update(job, state="planned")
        ledger.update(job, state="failed", error="boom")
        with pytest.raises(LedgerError, match="already failed"):
            ledger.update(job, state="completed")
        with pytest.raises(LedgerError, match="unknown job state"):
            ledger.update(job, state="done")
        with pytest.raises(LedgerError, match="unknown job field"):
            ledger.update(job, colour="red")
        with pytest.raises(LedgerError, match="no job 99"):
            ledger.job(99)


def test_request_ids_are_unique(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        first, second = _job(ledger), _job(ledger)
        ledger.update(first, request_id="same")
        with pytest.raises(sqlite3.IntegrityError):
            ledger.update(second, request_id="same")


def test_errors_are_redacted_before_they_are_stored(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger(path, redact=lambda text: text.replace("s3cret", "***")) as ledger:
        job = _job(ledger)
        ledger.update(job, error="HTTP 401 for Key s3cret", message="saw s3cret")
        assert ledger.job(job).error == "HTTP 401 for Key ***"
    assert b"s3cret" not in path.read_bytes()


def test_upload_cache_is_per_realm(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.add_upload("a" * 64, "https://v3.fal.media/files/1/a.png", size=3, file_name="a.png")
        assert ledger.upload("a" * 64) is not None
        assert ledger.upload("a" * 64, "sandbox:9") is None
        assert len(ledger.uploads()) == 1


def test_parallel_writers_from_threads(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(20):
                    job = _job(ledger)
                    ledger.update(job, state="submitting")
                    ledger.update(job, state="failed", error="x")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(ledger.jobs(state="failed")) == 80


def test_default_location_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLING_PROMPT_LEDGER", raising=False)
    with Ledger() as ledger:
        assert ledger.path == Path(".kling-prompt/ledger.sqlite3")
    assert (tmp_path / ".kling-prompt" / "ledger.sqlite3").is_file()
    monkeypatch.setenv("KLING_PROMPT_LEDGER", str(tmp_path / "elsewhere.sqlite3"))
    with Ledger() as ledger:
        assert ledger.path == tmp_path / "elsewhere.sqlite3"
