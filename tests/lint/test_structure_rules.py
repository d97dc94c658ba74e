"""KP4xx structure rules: budgets from config, emphasis fixes, and robustness on any text."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.linter import Config, Linter
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.fixes import apply_fixes
from kling_prompt.request import Request

LINTER = Linter()
MINE = ("KP3", "KP4", "KP6", "KP7")


def lint(
    arguments: dict[str, Any], mode: str = "text-to-video", linter: Linter = LINTER
) -> list[Diagnostic]:
    return linter.lint(Request(None, arguments, mode=mode))


def test_word_budget_config_overrides_one_mode_only() -> None:
    linter = Linter(Config({"word-budget": {"image-to-video": 100}}))
    long_i2v = {"prompt": "word " * 90}
    assert "KP401" not in [d.code for d in lint(long_i2v, "image-to-video", linter)]
    assert "KP401" in [d.code for d in lint({"prompt": "word " * 151}, "text-to-video", linter)]
    assert "KP401" in [d.code for d in lint(long_i2v, "image-to-video")]


def test_min_words_config() -> None:
    linter = Linter(Config({"min-words": {"text-to-video": 5}}))
    short = {"prompt": "A fox runs through snow at dawn"}
    assert "KP402" not in [d.code for d in lint(short, linter=linter)]
    assert "KP402" in [d.code for d in lint(short)]


def _fix_kp405(arguments: dict[str, Any]) -> dict[str, Any]:
    for _ in range(5):
        fixes = [d.fix for d in lint(arguments) if d.code == "KP405" and d.fix]
        if not fixes:
            break
        arguments, _, _ = apply_fixes(arguments, fixes)
    return arguments


def test_kp405_fixes_are_idempotent() -> None:
    cases = {
        "++sleek red convertible driving along the coast": "sleek red convertible driving along the coast",
        "A red convertible++ on the coast": "A red convertible on the coast",
        "A ++++ convertible": "A convertible",
        "++a red ++convertible++ on the highway++": "++a red convertible on the highway++",
        "+++sleek car++ on the coast": "++sleek car++ on the coast",
    }
    for before, after in cases.items():
        fixed = _fix_kp405({"prompt": before})
        assert fixed["prompt"] == after, before
        assert "KP405" not in [d.code for d in lint(fixed)]
        assert _fix_kp405(fixed) == fixed


def test_kp406_and_kp407() -> None:
    many = "++a++ ++b++ ++c++ ++d++ on a beach"
    assert "KP406" in [d.code for d in lint({"prompt": many})]
    weighted = {"prompt": "A woman in a (red dress:1.4) on a beach"}
    diag = next(d for d in lint(weighted) if d.code == "KP407")
    assert diag.fix is not None
    assert diag.fix.safe
    fixed, _, _ = apply_fixes(weighted, [diag.fix])
    assert fixed["prompt"] == "A woman in a red dress on a beach"


_PIECES = st.sampled_from(
    [
        *"abcdefghijklmnopqrstuvwxyz ABCXYZ+,.;:!?\"“”[]()@-'\n0123456789",
        "++",
        " no ",
        " camera ",
        " pans left ",
        " zoom in ",
        " dancing ",
        " Shot 1: ",
        "你好",
        " without ",
    ]
)
_TEXT = st.lists(_PIECES, max_size=80).map("".join)
_MODES = st.sampled_from(
    ["text-to-video", "image-to-video", "motion-control", "reference-to-video", "video-edit"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prompt=_TEXT, negative=st.one_of(st.none(), _TEXT), mode=_MODES)
def test_rules_never_raise_and_spans_fit(prompt: str, negative: str | None, mode: str) -> None:
    arguments: dict[str, Any] = {"prompt": prompt, "character_orientation": "image"}
    if negative is not None:
        arguments["negative_prompt"] = negative
    for diag in lint(arguments, mode):
        assert diag.code != "KP006", diag.message
        if not diag.code.startswith(MINE) or diag.start is None:
            continue
        text = arguments.get(diag.field)
        assert isinstance(text, str), diag
        assert diag.end is not None, diag
        assert 0 <= diag.start <= diag.end <= len(text), diag
        if diag.fix is not None:
            for edit in diag.fix.edits:
                if edit.is_text:
                    target = arguments.get(edit.field)
                    assert isinstance(target, str)
                    assert 0 <= (edit.start or 0) <= (edit.end or 0) <= len(target)
