"""The pre-commit hooks, tried with ``pre-commit try-repo`` from a snapshot of this working tree.

pre-commit builds the hook's own environment with pip, so this is the one test that needs the
package index (as the project's install does); it never contacts anything else.
"""

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
    (project / "prompts" / "bad.prompt").write_text(
        '---\nmodel: fal-ai/kling-video/v3/pro/text-to-video\nconfig:\n  duration: "7"\n---\n'
        + "A fox runs across the field. " * 100
        + "\n",
        encoding="utf-8",
    )
    (project / "prompts" / "good.prompt").write_text(
        '---\nmodel: fal-ai/kling-video/v3/pro/text-to-video\nconfig:\n  duration: "5"\n---\n'
        "A red fox trots across fresh snow toward a birch forest, then stops and looks back. "
        "The camera tracks low beside it. Soft winter morning light, cinematic colour grading.\n",
        encoding="utf-8",
    )
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "prompts")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLING_PROMPT_")}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["KLING_PROMPT_CACHE_DIR"] = str(tmp_path / "cache")

    def try_repo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PRE_COMMIT), "try-repo", str(source), "kling-prompt-lint", "--ref", rev, *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    failed = try_repo("--all-files")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "prompts/bad.prompt" in failed.stdout
    assert "KP101" in failed.stdout
    assert "good.prompt" not in failed.stdout
    passed = try_repo("--files", "prompts/good.prompt")
    assert passed.returncode == 0, passed.stdout + passed.stderr
