"""``kling-prompt lint`` on one file must not import heavy modules it does not use (a behaviour test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "fal_client",
    "httpx",
    "pydantic",
    "jinja2",
    "yaml",
    "tomllib",
    "multiprocessing",
    "concurrent",
    "shutil",  # with bz2 and lzma: argparse imports it for the terminal width unless told it
)

WRAPPER = f"""
import sys
from kling_prompt.cli import main
code = main(sys.argv[1:])
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("one.txt", "A red fox trots across fresh snow, camera tracking low.\n"),
        (
            "job.json",
            json.dumps(
                {
                    "endpoint": "fal-ai/kling-video/v2.6/pro/text-to-video",
                    "arguments": {"prompt": "A fox runs.", "duration": "5"},
                }
            ),
        ),
    ],
)
def test_lint_one_file_imports_nothing_heavy(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KLING_PROMPT_CACHE_DIR": str(tmp_path / "cache"),
    }
    for _ in range(
        2
    ):  # the first run fills the rule cache (that may import PyYAML); the second is the one measured
        proc = subprocess.run(
            [sys.executable, "-c", WRAPPER, "lint", "--output-format", "concise", str(path)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            check=False,
        )
    assert proc.returncode in (0, 1), proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("HEAVY="))
    assert line == "HEAVY=", f"linting {name} imported {line[6:]}"


def test_help_width_follows_columns_then_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from kling_prompt import cli

    monkeypatch.setenv("COLUMNS", "57")
    assert cli._terminal_width() == 57 == shutil.get_terminal_size().columns
    monkeypatch.setenv("COLUMNS", "0")
    assert cli._terminal_width() == shutil.get_terminal_size().columns
    monkeypatch.setenv("COLUMNS", "wide")
    assert cli._terminal_width() == shutil.get_terminal_size().columns
    monkeypatch.setenv("COLUMNS", "60")
    assert cli._Formatter("kling-prompt")._width == 58  # argparse's own margin of 2
