"""Every rule's own test cases (from its file in rules/), and the coverage check.

A rule with no triggering case fails the suite, as Vale's and eslint's rule testers do.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rulecases import run_case

from kling_prompt.linter.loader import load_documents

RULES, LEXICONS = load_documents()
GUIDELINES = Path(__file__).resolve().parents[2].parent / "shared" / "GUIDELINES.md"


def _cases() -> list[Any]:
    out = []
    for doc in RULES:
        tests = doc.get("tests") or {}
        defaults = tests.get("defaults") or {}
        for outcome in ("trigger", "pass"):
            for i, case in enumerate(tests.get(outcome) or ()):
                out.append(
                    pytest.param(
                        doc["code"], outcome, case, defaults, id=f"{doc['code']}-{outcome}-{i}"
                    )
                )
    return out


@pytest.mark.parametrize(("code", "outcome", "case", "defaults"), _cases())
def test_rule_case(code: str, outcome: str, case: Any, defaults: dict[str, Any]) -> None:
    diagnostics = run_case(case, defaults)
    mine = [d for d in diagnostics if d.code == code]
    crashed = [d for d in diagnostics if d.code == "KP006"]
    assert not crashed, crashed
    if outcome == "trigger":
        assert mine, f"{code} did not trigger on {case!r}; got {diagnostics}"
        if isinstance(case, dict) and "count" in case:
            assert len(mine) == case["count"], mine
    else:
        assert not mine, f"{code} triggered on a passing case {case!r}: {mine}"


@pytest.mark.parametrize("doc", RULES, ids=[d["code"] for d in RULES])
def test_rule_has_triggering_case_and_docs(doc: dict[str, Any]) -> None:
    docs = doc.get("docs") or {}
    for key in ("what", "why", "bad", "good"):
        assert docs.get(key), f"{doc['code']} needs docs.{key}"
    if doc.get("kind") == "engine":
        return
    assert (doc.get("tests") or {}).get("trigger"), f"{doc['code']} has no triggering test case"


def test_file_names_match_codes() -> None:
    for doc in RULES:
        assert Path(doc["_path"]).name == f"{doc['code']}-{doc['name']}.yaml"


@pytest.mark.skipif(
    not GUIDELINES.is_file(), reason="../shared/GUIDELINES.md is not beside the project"
)
def test_every_catalogued_rule_is_implemented() -> None:
    text = GUIDELINES.read_text(encoding="utf-8")
    catalogued = dict(re.findall(r"^\| (KP\d{3}) \| ([a-z0-9-]+) \|", text, re.MULTILINE))
    implemented = {d["code"]: d["name"] for d in RULES}
    missing = sorted(set(catalogued) - set(implemented))
    assert not missing, f"rules in GUIDELINES.md with no rule file: {missing}"
    renamed = {
        c: (catalogued[c], implemented[c]) for c in catalogued if catalogued[c] != implemented[c]
    }
    assert not renamed, renamed
