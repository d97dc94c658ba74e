"""KP6xx negative-prompt rules: quotes, fixes (applying one stops the rule; twice equals once)."""

from __future__ import annotations

from typing import Any

from kling_prompt.linter import Linter
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.fixes import apply_fixes
from kling_prompt.request import Request

LINTER = Linter()


def lint(arguments: dict[str, Any], mode: str = "text-to-video") -> list[Diagnostic]:
    return LINTER.lint(Request(None, arguments, mode=mode))


def fix_all(arguments: dict[str, Any], code: str, *, unsafe: bool = False) -> dict[str, Any]:
    """Apply every fix of ``code`` until none is left (at most five passes)."""
    for _ in range(5):
        fixes = [
            d.fix for d in lint(arguments) if d.code == code and d.fix and (d.fix.safe or unsafe)
        ]
        if not fixes:
            break
        arguments, _, _ = apply_fixes(arguments, fixes)
    return arguments


def test_negation_in_quoted_dialogue_is_not_kp602() -> None:
    args = {"prompt": 'She says: "no one is coming" and turns to the window'}
    assert "KP602" not in [d.code for d in lint(args)]


def test_absence_outside_quotes_is_kp602() -> None:
    for prompt in (
        "No one waits on the platform as the last train leaves",
        "Nobody is left in the stadium, empty seats",
        "An empty street with no cars at dawn",
    ):
        assert "KP602" in [d.code for d in lint({"prompt": prompt})], prompt


def test_kp601_safe_fix_drops_the_negation() -> None:
    args = {"prompt": "A lighthouse at dusk", "negative_prompt": "no text, no watermark"}
    diags = [d for d in lint(args) if d.code == "KP601"]
    assert len(diags) == 2
    assert all(d.fix is not None and d.fix.safe for d in diags)
    fixed = fix_all(args, "KP601")
    assert fixed["negative_prompt"] == "text, watermark"
    assert "KP601" not in [d.code for d in lint(fixed)]
    assert fix_all(fixed, "KP601") == fixed


def test_kp601_keeps_deliberate_double_negatives() -> None:
    args = {"prompt": "Two friends chat", "negative_prompt": "silent video, no audio, muted"}
    assert "KP601" not in [d.code for d in lint(args)]


def test_kp602_unsafe_fix_moves_the_phrase() -> None:
    args = {"prompt": "An empty street at dawn with no cars", "negative_prompt": "blur"}
    diag = next(d for d in lint(args) if d.code == "KP602")
    assert diag.fix is not None
    assert not diag.fix.safe
    fixed, _, _ = apply_fixes(args, [diag.fix])
    assert fixed == {"prompt": "An empty street at dawn", "negative_prompt": "blur, cars"}
    assert "KP602" not in [d.code for d in lint(fixed)]


def test_kp602_fix_creates_negative_prompt() -> None:
    args = {"prompt": "A quiet beach at sunrise, no people, soft waves"}
    fixed = fix_all(args, "KP602", unsafe=True)
    assert fixed == {"prompt": "A quiet beach at sunrise, soft waves", "negative_prompt": "people"}
    assert fix_all(fixed, "KP602", unsafe=True) == fixed


def test_kp603_reports_at_the_negative_term() -> None:
    args = {
        "prompt": "A cyclist races downhill, motion blur",
        "negative_prompt": "low quality, blur",
    }
    diag = next(d for d in lint(args) if d.code == "KP603")
    assert diag.field == "negative_prompt"
    assert args["negative_prompt"][diag.start : diag.end] == "blur"


def test_kp603_span_skips_dots_before_the_term() -> None:
    for negative in (".blur, text", "low quality, ..blur", "the .blur"):
        args = {"prompt": "A cyclist races downhill, motion blur", "negative_prompt": negative}
        diag = next(d for d in lint(args) if d.code == "KP603")
        assert negative[diag.start : diag.end] == "blur", negative


def test_kp604_reads_the_default_from_the_catalog() -> None:
    request = Request("fal-ai/kling-video/v2.6/pro/text-to-video", {"prompt": "A lighthouse"})
    diag = next(d for d in LINTER.lint(request) if d.code == "KP604")
    assert "blur, distort, and low quality" in diag.message
