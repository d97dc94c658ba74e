"""Helpers shared by the sandbox tests (a uniquely named module: every test folder's
conftest.py is importable as plain ``conftest``, so shared names must not live there)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kling_prompt.errors import CatalogError, Problem

T2V = "fal-ai/kling-video/v2.1/master/text-to-video"
MULTI = "fal-ai/kling-video/v3/pro/text-to-video"
KNOWN = {T2V, MULTI}


def stub_validator(endpoint_id: str, arguments: Mapping[str, Any]) -> list[Problem]:
    """A tiny stand-in for the catalog: two endpoints, a required prompt, durations 5 and 10."""
    if endpoint_id not in KNOWN:
        raise CatalogError(endpoint_id)
    problems = []
    if "prompt" not in arguments and "multi_prompt" not in arguments:
        problems.append(Problem("prompt", "Field required", "missing"))
    if "duration" in arguments and str(arguments["duration"]) not in ("5", "10"):
        problems.append(Problem("duration", "Input should be '5' or '10'", "enum"))
    for i, shot in enumerate(arguments.get("multi_prompt") or []):
        if str(shot.get("duration")) not in ("3", "5"):
            problems.append(
                Problem(f"multi_prompt[{i}].duration", "Input should be '3' or '5'", "enum")
            )
    return problems


class ManualClock:
    """A clock tests step by hand, so queue positions and progress are deterministic."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
