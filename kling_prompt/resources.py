"""Where the package's data lives: ``templates/`` and ``rules/``.

In a source checkout (editable install) they are the top-level folders of the repository; in a
built wheel they are shipped inside the package as ``kling_prompt/_data/``.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    shipped = _PACKAGE / "_data" / name
    if shipped.is_dir():
        return shipped
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"kling_prompt data folder {name!r} not found (looked in {shipped} and {checkout}); "
        "reinstall the package"
    )


def templates_dir() -> Path:
    """The built-in Jinja templates."""
    override = os.environ.get("KLING_PROMPT_TEMPLATES_DIR")
    return Path(override) if override else _data_dir("templates")


def rules_dir() -> Path:
    """The built-in declarative rules and lexicons."""
    override = os.environ.get("KLING_PROMPT_RULES_DIR")
    return Path(override) if override else _data_dir("rules")


def package_dir() -> Path:
    return _PACKAGE
