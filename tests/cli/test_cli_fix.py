"""Fixes: in files (byte-identical elsewhere, idempotent, --diff), and on request arguments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cli_support import Runner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.request import Request

if TYPE_CHECKING:
    from kling_prompt.linter import inputs
    from kling_prompt.linter.diagnostic import Diagnostic, Edit

# kling_prompt.linter is imported inside the tests: importing it while tests are collected would
# shadow the lazy ``kling_prompt.linter`` function that other test modules import by that name.

pytestmark = pytest.mark.usefixtures("test_rules")


def test_fix_txt_json_jsonl(cli: Runner, tmp_path: Path) -> None:
    txt = tmp_path / "a.txt"
    txt.write_text(
        "teh fox adn teh dog {# kp-ignore-next-line: KP992 #}\r\nforbidden\r\n", encoding="utf-8"
    )
    js = tmp_path / "b.json"
    js.write_text(
        '{\n  "arguments": {\n    "prompt": "teh \\"fox\\"\\nadn \\u00e9 teh",\n    "seed": 1\n  }\n}\n',
        encoding="utf-8",
    )
    jl = tmp_path / "c.jsonl"
    jl.write_text(
        '{"id": 1, "arguments": {"prompt": "teh"}}\n\n{"id": 2, "arguments": {"prompt": "x teh"}}',
        encoding="utf-8",
    )
    result = cli("lint", "--fix", "--output-format", "concise", str(txt), str(js), str(jl))
    assert result.code == 0, result.out
    assert "Fixed 8 issues in 3 files." in result.out
    assert (
        txt.read_bytes() == b"the fox and the dog {# kp-ignore-next-line: KP992 #}\r\nforbidden\r\n"
    )
    assert (
        js.read_text(encoding="utf-8")
        == '{\n  "arguments": {\n    "prompt": "the \\"fox\\"\\nand \\u00e9 the",\n    "seed": 1\n  }\n}\n'
    )
    assert (
        jl.read_text(encoding="utf-8")
        == '{"id": 1, "arguments": {"prompt": "the"}}\n\n{"id": 2, "arguments": {"prompt": "x the"}}'
    )
    snapshot = [p.read_bytes() for p in (txt, js, jl)]
    again = cli("lint", "--fix", str(txt), str(js), str(jl))
    assert "Fixed" not in again.out
    assert [p.read_bytes() for p in (txt, js, jl)] == snapshot


def test_unsafe_fixes_need_the_flag(cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a huge teh\n", encoding="utf-8")
    cli("lint", "--fix", str(path))
    assert path.read_text(encoding="utf-8") == "a huge the\n"
    cli("lint", "--fix", "--unsafe-fixes", str(path))
    assert path.read_text(encoding="utf-8") == "a big the\n"


def test_diff_does_not_write(cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("teh fox\n", encoding="utf-8")
    result = cli("lint", "--diff", str(path))
    assert result.code == 1
    assert f"--- {path}\n+++ {path}\n@@ -1 +1 @@\n-teh fox\n+the fox\n" in result.out
    assert path.read_text(encoding="utf-8") == "teh fox\n"
    path.write_text("the fox\n", encoding="utf-8")
    assert cli("lint", "--diff", str(path)).code == 0


def test_parse_error_file_is_never_touched(cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    original = '{"arguments": {"prompt": "teh"},}'
    path.write_text(original, encoding="utf-8")
    assert cli("lint", "--fix", str(path)).code == 1
    assert path.read_text(encoding="utf-8") == original


def test_stdin_fix_prints_the_fixed_text(cli: Runner) -> None:
    result = cli("lint", "--fix", "-", stdin="teh fox\n")
    assert result.out == "the fox\n"
    assert "Fixed 1 issue" in result.err


def _relint(path: str) -> object:
    from kling_prompt.linter import inputs
    from kling_prompt.linter.config import Config
    from kling_prompt.linter.engine import Linter

    linter = Linter(Config())

    def relint(text: str) -> tuple[inputs.Loaded, list[list[Diagnostic]]]:
        loaded = inputs.parse(path, text, config=Config())
        return loaded, [linter.lint(i.request, directives=i.directives) for i in loaded.items]

    return relint


printable = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="{}\x00\"'“”‘’«»「」„‚‹›`"
    ),
    max_size=40,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=printable, after=printable)
def test_text_fix_keeps_every_other_byte(before: str, after: str) -> None:
    from kling_prompt.linter.fixes import fix_text

    text = f"{before} teh {after}"
    out = fix_text(text, _relint("p.txt"))  # type: ignore[arg-type]
    expected = text.replace(" teh ", " the ", 1)
    if "teh" not in before + after and "adn" not in before + after:
        assert out.text == expected
    assert fix_text(out.text, _relint("p.txt")).text == out.text  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k != "prompt"), json_values, max_size=4
    ),
    indent=st.sampled_from([None, 2, 4]),
    word=printable,
)
def test_json_fix_keeps_surrounding_json_identical(
    extra: dict[str, object], indent: int | None, word: str
) -> None:
    from kling_prompt.linter.fixes import fix_text

    prompt = f"{word} teh {word}"
    doc = {"arguments": {**extra, "prompt": prompt}, "endpoint": None}
    text = json.dumps(doc, indent=indent)
    out = fix_text(text, _relint("p.json"))  # type: ignore[arg-type]
    if "teh" in word or "adn" in word:
        return
    fixed = json.loads(out.text)
    assert fixed["arguments"]["prompt"] == prompt.replace(" teh ", " the ")
    assert out.text == text.replace(json.dumps(prompt), json.dumps(fixed["arguments"]["prompt"]), 1)


def _payload_fix(text: str, edits: list[Edit]) -> str:
    from kling_prompt.linter import inputs
    from kling_prompt.linter.config import Config
    from kling_prompt.linter.diagnostic import Diagnostic, Fix
    from kling_prompt.linter.fixes import fix_text

    loaded = inputs.parse("p.json", text, config=Config())

    def relint(new: str) -> tuple[inputs.Loaded, list[list[Diagnostic]]]:
        if new != text:
            return inputs.parse("p.json", new, config=Config()), [[]]
        return loaded, [[Diagnostic("KP109", "unknown-field", "error", "m", fix=Fix("f", edits))]]

    return fix_text(text, relint).text


def test_payload_edits_in_place() -> None:
    from kling_prompt.linter.diagnostic import Edit

    text = '{\n  "arguments": {\n    "prompt": "x",\n    "cfg": 5,\n    "old": [1, 2]\n  }\n}\n'
    assert _payload_fix(text, [Edit("cfg", None, None, 0.5)]) == text.replace(
        '"cfg": 5', '"cfg": 0.5'
    )
    assert _payload_fix(text, [Edit("cfg", None, None, None, delete=True)]) == text.replace(
        '"cfg": 5,\n    ', ""
    )
    assert _payload_fix(text, [Edit("old", None, None, None, delete=True)]) == text.replace(
        ',\n    "old": [1, 2]', ""
    )
    renamed = [Edit("old", None, None, None, delete=True), Edit("new", None, None, [1, 2])]
    assert _payload_fix(text, renamed) == text.replace('"old": [1, 2]', '"new": [1, 2]')
    added = _payload_fix(text, [Edit("seed", None, None, 7)])
    assert added == text.replace('"old": [1, 2]', '"old": [1, 2],\n    "seed": 7')


def test_apply_fixes_is_pure_and_first_wins() -> None:
    from kling_prompt.linter.diagnostic import Edit, Fix
    from kling_prompt.linter.fixes import apply_fixes

    arguments = {"prompt": "teh cat", "negative_prompt": "blur"}
    first = Fix("a", [Edit("prompt", 0, 3, "the")])
    clash = Fix("b", [Edit("prompt", 1, 4, "X")])
    payload = Fix("c", [Edit("negative_prompt", None, None, None, delete=True)])
    new, applied, deferred = apply_fixes(arguments, [first, clash, payload])
    assert new == {"prompt": "the cat"}
    assert applied == [first, payload]
    assert deferred == [clash]
    assert arguments == {"prompt": "teh cat", "negative_prompt": "blur"}


def test_fix_request_keeps_directives_and_is_idempotent() -> None:
    from kling_prompt.linter.config import Config
    from kling_prompt.linter.engine import Linter
    from kling_prompt.linter.fixes import fix_request

    linter = Linter(Config())
    request = Request(None, {"prompt": "teh {# kp-ignore: KP992 #} forbidden adn teh"})
    outcome = fix_request(request, linter.lint)
    assert outcome.request.arguments["prompt"] == "the {# kp-ignore: KP992 #} forbidden and the"
    assert outcome.applied == 3
    assert fix_request(outcome.request, linter.lint).applied == 0
    assert request.arguments["prompt"].startswith("teh")
