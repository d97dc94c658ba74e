"""Regular expressions compiled on first use.

The rules hold about a hundred patterns; compiling them all at import costs more than linting a
small file. A lint of one prompt touches only the few patterns whose rules pass their gates, so
patterns are compiled the first time they are used.

After the first use a :class:`LazyPattern` costs nothing extra: compiling stores the compiled
pattern's bound methods in the instance's slots, so ``pattern.finditer`` is then a plain
attribute holding ``re.Pattern.finditer``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

_METHODS = ("findall", "finditer", "fullmatch", "match", "search", "split", "sub", "subn")


class LazyPattern:
    """A stand-in for ``re.Pattern[str]`` that compiles itself on first use."""

    __slots__ = ("_compiled", "_flags", "_source", *_METHODS)

    search: Callable[..., re.Match[str] | None]
    match: Callable[..., re.Match[str] | None]
    fullmatch: Callable[..., re.Match[str] | None]
    finditer: Callable[..., Iterator[re.Match[str]]]
    findall: Callable[..., list[Any]]
    split: Callable[..., list[Any]]
    sub: Callable[..., str]
    subn: Callable[..., tuple[str, int]]

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source, self._flags)
            for name in _METHODS:
                setattr(self, name, getattr(compiled, name))
        return compiled

    def __getattr__(self, name: str) -> Any:
        # Only reached for a method slot not filled yet: compile, and the slot holds it.
        if name in _METHODS:
            return getattr(self.compiled, name)
        raise AttributeError(name)

    @property
    def pattern(self) -> str:
        return self._source

    @property
    def flags(self) -> int:
        return self.compiled.flags

    @property
    def groups(self) -> int:
        return self.compiled.groups

    def __repr__(self) -> str:
        return f"lazy({self._source!r})"


def lazy(pattern: str, flags: int | re.RegexFlag = 0) -> LazyPattern:
    """Like :func:`re.compile`, compiled when first used."""
    return LazyPattern(pattern, int(flags))
