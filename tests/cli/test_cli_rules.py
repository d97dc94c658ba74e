"""``kling-prompt rule`` and ``rules``, and the generated docs/rules.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import Runner

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.usefixtures("test_rules")
def test_rule_page(cli: Runner) -> None:
    result = cli("rule", "KP990")
    assert result.code == 0
    out = result.out
    assert out.startswith("KP990 test-typo\n")
    for needle in (
        "severity: warning",
        "fix: safe (applied by --fix)",
        "source: test",
        "What it checks:",
        "Bad:",
        "    teh fox",
        "Good:",
    ):
        assert needle in out
    assert cli("rule", "test-typo").out == out
    assert cli("rule", "kp990").out == out


@pytest.mark.usefixtures("test_rules")
def test_rule_listing_and_json(cli: Runner) -> None:
    listing = cli("rule", "--all").out.splitlines()
    assert any(line.startswith("KP990  test-typo") and "warning" in line for line in listing)
    data = json.loads(cli("rules", "--output-format", "json").out)
    entry = next(d for d in data if d["code"] == "KP990")
    assert entry["fix"] == {"safe": True}
    assert entry["url"].endswith("#kp990-test-typo")


@pytest.mark.usefixtures("test_rules")
def test_unknown_rule_is_one_line(cli: Runner) -> None:
    result = cli("rule", "KP9900")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "no rule 'KP9900'" in result.err
    assert "did you mean" in result.err


def test_markdown_anchors_match_diagnostic_urls() -> None:
    from kling_prompt.linter.diagnostic import docs_url
    from kling_prompt.linter.docs import markdown
    from kling_prompt.linter.loader import load_documents

    docs = load_documents()[0]
    page = markdown(docs)
    for doc in docs:
        anchor = docs_url(doc["code"], doc["name"]).rsplit("#", 1)[1]
        assert f"### {doc['code']} {doc['name']}\n" in page
        assert f"](#{anchor})" in page


def test_docs_rules_md_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    from kling_prompt.linter.docs import REGENERATE, markdown
    from kling_prompt.linter.loader import load_documents

    monkeypatch.delenv("KLING_PROMPT_RULES_DIR", raising=False)
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == markdown(load_documents()[0]), (
        f"docs/rules.md is stale; regenerate it with: {REGENERATE}"
    )
