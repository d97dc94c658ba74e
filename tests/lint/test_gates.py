"""Rule gates (``when:``) never change what the linter reports, only how fast.

A gate lets the engine skip a rule without calling it; it must never close for an input the rule
would report on. This lints every rule-file test case (and a slice of the real corpus, when it is
beside the project) twice, with gates honoured and with every gate forced open, and compares.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rulecases import expand

from kling_prompt.linter import Config, Linter
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.loader import load_documents
from kling_prompt.request import Request

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "real_prompts.jsonl"
CORPUS_RECORDS = 100


def _case_requests() -> Iterator[tuple[Mapping[str, Any] | None, Request]]:
    rules, _ = load_documents()
    for doc in rules:
        tests = doc.get("tests") or {}
        defaults = tests.get("defaults") or {}
        for outcome in ("trigger", "pass"):
            for case in tests.get(outcome) or ():
                spec: dict[str, Any] = dict(defaults)
                if isinstance(case, str):
                    spec["prompt"] = case
                else:
                    spec.update(case)
                arguments: dict[str, Any] = {}
                if spec.get("prompt") is not None:
                    arguments["prompt"] = expand(str(spec["prompt"]))
                arguments.update(spec.get("arguments") or {})
                yield (
                    spec.get("config"),
                    Request(spec.get("endpoint"), arguments, mode=spec.get("mode")),
                )


def _corpus_requests() -> list[Request]:
    if not CORPUS.exists():
        return []
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from corpus import request_for  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    import json

    out = []
    with open(CORPUS, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(request_for(json.loads(line)))
            if len(out) >= CORPUS_RECORDS:
                break
    return out


def _key(diagnostics: list[Diagnostic]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diagnostics]


def _lint_all(
    inputs: list[tuple[Mapping[str, Any] | None, Request]], *, gates: bool = True
) -> list[list[dict[str, Any]]]:
    linters: dict[str, Linter] = {}
    out = []
    for config, request in inputs:
        key = repr(sorted((config or {}).items()))
        linter = linters.get(key)
        if linter is None:
            linter = linters[key] = Linter(Config(dict(config or {})), gates=gates)
        out.append(_key(linter.lint(request)))
    return out


def test_gates_never_hide_a_diagnostic() -> None:
    inputs = list(_case_requests())
    inputs += [(None, r) for r in _corpus_requests()]
    gated = _lint_all(inputs)
    ungated = _lint_all(inputs, gates=False)
    for (_, request), with_gates, without in zip(inputs, gated, ungated, strict=True):
        assert with_gates == without, request.arguments


def _check_when(code: str, when: Mapping[str, Any]) -> list[str]:
    """Checks the gate's form; returns the lexicon keys it names (``keys`` and ``unless``)."""
    from kling_prompt.linter.loader import GATE_FIELDS
    from kling_prompt.linter.rules import gate_check_function

    assert set(when) <= GATE_FIELDS, code
    for text in when.get("text") or ():
        assert text == text.lower(), (code, text)
    for name in when.get("check") or ():
        gate_check_function(name)  # registered
    keys = [*(when.get("keys") or ()), *(when.get("unless") or ())]
    for alternative in when.get("any") or ():
        keys += _check_when(code, alternative)
    return keys


def test_gates_are_well_formed() -> None:
    rules, lexicons = load_documents()
    known = set()
    for name, doc in lexicons.items():
        known.add(name)
        known.update(f"{name}.{c}" for c in doc.get("categories") or {})
    gated = 0
    for doc in rules:
        when = doc.get("when")
        if not when:
            continue
        gated += 1
        keys = _check_when(doc["code"], when)
        assert set(keys) <= known, (doc["code"], set(keys) - known)
    assert gated >= 40
