"""kling_prompt: write, check and send prompts for Kling video models served by fal.ai.

The public API is re-exported here lazily, so that importing the package stays cheap (the
linter runs on every commit and must not pay for pydantic, jinja2 or fal-client it does not use).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # prompts
    "Prompt": "kling_prompt.build",
    "PromptSpec": "kling_prompt.spec",
    "Scene": "kling_prompt.spec",
    "Subject": "kling_prompt.spec",
    "Motion": "kling_prompt.spec",
    "TimedEvent": "kling_prompt.spec",
    "Style": "kling_prompt.spec",
    "Camera": "kling_prompt.spec",
    "Element": "kling_prompt.spec",
    "Voice": "kling_prompt.spec",
    "Shot": "kling_prompt.spec",
    "DialogueLine": "kling_prompt.spec",
    "ImageRef": "kling_prompt.spec",
    "Layers": "kling_prompt.spec",
    "load_spec": "kling_prompt.spec",
    "MotionControlPrompt": "kling_prompt.build",
    "render": "kling_prompt.rendering",
    # requests
    "Request": "kling_prompt.request",
    "SourceMap": "kling_prompt.request",
    "Span": "kling_prompt.request",
    "Origin": "kling_prompt.request",
    # lint
    "lint": "kling_prompt.linter",
    "lint_payload": "kling_prompt.linter",
    "Diagnostic": "kling_prompt.linter.diagnostic",
    "Fix": "kling_prompt.linter.diagnostic",
    "Edit": "kling_prompt.linter.diagnostic",
    # catalog
    "estimate_cost": "kling_prompt.catalog",
    "validate": "kling_prompt.catalog",
    "route": "kling_prompt.catalog",
    # errors
    "KlingPromptError": "kling_prompt.errors",
    "SpecError": "kling_prompt.errors",
    "TemplateError": "kling_prompt.errors",
    "ConfigError": "kling_prompt.errors",
    "CatalogError": "kling_prompt.errors",
    "ValidationError": "kling_prompt.errors",
    "RoutingError": "kling_prompt.errors",
    "PromptFileError": "kling_prompt.errors",
    "DispatchError": "kling_prompt.errors",
    "AuthError": "kling_prompt.errors",
    "BudgetError": "kling_prompt.errors",
}

__all__ = sorted([*_EXPORTS, "__version__", "catalog"])

if TYPE_CHECKING:
    from kling_prompt import catalog as catalog
    from kling_prompt.build import MotionControlPrompt as MotionControlPrompt
    from kling_prompt.build import Prompt as Prompt
    from kling_prompt.catalog import estimate_cost as estimate_cost
    from kling_prompt.catalog import route as route
    from kling_prompt.catalog import validate as validate
    from kling_prompt.errors import AuthError as AuthError
    from kling_prompt.errors import BudgetError as BudgetError
    from kling_prompt.errors import CatalogError as CatalogError
    from kling_prompt.errors import ConfigError as ConfigError
    from kling_prompt.errors import DispatchError as DispatchError
    from kling_prompt.errors import KlingPromptError as KlingPromptError
    from kling_prompt.errors import PromptFileError as PromptFileError
    from kling_prompt.errors import RoutingError as RoutingError
    from kling_prompt.errors import SpecError as SpecError
    from kling_prompt.errors import TemplateError as TemplateError
    from kling_prompt.errors import ValidationError as ValidationError
    from kling_prompt.linter import lint as lint
    from kling_prompt.linter import lint_payload as lint_payload
    from kling_prompt.linter.diagnostic import Diagnostic as Diagnostic
    from kling_prompt.linter.diagnostic import Edit as Edit
    from kling_prompt.linter.diagnostic import Fix as Fix
    from kling_prompt.rendering import render as render
    from kling_prompt.request import Origin as Origin
    from kling_prompt.request import Request as Request
    from kling_prompt.request import SourceMap as SourceMap
    from kling_prompt.request import Span as Span
    from kling_prompt.spec import Camera as Camera
    from kling_prompt.spec import DialogueLine as DialogueLine
    from kling_prompt.spec import Element as Element
    from kling_prompt.spec import ImageRef as ImageRef
    from kling_prompt.spec import Layers as Layers
    from kling_prompt.spec import Motion as Motion
    from kling_prompt.spec import PromptSpec as PromptSpec
    from kling_prompt.spec import Scene as Scene
    from kling_prompt.spec import Shot as Shot
    from kling_prompt.spec import Style as Style
    from kling_prompt.spec import Subject as Subject
    from kling_prompt.spec import TimedEvent as TimedEvent
    from kling_prompt.spec import Voice as Voice
    from kling_prompt.spec import load_spec as load_spec


def __getattr__(name: str) -> Any:
    if name == "catalog":
        return importlib.import_module("kling_prompt.catalog")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kling_prompt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
