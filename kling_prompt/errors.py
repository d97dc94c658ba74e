"""One exception hierarchy for the whole package.

Every error a user can hit derives from :class:`KlingPromptError`; messages name the file or field
that is wrong and say what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence


class KlingPromptError(Exception):
    """Base class of every error raised by kling_prompt."""


class SpecError(KlingPromptError, ValueError):
    """A prompt spec or builder call is invalid (names the field)."""


class TemplateError(KlingPromptError):
    """A template cannot be found, parsed or rendered."""


class ConfigError(KlingPromptError):
    """The configuration (pyproject.toml, kling-prompt.toml, flags) is invalid."""


class CatalogError(KlingPromptError, LookupError):
    """An endpoint id or capability is unknown to the catalog."""


class Problem:
    """One validation problem: the dotted field path and what is wrong there."""

    __slots__ = ("loc", "message", "type")

    def __init__(self, loc: str, message: str, type: str = "value_error") -> None:
        self.loc = loc
        self.message = message
        self.type = type

    def __repr__(self) -> str:
        return f"Problem({self.loc!r}, {self.message!r})"

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}" if self.loc else self.message


class ValidationError(KlingPromptError, ValueError):
    """Arguments do not match an endpoint's input schema; lists every problem with its path."""

    def __init__(self, endpoint_id: str, problems: Sequence[Problem]) -> None:
        self.endpoint_id = endpoint_id
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the arguments for {endpoint_id}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class RoutingError(KlingPromptError):
    """No endpoint serves what was asked; the message names the alternatives."""


class PromptFileError(KlingPromptError):
    """A prompt file cannot be read or parsed (names the file, line and column)."""


class DispatchError(KlingPromptError):
    """Sending a request to fal failed; the message says what failed and what to do."""


class AuthError(DispatchError):
    """The fal key is missing or was rejected. The key itself is never shown."""


class BudgetError(DispatchError):
    """A request or run would exceed the configured budget."""
