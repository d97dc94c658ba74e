"""KP2xx reference rules: token positions, fixes, severities, and robustness on odd text."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kling_prompt.linter import Config, Linter
from kling_prompt.linter.diagnostic import Diagnostic, Fix
from kling_prompt.linter.inputs import load
from kling_prompt.request import Request, get_field, set_field

O1_R2V = "fal-ai/kling-video/o1/reference-to-video"
V26_I2V = "fal-ai/kling-video/v2.6/pro/image-to-video"
V3_T2V = "fal-ai/kling-video/v3/pro/text-to-video"
V3_I2V = "fal-ai/kling-video/v3/pro/image-to-video"
ONE_ELEMENT = {"elements": [{"frontal_image_url": "https://e.com/a.png"}]}
TWO_VOICES = {"start_image_url": "https://e.com/a.png", "voice_ids": ["v1", "v2"]}

_LINTER = Linter()


def lint(endpoint: str, arguments: dict[str, Any], linter: Linter = _LINTER) -> list[Diagnostic]:
    return linter.lint(Request(endpoint, copy.deepcopy(arguments)))


def codes(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def apply_text(arguments: dict[str, Any], fixes: list[Fix]) -> dict[str, Any]:
    out = copy.deepcopy(arguments)
    edits = sorted((e for f in fixes for e in f.edits), key=lambda e: (e.field, -(e.start or 0)))
    for edit in edits:
        assert edit.is_text
        text = get_field(out, edit.field)
        set_field(out, edit.field, text[: edit.start] + str(edit.replacement) + text[edit.end :])
    return out


def test_token_position_in_a_json_file(tmp_path: Path) -> None:
    doc = {
        "endpoint": O1_R2V,
        "arguments": {"prompt": "A cafe.\n@Element1 greets @Element2.", **ONE_ELEMENT},
    }
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    item = load(str(path), config=Config()).items[0]
    (diag,) = codes(Linter().lint(item.request), "KP201")
    assert (diag.field, diag.start, diag.end) == ("prompt", 25, 34)
    lines = path.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if "@Element2" in line)
    assert diag.line == row + 1
    # the JSON string escapes the newline as two characters: the column still lands on the token
    assert lines[row][diag.column - 1 :].startswith("@Element2")


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("@element1 greets the crowd.", "@Element1 greets the crowd."),
        ("@Element 1 and @Images1 wave.", "@Element1 and @Image1 wave."),
        ("@Element01 waves.", "@Element1 waves."),
        ('[Man<<voice_1>>]: "Hi." [Girl<<<Voice_2>>>]: "Yo."', '[Man<<<voice_1>>>]: "Hi." [Girl<<<voice_2>>>]: "Yo."'),
        ('[Man<<<voice 1>>]: "Hi."', '[Man<<<voice_1>>>]: "Hi."'),
        ("<<element_1>> waves.", "@Element1 waves."),
    ],
)  # fmt: skip
def test_malformed_tokens_fix_safely(prompt: str, expected: str) -> None:
    args = {"prompt": prompt, **ONE_ELEMENT}
    diags = codes(lint(O1_R2V, args), "KP209")
    assert diags
    assert all(d.fix is not None and d.fix.safe for d in diags)
    fixed = apply_text(args, [d.fix for d in diags if d.fix])
    assert fixed["prompt"] == expected
    assert not codes(lint(O1_R2V, fixed), "KP209")


def test_unfixable_near_misses_have_no_fix() -> None:
    for prompt in ("@Element0 waves.", "A man <<< waves.", '[Man<<<voice_>>>]: "Hi."'):
        (diag,) = codes(lint(O1_R2V, {"prompt": prompt}), "KP209")
        assert diag.fix is None, prompt


def test_native_tokens_fix_to_fal_tokens() -> None:
    args = {"prompt": "<<<element_1>>> wears the coat from reference image 1.", **ONE_ELEMENT,
            "image_urls": ["https://e.com/c.png"]}  # fmt: skip
    diags = codes(lint(O1_R2V, args), "KP207")
    assert len(diags) == 2
    assert all(d.fix and d.fix.safe for d in diags)
    assert not codes(lint(O1_R2V, args), "KP209")
    fixed = apply_text(args, [d.fix for d in diags if d.fix])
    assert fixed["prompt"] == "@Element1 wears the coat from @Image1."
    after = lint(O1_R2V, fixed)
    assert not [d for d in after if d.code.startswith("KP2")], after


def test_missing_input_kind_is_a_warning_unless_configured() -> None:
    (diag,) = codes(lint(V3_T2V, {"prompt": "@Element1 waves."}), "KP201")
    assert diag.severity == "warning"
    assert "image-to-video" in diag.message
    (diag,) = codes(
        lint(V3_I2V, {"prompt": "@Element2 waves.", "start_image_url": "u", **ONE_ELEMENT}), "KP201"
    )
    assert diag.severity == "error"
    quiet = Linter(Config({"severity": {"KP201": "info"}}))
    (diag,) = codes(lint(V3_T2V, {"prompt": "@Element1 waves."}, quiet), "KP201")
    assert diag.severity == "info"


def test_references_in_shots_count_for_inputs() -> None:
    args = {"start_image_url": "u", **ONE_ELEMENT, "duration": "10",
            "multi_prompt": [{"prompt": "A street.", "duration": "5"}, {"prompt": "@Element1 turns.", "duration": "5"}]}  # fmt: skip
    diags = lint(V3_I2V, args)
    assert not codes(diags, "KP205")
    assert not codes(diags, "KP201")


def test_voice_binding_accepts_the_recommended_forms() -> None:
    prompts = [
        '[Old man<<<voice_1>>>, gravelly]: "Sit." Immediately, [Girl<<<voice_2>>>, bright]: "No."',
        'The old man<<<voice_1>>> says: "Sit." The girl<<<voice_2>>> replies: "No."',
    ]
    for prompt in prompts:
        diags = lint(V26_I2V, {"prompt": prompt, **TWO_VOICES})
        assert not [d for d in diags if d.code.startswith("KP2")], (prompt, diags)


def test_voice_on_element_endpoints() -> None:
    args = {"prompt": '[@Element1<<<voice_2>>>]: "Hi."', "start_image_url": "u",
            "elements": [{"frontal_image_url": "a", "voice_id": "v1"}]}  # fmt: skip
    (diag,) = codes(lint(V3_I2V, args), "KP204")
    assert "elements[].voice_id" in diag.message
    assert diag.severity == "error"


_FRAGMENTS = [
    "@Element1", "@Element2", "@element3", "@Element 1", "@Element0", "@Image1", "@Image9", "@Video1",
    "<<<voice_1>>>", "<<<voice_3>>>", "<<voice_1>>", "<<<voice1>>>", "<<<", ">>>", "<<<element_2>>>",
    "[Old man", "]", "[", ": ", '"', "“", "”", "says", " ", "\n", ".", "reference image 2", "@", "<",
    "é", "¹", "١", "🙂",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=6), max_size=20),
    endpoint=st.sampled_from([O1_R2V, V26_I2V, V3_T2V, V3_I2V, "fal-ai/kling-video/o1/image-to-video"]),
    inputs=st.fixed_dictionaries({}, optional={
        "elements": st.lists(st.fixed_dictionaries({"frontal_image_url": st.just("u")}), max_size=3),
        "image_urls": st.lists(st.just("u"), max_size=3),
        "voice_ids": st.lists(st.just("v"), max_size=3),
    }),
)  # fmt: skip
def test_reference_rules_never_raise_and_stay_in_bounds(
    parts: list[str], endpoint: str, inputs: dict[str, Any]
) -> None:
    prompt = "".join(parts)
    args = {"prompt": prompt, **inputs}
    diags = _LINTER.lint(Request(endpoint, copy.deepcopy(args)))
    assert not codes(diags, "KP006"), diags
    own = [d for d in diags if d.code.startswith("KP2")]
    for d in own:
        if d.field == "prompt" and d.start is not None:
            assert 0 <= d.start <= (d.end or 0) <= len(prompt)
    fixes = [d.fix for d in own if d.fix and d.fix.safe and d.code in ("KP207", "KP209")]
    taken: list[Fix] = []
    for fix in sorted(fixes, key=lambda f: f.edits[0].start or 0):
        if not taken or (taken[-1].edits[0].end or 0) <= (fix.edits[0].start or 0):
            taken.append(fix)
    if taken:
        fixed = apply_text(args, taken)
        again = _LINTER.lint(Request(endpoint, fixed))
        assert not codes(again, "KP006")
