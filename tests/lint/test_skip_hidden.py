"""``skip_hidden``: rules that can only report info are not run while info is hidden, and that
never changes what is shown: the same diagnostics as running everything and dropping info."""

from __future__ import annotations

from typing import Any

from test_gates import _case_requests, _corpus_requests

from kling_prompt.linter import Config, Linter
from kling_prompt.request import Request


def _shown(diags: list[Any]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diags if d.severity != "info"]


def test_skipping_hidden_rules_shows_the_same() -> None:
    inputs = [(c, r) for c, r in _case_requests()] + [(None, r) for r in _corpus_requests()]
    pairs: dict[str, tuple[Linter, Linter]] = {}
    skipped_any = False
    for config, request in inputs:
        key = repr(sorted((config or {}).items()))
        if key not in pairs:
            cfg = Config(dict(config or {}))
            pairs[key] = (Linter(cfg), Linter(cfg, skip_hidden=True))
        full, fast = pairs[key]
        assert _shown(fast.lint(request)) == _shown(full.lint(request)), request.arguments
        _info, mode, family = fast.resolve(request)
        skipped_any |= len(fast.active(mode, family, None)) < len(full.active(mode, family, None))
    assert skipped_any


def test_show_info_or_fail_on_info_runs_everything() -> None:
    for settings in ({"show-info": True}, {"fail-on": "info"}):
        linter = Linter(Config(settings), skip_hidden=True)
        assert not linter.skip_hidden
    request = Request(None, {"prompt": "A cat."}, mode="text-to-video")
    codes = {d.code for d in Linter(Config({"show-info": True}), skip_hidden=True).lint(request)}
    assert "KP402" in codes


def test_a_rule_raised_to_warning_by_config_still_runs() -> None:
    request = Request(None, {"prompt": "A cat."}, mode="text-to-video")
    linter = Linter(Config({"severity": {"KP402": "warning"}}), skip_hidden=True)
    assert [d.code for d in linter.lint(request) if d.code == "KP402"] == ["KP402"]
    assert "KP402" not in {d.code for d in Linter(skip_hidden=True).lint(request)}


def test_suppressions_of_hidden_rules_are_not_reported_unused() -> None:
    text = "{# kp-ignore-file: KP402 #}A cat walks slowly across the rug."
    request = Request(None, {"prompt": text}, mode="text-to-video")
    for linter in (Linter(skip_hidden=True), Linter()):
        codes = [d.code for d in linter.lint(request)]
        assert "KP004" not in codes
        assert "KP402" not in codes
