"""Where the package's data lives: ``templates/`` and ``rules/``.

In a source checkout (editable install) they are the top-level folders of the repository; in a
built wheel they are shipped inside the package as ``kling_prompt/_data/``. The ``*_location``
functions return strings so the linter's start-up never imports pathlib.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_PACKAGE = os.path.dirname(os.path.realpath(__file__))


def _data_dir(name: str) -> str:
    shipped = os.path.join(_PACKAGE, "_data", name)
    if os.path.isdir(shipped):
        return shipped
    checkout = os.path.join(os.path.dirname(_PACKAGE), name)
    if os.path.isdir(checkout):
        return checkout
    raise FileNotFoundError(
        f"kling_prompt data folder {name!r} not found (looked in {shipped} and {checkout}); "
        "reinstall the package"
    )


def templates_location() -> str:
    """The built-in Jinja templates folder, as a string."""
    return os.environ.get("KLING_PROMPT_TEMPLATES_DIR") or _data_dir("templates")


def rules_location() -> str:
    """The built-in rules and lexicons folder, as a string."""
    return os.environ.get("KLING_PROMPT_RULES_DIR") or _data_dir("rules")


def templates_dir() -> Path:
    """The built-in Jinja templates."""
    from pathlib import Path

    return Path(templates_location())


def rules_dir() -> Path:
    """The built-in declarative rules and lexicons."""
    from pathlib import Path

    return Path(rules_location())
