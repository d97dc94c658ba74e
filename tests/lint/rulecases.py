"""Shared helpers to run the test cases that live in the rule files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kling_prompt.linter import Config, Linter
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.request import Request

_LINTERS: dict[str, Linter] = {}


def _linter(config: Mapping[str, Any] | None) -> Linter:
    key = repr(sorted((config or {}).items()))
    if key not in _LINTERS:
        _LINTERS[key] = Linter(Config(config or {}))
    return _LINTERS[key]


def expand(text: str) -> str:
    """Case prompts may use a Jinja expression to build long text: ``{{ 'a' * 2501 }}``."""
    if "{{" not in text:
        return text
    import jinja2.sandbox

    return jinja2.sandbox.SandboxedEnvironment().from_string(text).render()


def run_case(case: Any, defaults: Mapping[str, Any]) -> list[Diagnostic]:
    spec: dict[str, Any] = dict(defaults)
    if isinstance(case, str):
        spec["prompt"] = case
    else:
        spec.update(case)
    arguments: dict[str, Any] = {}
    if "prompt" in spec and spec["prompt"] is not None:
        arguments["prompt"] = expand(str(spec["prompt"]))
    arguments.update(spec.get("arguments") or {})
    request = Request(spec.get("endpoint"), arguments, mode=spec.get("mode"))
    return _linter(spec.get("config")).lint(request)
