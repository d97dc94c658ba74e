"""Types shared by the command-line tests (a uniquely named module: every test folder's
conftest.py is importable as plain ``conftest``, so shared names must not live there)."""

from __future__ import annotations

from collections.abc import Callable


class Result:
    """What one in-process CLI call returned and printed."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err


Runner = Callable[..., Result]
