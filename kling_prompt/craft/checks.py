"""Lint-backed checks the craft helpers share: they run the project's own rules, never copies.

A preset combination is checked with KP801 (contradiction), motion-control layers with KP301
(choreography), time marks with KP804. Each helper lints only the rule it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kling_prompt.errors import SpecError

if TYPE_CHECKING:
    from kling_prompt.linter.diagnostic import Diagnostic
    from kling_prompt.request import Request

__all__ = ["check_time_marks", "lint_rule", "problems", "refuse_motion"]


def lint_rule(
    text_or_request: str | Request, code: str, *, mode: str | None = None
) -> list[Diagnostic]:
    """The diagnostics of one rule (by code) for a text or a request."""
    from kling_prompt.linter import lint

    return lint(text_or_request, mode=mode, config={"select": [code]})


def problems(request: Request) -> list[Diagnostic]:
    """Warnings and errors of a request (info left out): what "lints clean" must not have."""
    from kling_prompt.linter import lint

    return [d for d in lint(request) if d.severity != "info"]


def refuse_motion(text: str, field: str) -> None:
    """Refuse motion-control prompt text that describes body motion (rule KP301)."""
    found = lint_rule(text, "KP301", mode="motion-control")
    if found:
        raise SpecError(
            f"{field}: {found[0].message} [KP301]; motion-control layers hold identity, "
            "environment and style only"
        )


def check_time_marks(request: Request) -> None:
    """Refuse a request whose time marks fall outside its duration (rule KP804)."""
    found = lint_rule(request, "KP804")
    if found:
        raise SpecError(f"duration: {found[0].message} [KP804]")
