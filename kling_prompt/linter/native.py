"""The optional compiled helpers (``kling_prompt._lexscan``, built from ``kling_prompt/_native``).

Each has a pure-Python twin that gives the same answers (tests compare them); the compiled one
is used when it was built at install time and ``KLING_PROMPT_PURE_PYTHON`` is not set when the
linter starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kling_prompt._lexscan import Scanner


def wanted() -> bool:
    """Whether compiled helpers may be used (``KLING_PROMPT_PURE_PYTHON`` is not set)."""
    return not os.environ.get("KLING_PROMPT_PURE_PYTHON")


def scanner_type(*, required: bool = False) -> type[Scanner] | None:
    """The compiled lexicon scanner, or ``None`` when it is not built or not wanted;
    ``required`` raises ImportError instead when it is not built."""
    if not (required or wanted()):
        return None
    try:
        from kling_prompt._lexscan import Scanner
    except ImportError:
        if required:
            raise
        return None
    return Scanner


def runs_repeat() -> Callable[[Sequence[object], int], bool] | None:
    """The compiled ``runs_repeat(words, size)``, or ``None``."""
    if not wanted():
        return None
    try:
        from kling_prompt._lexscan import runs_repeat as found
    except ImportError:
        return None
    return found


def word_count() -> Callable[[str], int] | None:
    """The compiled ``word_count(text)`` (``len(text.split())``), or ``None``."""
    if not wanted():
        return None
    try:
        from kling_prompt._lexscan import word_count as found
    except ImportError:
        return None
    return found
