"""``kling-prompt run`` and ``kling-prompt jobs`` with the built-in sandbox (``--sandbox``)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kling_prompt.cli import main, run_cmd
from kling_prompt.dispatch import Ledger


@pytest.fixture(autouse=True)
def _fast_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_cmd, "SANDBOX_LATENCY", 0.05)
    monkeypatch.setattr(run_cmd, "SANDBOX_POLL", 0.02)


@pytest.fixture
def good(data_dir: Path) -> Path:
    """Payloads that pass lint: text-to-video, image-to-video with a local PNG, multi-shot."""
    (data_dir / "broken.json").unlink()
    return data_dir


def _run(*args: str) -> int:
    return main(["run", *args])


def test_run_sandbox_end_to_end(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "users-real-key-1234")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    before = dict(os.environ)
    out, ledger = tmp_path / "videos", tmp_path / "l.sqlite3"
    code = _run(str(good), "--sandbox", "--yes", "--out", str(out), "--ledger", str(ledger))
    text = capsys.readouterr().out
    assert code == 0, text
    assert dict(os.environ) == before  # the sandbox env was for the run only
    assert "Plan: 3 job(s) (sandbox)" in text
    assert "Total: $2.94 for 3 job(s) (sandbox: nothing is billed)" in text
    assert "start_image_url: uploaded frame.png" in text
    assert "in queue, position" in text or "running" in text
    assert "3 completed, 0 failed, 0 skipped, 0 reused, 0 blocked" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "fox.json",
        "fox.mp4",
        "portrait.json",
        "portrait.mp4",
        "shots-intro.json",
        "shots-intro.mp4",
    ]
    with Ledger(ledger) as book:
        rows = book.jobs()
    assert [r.state for r in rows] == ["completed"] * 3
    assert all(r.realm.startswith("sandbox:") for r in rows)

    assert main(["jobs", "--ledger", str(ledger)]) == 0
    listing = capsys.readouterr().out
    assert listing.splitlines()[0].split()[:3] == ["id", "state", "endpoint"]
    assert listing.count("completed") == 3
    assert "sandbox" in listing
    assert main(["jobs", "show", "2", "--ledger", str(ledger)]) == 0
    shown = capsys.readouterr().out
    assert "request id" in shown
    assert "history:" in shown
    assert "completed" in shown
    assert main(["jobs", "show", "2", "--ledger", str(ledger), "--output-format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == 2
    assert main(["jobs", "show", "99", "--ledger", str(ledger)]) == 2


def test_dry_run_sends_nothing(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "l.sqlite3"
    code = _run(str(good), "--dry-run", "--ledger", str(ledger), "--out", str(tmp_path / "o"))
    text = capsys.readouterr().out
    assert code == 0
    assert "Plan: 3 job(s)" in text
    assert "$1.40" in text
    assert not (tmp_path / "o").exists()
    with Ledger(ledger) as book:
        assert book.jobs() == []


def test_lint_errors_block_the_job_unless_forced(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "one"
    target.mkdir()
    shutil.copy(data_dir / "broken.json", target)
    common = ["--sandbox", "--yes", "--ledger", str(tmp_path / "l.sqlite3"), "--out", str(target)]
    assert _run(str(target), *common) == 1
    text = capsys.readouterr().out
    assert "BLOCKED" in text
    assert "KP105" in text
    assert "Nothing to send." in text
    assert _run(str(target), *common, "--force") == 0
    assert "1 completed" in capsys.readouterr().out


def test_refuses_without_a_terminal_or_yes(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(str(good), "--sandbox", "--ledger", str(tmp_path / "l.sqlite3"))
    captured = capsys.readouterr()
    assert code == 2
    assert "refusing to spend without confirmation" in captured.err
    assert "--yes" in captured.err
    with Ledger(tmp_path / "l.sqlite3") as book:
        assert book.jobs() == []


def test_asks_and_stops_on_no(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "n")
    code = _run(str(good), "--sandbox", "--ledger", str(tmp_path / "l.sqlite3"))
    assert code == 1
    assert asked == ["Send 3 job(s) to the sandbox for an estimated $2.94? [y/N] "]
    assert "Nothing sent." in capsys.readouterr().out


def test_max_cost_refuses_an_expensive_plan(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(str(good), "--sandbox", "--yes", "--max-cost", "2", "--ledger", str(tmp_path / "l"))
    assert code == 1
    assert "over --max-cost $2.00; nothing was sent" in capsys.readouterr().err


def test_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(str(tmp_path / "missing.json")) == 2
    assert "no such file or folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run(str(empty)) == 2
    assert "no inputs" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert _run(str(bad), "--sandbox", "--yes") == 2
    assert "invalid JSON" in capsys.readouterr().err
    good = tmp_path / "ok.txt"
    good.write_text("a fox in the snow\n")
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert _run(str(good), "--yes") == 2
    assert "no fal key" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["run", str(good), "--max-cost", "lots"])
    assert caught.value.code == 2
    assert main(["jobs", "--ledger", str(tmp_path / "nope.sqlite3")]) == 2
