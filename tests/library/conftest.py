from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from kling_prompt.linter.config import Config
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.engine import Linter
from kling_prompt.linter.inputs import load

_LINTER: list[Linter] = []


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    """An empty prompt library (its root is marked by kling-prompt.toml)."""
    root = tmp_path / "lib"
    root.mkdir()
    (root / "kling-prompt.toml").write_text("", encoding="utf-8")
    return root


@pytest.fixture
def write(lib: Path) -> Callable[[str, str], Path]:
    def _write(name: str, text: str) -> Path:
        path = lib / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def linter() -> Linter:
    if not _LINTER:
        _LINTER.append(Linter(Config()))
    return _LINTER[0]


def lint_file(path: Path | str) -> list[Diagnostic]:
    """Lint one file the way 'kling-prompt lint' does: loader errors plus each item's diagnostics."""
    loaded = load(str(path), config=Config())
    out = list(loaded.errors)
    for item in loaded.items:
        out += linter().lint(item.request, directives=item.directives)
    return out


@pytest.fixture
def lint() -> Callable[[Path | str], list[Diagnostic]]:
    return lint_file
