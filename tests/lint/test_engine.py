"""The lint engine: selection, configuration, suppressions, positions and robustness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kling_prompt.linter import Config, Linter, lint, lint_payload, load_config
from kling_prompt.linter.config import selects
from kling_prompt.linter.inputs import load
from kling_prompt.linter.lexicon import Matcher, compile_lexicons, expand
from kling_prompt.linter.rules import Rule, RuleMeta
from kling_prompt.linter.suppress import extract, strip
from kling_prompt.request import Origin, Request, SourceMap, Span

LONG = "a" * 2600
# Engine behaviour is shown with the linter family and KP101 only, so new rules cannot change it.
ENGINE = {"select": ["KP0", "KP101"]}


def codes(diagnostics: list[Any]) -> list[str]:
    return [d.code for d in diagnostics]


# -- selection and configuration ------------------------------------------------------------


def test_select_ignore_and_prefixes() -> None:
    assert "KP101" in codes(lint(LONG, mode="text-to-video"))
    assert "KP101" not in codes(lint(LONG, mode="text-to-video", config={"ignore": ["KP1"]}))
    assert "KP101" not in codes(
        lint(LONG, mode="text-to-video", config={"ignore": ["prompt-too-long"]})
    )
    only = lint(LONG, mode="text-to-video", config={"select": ["KP101"]})
    assert set(codes(only)) == {"KP101"}
    assert selects("ALL", "KP301", "x")
    assert selects("KP3", "KP301", "x")
    assert not selects("KP30", "KP401", "x")


def test_severity_override() -> None:
    diags = lint(LONG, mode="text-to-video", config={"severity": {"KP101": "warning"}})
    assert [d.severity for d in diags if d.code == "KP101"] == ["warning"]


def test_unknown_config_key_and_code_are_kp005(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.kling-prompt]\nignore = ["KP999"]\nwordbudget = 3\n', encoding="utf-8"
    )
    config = load_config(start=str(tmp_path))
    linter = Linter(config)
    found = linter.config_diagnostics()
    assert {d.code for d in found} == {"KP005"}
    messages = " ".join(d.message for d in found)
    assert "KP999" in messages
    assert "wordbudget" in messages
    assert all(d.filename == str(pyproject) and d.line in (2, 3) for d in found)


def test_bad_config_value_raises_config_error(tmp_path: Path) -> None:
    from kling_prompt.errors import ConfigError

    (tmp_path / "kling-prompt.toml").write_text('fail-on = "loud"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="fail-on"):
        load_config(start=str(tmp_path))


def test_per_file_ignores() -> None:
    config = Config({"per-file-ignores": {"drafts/*.txt": ["KP101"]}})
    linter = Linter(config)
    kept = linter.lint(Request(None, {"prompt": LONG}, mode="text-to-video", path="final/a.txt"))
    dropped = linter.lint(
        Request(None, {"prompt": LONG}, mode="text-to-video", path="drafts/a.txt")
    )
    assert "KP101" in codes(kept)
    assert "KP101" not in codes(dropped)


# -- suppressions ---------------------------------------------------------------------------


def test_line_directive_suppresses_and_is_stripped() -> None:
    text = LONG + " {# kp-ignore: KP101 -- generated on purpose #}"
    clean, directives, _ = extract(text)
    assert clean == LONG
    assert directives[0].codes == ["KP101"]
    assert directives[0].reason == "generated on purpose"
    assert strip(text) == LONG
    assert "KP101" not in codes(lint(text, mode="text-to-video", config=ENGINE))


def test_next_line_and_file_directives() -> None:
    text = "first line\n{# kp-ignore-next-line: KP101 #}\n" + LONG
    assert "KP101" not in codes(lint(text, mode="text-to-video", config=ENGINE))
    wrong_line = "{# kp-ignore-next-line: KP101 #}\nfirst line\n" + LONG
    assert "KP101" in codes(lint(wrong_line, mode="text-to-video", config=ENGINE))
    whole = "{# kp-ignore-file: prompt-too-long #}\n" + LONG
    assert codes(lint(whole, mode="text-to-video", config=ENGINE)) == []


def test_unused_and_unknown_suppressions() -> None:
    unused = lint("A quiet harbour. {# kp-ignore: KP101 #}", mode="text-to-video", config=ENGINE)
    assert codes(unused) == ["KP004"]
    unknown = lint("A quiet harbour. {# kp-ignore: KP999 #}", mode="text-to-video", config=ENGINE)
    assert codes(unknown) == ["KP005"]
    empty = lint("A quiet harbour. {# kp-ignore #}", mode="text-to-video", config=ENGINE)
    assert codes(empty) == ["KP005"]


# -- positions --------------------------------------------------------------------------------


def test_text_file_positions(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("{# kp-ignore-next-line: KP999 #}\n" + LONG + "\n", encoding="utf-8")
    loaded = load(str(path), config=Config(), mode="text-to-video")
    diags = Linter().lint(loaded.items[0].request)
    kp101 = next(d for d in diags if d.code == "KP101")
    assert (kp101.filename, kp101.line, kp101.column) == (str(path), 2, 2501)
    kp005 = next(d for d in diags if d.code == "KP005")
    assert kp005.line in (1, 2)


def test_json_payload_positions(tmp_path: Path) -> None:
    payload = {
        "endpoint": "fal-ai/kling-video/v3/pro/text-to-video",
        "arguments": {"duration": "5", "prompt": "é\\n" + LONG},
    }
    path = tmp_path / "job.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    loaded = load(str(path), config=Config())
    assert not loaded.errors
    diag = next(d for d in Linter().lint(loaded.items[0].request) if d.code == "KP101")
    text = path.read_text(encoding="utf-8")
    line = text.splitlines()[diag.line - 1]
    # The prompt line holds `"prompt": "é\\n aaa…`: column 2501 of the decoded text maps past the escape.
    assert line.lstrip().startswith('"prompt"')
    assert line[diag.column - 1] == "a"


def test_jsonl_records_and_parse_errors(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        json.dumps({"id": "one", "mode": "text-to-video", "arguments": {"prompt": LONG}}),
        '{"id": "two", "arguments": {"prompt": "x",}}',
        json.dumps({"id": "three", "mode": "text-to-video", "arguments": {"prompt": "A fox."}}),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = load(str(path), config=Config())
    assert [e.code for e in loaded.errors] == ["KP001"]
    assert loaded.errors[0].line == 2
    assert [i.request.record for i in loaded.items] == ["one", "three"]
    diag = next(d for d in Linter().lint(loaded.items[0].request) if d.code == "KP101")
    assert diag.line == 1
    assert diag.record == "one"


def test_source_map_verbatim_position() -> None:
    smap = SourceMap(
        [Span("prompt", 0, 11, Origin("body", path="f.prompt", line=4, column=3, verbatim=True))]
    )
    origin, line, column = smap.position("prompt", 8, "ab\ncdef\ngh")
    assert origin.path == "f.prompt"
    assert (line, column) == (6, 1)


# -- robustness -------------------------------------------------------------------------------


def test_a_raising_rule_becomes_kp006() -> None:
    linter = Linter()

    def explode(ctx: Any) -> Any:
        raise ZeroDivisionError("boom")

    meta = RuleMeta({"code": "KP101", "name": "prompt-too-long", "severity": "error"})
    linter.rules = [Rule(meta, explode)]
    linter._active.clear()
    diags = linter.lint(Request(None, {"prompt": "x"}, mode="text-to-video"))
    assert codes(diags) == ["KP006"]
    assert "ZeroDivisionError" in diags[0].message


def test_lexicon_inflections_and_hyphens() -> None:
    assert expand("spin{,s,ning}") == ["spin", "spins", "spinning"]
    assert expand("  ") == []  # a blank entry is no phrase
    assert expand("{,}") == []
    assert compile_lexicons({"x": {"categories": {"c": [" ", "red"]}}})["keys"] == {
        "red": ("x", "x.c")
    }
    matcher = Matcher(
        compile_lexicons(
            {
                "moves": {
                    "categories": {
                        "dance": ["hip hop", "spin{,s,ning}"],
                        "walk": ["walking forward"],
                    }
                }
            }
        )
    )
    hits = matcher.find("hip-hop spinning, walking forward, spinner")
    assert [h.phrase for h in hits] == ["hip hop", "spinning", "walking forward"]
    assert "moves.dance" in hits[0].keys


def test_lint_payload_api() -> None:
    diags = lint_payload("fal-ai/kling-video/v3/pro/text-to-video", {"prompt": LONG})
    assert "KP101" in codes(diags)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
MODES = [
    None,
    "text-to-video",
    "image-to-video",
    "reference-to-video",
    "motion-control",
    "video-edit",
]


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=400), mode=st.sampled_from(MODES))
def test_lint_never_raises_and_spans_stay_inside(text: str, mode: str | None) -> None:
    diags = lint(text, mode=mode)
    assert "KP006" not in codes(diags)
    clean = strip(text)
    for d in diags:
        if d.field == "prompt" and d.start is not None:
            assert 0 <= d.start <= (d.end or d.start) <= len(clean)


@settings(max_examples=150, deadline=None)
@given(
    arguments=st.dictionaries(
        st.sampled_from(
            [
                "prompt",
                "negative_prompt",
                "duration",
                "multi_prompt",
                "elements",
                "generate_audio",
                "aspect_ratio",
                "x",
            ]
        ),
        json_values,
        max_size=6,
    ),
    endpoint=st.sampled_from(
        [
            "fal-ai/kling-video/v3/pro/text-to-video",
            "fal-ai/kling-video/v2.6/pro/motion-control",
            "fal-ai/kling-video/o1/video-to-video/edit",
            "kling/v4/text-to-video",
            "no/such/endpoint",
        ]
    ),
)
def test_lint_payload_never_raises(arguments: dict[str, Any], endpoint: str) -> None:
    diags = lint_payload(endpoint, arguments)
    assert "KP006" not in codes(diags), [d.message for d in diags if d.code == "KP006"]


def test_required_directive_is_an_expectation() -> None:
    from kling_prompt.linter.suppress import Directive

    linter = Linter(Config(ENGINE))
    request = Request(None, {"prompt": LONG}, mode="text-to-video")
    met = linter.lint(request, directives=[Directive("file", ["KP101"], None, required=True)])
    assert codes(met) == []
    short = Request(None, {"prompt": "A fox."}, mode="text-to-video")
    unmet = linter.lint(short, directives=[Directive("file", ["KP101"], None, required=True)])
    assert [(d.code, d.severity) for d in unmet] == [("KP004", "error")]
    assert "expected KP101" in unmet[0].message


def test_unknown_endpoint_points_at_the_endpoint_key(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(
        '{\n  "endpoint": "fal-ai/kling-video/v9/pro/text-to-video",\n  "arguments": {"prompt": "A fox."}\n}\n',
        encoding="utf-8",
    )
    loaded = load(str(path), config=Config())
    diag = next(d for d in Linter().lint(loaded.items[0].request) if d.field == "endpoint")
    assert (diag.line, diag.column) == (2, 15)


def test_odd_argument_keys_do_not_break_positions() -> None:
    assert "KP006" not in codes(
        lint_payload(
            "fal-ai/kling-video/v3/pro/text-to-video", {"]": 1, "a[": 2, "prompt": "A fox."}
        )
    )


def test_public_lint_is_the_function_after_the_engine_is_imported() -> None:
    import subprocess
    import sys

    code = (
        "import kling_prompt.linter.engine, kling_prompt.rendering\n"
        "import kling_prompt\n"
        "from kling_prompt import lint, render\n"
        "assert callable(lint) and lint.__module__ == 'kling_prompt.linter', lint\n"
        "assert kling_prompt.lint is lint and callable(render)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_misspelled_gate_condition_names_the_rule_file(tmp_path: Path) -> None:
    from kling_prompt.errors import ConfigError
    from kling_prompt.linter.loader import compile_rules

    rule = tmp_path / "KP999-example.yaml"
    base = "code: KP999\nname: example\nseverity: info\nmessage: m\nsource: s\n"
    rule.write_text(base + "when: {unles: [motion-verbs]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"KP999-example\.yaml.*unles"):
        compile_rules([rule])
    rule.write_text(base + "when: {any: [{check: payload-fields}]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"when\.any\[0\]\.check must be a list"):
        compile_rules([rule])
    rule.write_text(base + "when: {check: [payload-fields], unless: [motion-verbs]}\n", "utf-8")
    assert compile_rules([rule])["rules"][0]["when"]["unless"] == ["motion-verbs"]
    rule.write_text(base + "when: {longer: [text-limit]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"when\.longer must be the name of a length bound"):
        compile_rules([rule])
    rule.write_text(base + "when: {options: budget}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"when\.options must be a list"):
        compile_rules([rule])
    rule.write_text(base + "when: {options: [budget], longer: text-limit}\n", encoding="utf-8")
    assert compile_rules([rule])["rules"][0]["when"]["longer"] == "text-limit"
