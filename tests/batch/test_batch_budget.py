"""The whole-run budget: an over-budget plan sends nothing; a run stops sending at the budget."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from kling_prompt.cli import main
from kling_prompt.dispatch import Batch, Dispatcher, run_batch
from kling_prompt.errors import BudgetError
from kling_prompt.sandbox import Sandbox

from .conftest import requests


def _cli(tmp_path: Path, *args: str) -> int:
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    return main([*args, "--ledger", str(ledger), "--out", str(out), "--poll-interval", "0.02"])


def test_over_budget_plan_sends_nothing(
    sandbox: Sandbox,
    tmp_path: Path,
    write_inputs: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = write_inputs(4)  # 4 x $1.40 = $5.60
    code = _cli(tmp_path, "run", str(inputs), "--yes", "--max-cost", "5")
    err = capsys.readouterr().err
    assert code == 1
    assert "the plan costs an estimated $5.60, over --max-cost $5.00; nothing was sent" in err
    assert sandbox.stats().jobs_created == 0
    assert sandbox.requests == []
    assert main(["jobs", "--ledger", str(tmp_path / "ledger.sqlite3")]) == 0
    assert "No jobs." in capsys.readouterr().out


def test_run_stops_sending_at_the_budget(
    sandbox: Sandbox,
    tmp_path: Path,
    write_inputs: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = write_inputs(5)
    code = _cli(
        tmp_path,
        "run",
        str(inputs),
        "--yes",
        "--max-cost",
        "4.5",
        "--fill-budget",
        "--concurrency",
        "2",
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "3 completed, 0 failed, 2 skipped" in out
    assert len(re.findall(r"skipped\s+\$1\.40\s+budget: ", out)) == 2
    assert "cost so far $4.20 of an estimated $7.00 (budget $4.50)" in out
    assert sandbox.stats().jobs_created == 3


def test_library_budget_and_unknown_prices(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(BudgetError, match="nothing was sent"):
        run_batch(requests(3), max_cost=4.0, ledger=tmp_path / "l.sqlite3", out_dir=tmp_path)
    assert sandbox.stats().jobs_created == 0

    with Dispatcher(ledger=tmp_path / "l.sqlite3", out_dir=tmp_path, max_cost=100.0) as d:
        batch = Batch(d)
        for request in requests(2):
            batch.add(request)
        batch.plan()
        assert batch.over_budget() is None
        assert batch.items[0].prepared is not None
        batch.items[0].prepared.estimate = None  # a price the catalog does not know
        problem = batch.over_budget()
        assert problem is not None
        assert "unknown price counts as over budget" in problem
        with pytest.raises(BudgetError, match="unknown price"):
            batch.run()
    assert sandbox.stats().jobs_created == 0


def test_config_sets_budget_and_concurrency(
    sandbox: Sandbox,
    tmp_path: Path,
    write_inputs: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = write_inputs(2)
    config = tmp_path / "kling-prompt.toml"
    config.write_text("max-cost = 2.0\nconcurrency = 2\n")
    code = _cli(tmp_path, "run", str(inputs), "--yes", "--config", str(config))
    assert code == 1
    assert "over --max-cost $2.00" in capsys.readouterr().err
    assert sandbox.stats().jobs_created == 0
