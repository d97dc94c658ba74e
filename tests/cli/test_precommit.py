"""The pre-commit hooks, installed by pre-commit from a snapshot of this working tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
GIT = [
    "git",
    "-c",
    "user.name=kp-test",
    "-c",
    "user.email=kp@test.invalid",
    "-c",
    "commit.gpgsign=false",
]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _snapshot(target: Path) -> str:
    """Commit the current working tree (tracked and new files) into a fresh repository; return its HEAD."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "snapshot")
    return _git(target, "rev-parse", "HEAD").strip()


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs git and a checkout"
)
@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed")
def test_hook_fails_on_a_bad_prompt_and_passes_a_good_one(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    rev = _snapshot(source)
    project = tmp_path / "project"
    (project / "prompts").mkdir(parents=True)
    (project / "prompts" / "bad.txt").write_text("A fox runs. " * 220 + "\n", encoding="utf-8")
    (project / "prompts" / "good.txt").write_text(
        "A red fox trots across fresh snow, camera tracking low.\n", encoding="utf-8"
    )
    # The documented override: the hooks default to .prompt files; this project keeps .txt prompts.
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {source}\n  rev: {rev}\n  hooks:\n  - id: kling-prompt-lint\n    files: ^prompts/.*\\.(prompt|txt)$\n",
        encoding="utf-8",
    )
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "prompts")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLING_PROMPT_")}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["KLING_PROMPT_CACHE_DIR"] = str(tmp_path / "cache")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PRE_COMMIT), "run", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    failed = run("kling-prompt-lint", "--all-files")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "prompts/bad.txt" in failed.stdout
    assert "KP101" in failed.stdout
    assert "good.txt" not in failed.stdout
    passed = run("kling-prompt-lint", "--files", "prompts/good.txt")
    assert passed.returncode == 0, passed.stdout + passed.stderr
