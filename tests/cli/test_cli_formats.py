"""Every output format of ``kling-prompt lint``: shape, escaping and validity."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from cli_support import Runner

pytestmark = pytest.mark.usefixtures("test_rules")
SCHEMA = Path(__file__).with_name("sarif-schema-2.1.0.json")


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    a = tmp_path / "a.txt"
    a.write_text("A fox, teh end\nand a forbidden, huge gate\n", encoding="utf-8")
    b = tmp_path / "b.jsonl"
    b.write_text(
        '{"id": "r1", "arguments": {"prompt": "teh \\"x\\""}}\n{"id": "r2", "arguments": {"prompt": "ok"}}\n',
        encoding="utf-8",
    )
    c = tmp_path / "clean.txt"
    c.write_text("fine\n", encoding="utf-8")
    return [str(a), str(b), str(c)]


def test_json_items(cli: Runner, files: list[str]) -> None:
    items = json.loads(cli("lint", "--output-format", "json", *files).out)
    assert [i["code"] for i in items] == ["KP990", "KP992", "KP993", "KP990"]
    first = items[0]
    assert set(first) >= {
        "code",
        "name",
        "severity",
        "message",
        "filename",
        "record",
        "field",
        "location",
        "end_location",
        "fix",
        "url",
    }
    assert first["location"] == {"row": 1, "column": 8}
    assert first["end_location"] == {"row": 1, "column": 11}
    assert first["fix"]["applicability"] == "safe"
    assert first["url"].endswith("#kp990-test-typo")
    assert items[3]["record"] == "r1"


def test_json_lines(cli: Runner, files: list[str]) -> None:
    lines = cli("lint", "--output-format", "json-lines", *files).out.splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["KP990", "KP992", "KP993", "KP990"]


def test_full_underlines_the_span_and_shows_the_fix(cli: Runner, files: list[str]) -> None:
    out = cli("lint", "--output-format", "full", files[0]).out
    assert f"{files[0]}:1:8: KP990 [warning] [*] 'teh' is a typo" in out
    lines = out.splitlines()
    at = lines.index("1 | A fox, teh end")
    assert lines[at + 1] == "  |        ^^^ KP990"
    assert "= help: Replace with 'the' (safe fix)" in out
    assert "unsafe fix: apply with --fix --unsafe-fixes" in out


def test_github_annotations(cli: Runner, files: list[str]) -> None:
    lines = cli("lint", "--output-format", "github", *files).out.splitlines()
    pattern = re.compile(
        r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=KP\d{3} [a-z-]+::.+$"
    )
    assert lines
    assert all(pattern.match(line) for line in lines), lines
    assert lines[1].startswith(
        f"::error file={files[0]},line=2,col=7,endLine=2,endColumn=16,title=KP992 test-forbidden::"
    )


def test_github_escaping() -> None:
    from kling_prompt.linter.diagnostic import Diagnostic
    from kling_prompt.linter.formats import FileResult, github

    diag = Diagnostic(
        "KP990", "x", "warning", "50% off\r\nnext: a,b", filename="dir,a:b.txt", line=1, column=1
    )
    out = github([FileResult("dir,a:b.txt", None, [diag])])
    assert (
        out
        == "::warning file=dir%2Ca%3Ab.txt,line=1,col=1,endLine=1,endColumn=1,title=KP990 x::50%25 off%0D%0Anext: a,b\n"
    )


def test_sarif_is_valid(cli: Runner, files: list[str]) -> None:
    log = json.loads(cli("lint", "--output-format", "sarif", *files).out)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["KP990"]["defaultConfiguration"]["level"] == "warning"
    assert rules["KP990"]["fullDescription"]["text"].startswith("A typo with a safe fix.")
    assert rules["KP990"]["helpUri"].endswith("#kp990-test-typo")
    result = run["results"][0]
    assert result["ruleId"] == "KP990"
    assert result["level"] == "warning"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 1,
        "startColumn": 8,
        "endLine": 1,
        "endColumn": 11,
    }
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "KP990"


def test_junit_parses(cli: Runner, files: list[str]) -> None:
    root = ET.fromstring(cli("lint", "--output-format", "junit", *files).out)
    assert root.tag == "testsuites"
    assert root.get("failures") == "4"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == files
    assert len(suites[0].findall("testcase/failure")) == 3
    assert suites[2].findall("testcase/failure") == []
    assert len(suites[2].findall("testcase")) == 1


def test_gitlab_report_and_stable_fingerprints(cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("teh fox\nteh dog forbidden\n", encoding="utf-8")
    before = json.loads(cli("lint", "--output-format", "gitlab", str(path)).out)
    assert [i["severity"] for i in before] == ["minor", "minor", "major"]
    assert before[0]["location"] == {"path": str(path), "lines": {"begin": 1, "end": 1}}
    assert before[0]["check_name"] == "KP990"
    assert before[0]["description"].startswith("KP990 test-typo:")
    assert len({i["fingerprint"] for i in before}) == 3
    path.write_text("A new first line.\n\nteh fox\nteh dog forbidden\n", encoding="utf-8")
    after = json.loads(cli("lint", "--output-format", "gitlab", str(path)).out)
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]
    assert [i["location"]["lines"]["begin"] for i in after] == [3, 4, 4]


def test_concise_and_full_for_a_diagnostic_without_position(cli: Runner, tmp_path: Path) -> None:
    config = tmp_path / "kling-prompt.toml"
    config.write_text("nonsense = 1\n", encoding="utf-8")
    (tmp_path / "p.txt").write_text("fine\n", encoding="utf-8")
    out = cli(
        "lint", "--config", str(config), "--output-format", "full", str(tmp_path / "p.txt")
    ).out
    assert "KP005 [error] unknown config key 'nonsense'" in out
