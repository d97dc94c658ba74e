"""Fixtures for the command-line tests: a small private rule set and an in-process CLI runner."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Result, Runner

from kling_prompt.cli import main
from kling_prompt.resources import rules_dir

# Rules whose behaviour these tests control, so they do not depend on the shipped catalogue.
TEST_RULES = {
    "KP990-test-typo.yaml": """
code: KP990
name: test-typo
severity: warning
kind: substitution
message: "'{match}' is a typo; write '{replacement}'."
source: "test"
fix: {safe: true}
match:
  phrases: {"teh": "the", "adn": "and"}
docs:
  what: A typo with a safe fix.
  why: Tests need a fixable rule.
  bad: teh fox
  good: the fox
""",
    "KP991-test-hedge.yaml": """
code: KP991
name: test-hedge
severity: info
kind: existence
message: "'{match}' hedges."
source: "test"
match:
  phrases: [maybe]
docs:
  what: An info rule.
""",
    "KP992-test-forbidden.yaml": """
code: KP992
name: test-forbidden
severity: error
kind: existence
message: "'{match}' is forbidden."
source: "test"
match:
  phrases: [forbidden]
docs:
  what: An error rule.
""",
    "KP993-test-unsafe.yaml": """
code: KP993
name: test-unsafe
severity: warning
kind: substitution
message: "'{match}' could be '{replacement}'."
source: "test"
fix: {safe: false}
match:
  phrases: {"huge": "big"}
docs:
  what: A rule with an unsafe fix.
""",
}


@pytest.fixture
def test_rules(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A rule folder with the engine rules and KP990-KP993, made the active rule set."""
    folder = tmp_path_factory.mktemp("rules")
    shutil.copytree(rules_dir() / "kp0-linter", folder / "kp0-linter")
    for name, text in TEST_RULES.items():
        (folder / name).write_text(text.lstrip(), encoding="utf-8")
    monkeypatch.setenv("KLING_PROMPT_RULES_DIR", str(folder))
    return folder


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """Run ``kling-prompt`` in this process: ``cli("lint", "x.txt", stdin="...")``."""
    monkeypatch.delenv("KLING_PROMPT_OUTPUT_FORMAT", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    def run(*argv: str, stdin: str | None = None) -> Result:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
