"""The optional compiled helpers (``kling_prompt._lexscan``, built from ``kling_prompt/_native``).

Each has a pure-Python twin that gives the same answers (tests compare them); the compiled one
is used when it was built at install time and ``KLING_PROMPT_PURE_PYTHON`` is not set when the
linter starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from kling_prompt._lexscan import Scanner


def wanted() -> bool:
    """Whether compiled helpers may be used (``KLING_PROMPT_PURE_PYTHON`` is not set)."""
    return not os.environ.get("KLING_PROMPT_PURE_PYTHON")


def _module(required: bool = False) -> ModuleType | None:
    """The compiled module, or ``None`` when it is not wanted or not built; ``required`` raises
    ImportError instead when it is not built, wanted or not."""
    if not (required or wanted()):
        return None
    try:
        from kling_prompt import _lexscan
    except ImportError:
        if required:
            raise
        return None
    return _lexscan


def scanner_type(*, required: bool = False) -> type[Scanner] | None:
    """The compiled lexicon scanner (see :func:`_module` for ``None`` and ``required``)."""
    module = _module(required)
    return None if module is None else cast("type[Scanner]", module.Scanner)


def runs_repeat() -> Callable[[Sequence[object], int], bool] | None:
    """The compiled ``runs_repeat(words, size)``, or ``None``."""
    module = _module()
    return (
        None
        if module is None
        else cast(Callable[[Sequence[object], int], bool], module.runs_repeat)
    )


def word_count() -> Callable[[str], int] | None:
    """The compiled ``word_count(text)`` (``len(text.split())``), or ``None``."""
    module = _module()
    return None if module is None else cast(Callable[[str], int], module.word_count)


def has_digit() -> Callable[[str], bool] | None:
    """The compiled ``has_digit(text)`` (whether ``\\d`` matches somewhere), or ``None``."""
    module = _module()
    return None if module is None else cast(Callable[[str], bool], module.has_digit)


GateText = Callable[[str, tuple[str, ...], tuple[int, ...], int], int]


def gate_text() -> GateText | None:
    """The compiled ``gate_text(text, needles, masks, wanted)``, or ``None``."""
    module = _module()
    return None if module is None else cast(GateText, module.gate_text)
