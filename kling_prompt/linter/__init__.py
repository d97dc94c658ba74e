"""The linter: check prompts and payloads against the rule catalogue before a job is sent.

``lint`` takes a prompt text or a :class:`~kling_prompt.request.Request`; ``lint_payload`` takes
an endpoint id and fal arguments. Both return diagnostics sorted by position.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kling_prompt.linter.config import Config, load_config
from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.linter.engine import Linter, default_linter
from kling_prompt.request import Request

__all__ = ["Config", "Diagnostic", "Edit", "Fix", "Linter", "lint", "lint_payload", "load_config"]


def _config(config: Config | Mapping[str, Any] | None) -> Config | None:
    if config is None or isinstance(config, Config):
        return config
    return Config(config)


def lint(
    text_or_request: str | Request,
    *,
    mode: str | None = None,
    endpoint: str | None = None,
    config: Config | Mapping[str, Any] | None = None,
) -> list[Diagnostic]:
    """Lint a prompt text (with ``mode`` or ``endpoint``) or a request.

    Without an endpoint, rules that need endpoint facts are skipped; without a mode, so are the
    mode-specific rules. ``config`` is a :class:`Config` or a mapping of the keys of
    ``[tool.kling-prompt]``.
    """
    cfg = _config(config)
    linter = default_linter(cfg)
    if isinstance(text_or_request, Request):
        request = text_or_request
        if endpoint is not None or mode is not None:
            request = Request(
                endpoint or request.endpoint,
                request.arguments,
                source_map=request.source_map,
                mode=mode or request.mode,
                path=request.path,
                record=request.record,
                spec=request.spec,
            )
    elif isinstance(text_or_request, str):
        settings = linter.config
        request = Request(
            endpoint or settings.default_endpoint,
            {"prompt": text_or_request},
            mode=mode or (None if endpoint else settings.default_mode),
        )
    else:
        raise TypeError(
            f"lint() takes a prompt string or a Request, not {type(text_or_request).__name__}"
        )
    return linter.lint(request)


def lint_payload(
    endpoint_id: str,
    arguments: Mapping[str, Any],
    *,
    mode: str | None = None,
    config: Config | Mapping[str, Any] | None = None,
) -> list[Diagnostic]:
    """Lint fal arguments for an endpoint, exactly as they would be sent."""
    request = Request(endpoint_id, dict(arguments), mode=mode)
    return default_linter(_config(config)).lint(request)
