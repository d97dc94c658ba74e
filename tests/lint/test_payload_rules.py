"""KP1xx payload rules: positions in JSON files, fixes, media probing, budget, robustness.

The rule files hold the per-rule trigger/pass cases; this file covers what they cannot express.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.catalog import data as catalog
from kling_prompt.linter import Config, Linter
from kling_prompt.linter.diagnostic import Diagnostic, Fix
from kling_prompt.linter.inputs import load
from kling_prompt.request import Request, get_field, set_field

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "real_prompts.jsonl"
V26_T2V = "fal-ai/kling-video/v2.6/pro/text-to-video"
V26_I2V = "fal-ai/kling-video/v2.6/pro/image-to-video"
V3_T2V = "fal-ai/kling-video/v3/pro/text-to-video"
V26_MC = "fal-ai/kling-video/v2.6/pro/motion-control"
OWN = ("KP1", "KP2")

_LINTER = Linter()


def lint(
    endpoint: str | None, arguments: dict[str, Any], *, mode: str | None = None
) -> list[Diagnostic]:
    return _LINTER.lint(Request(endpoint, copy.deepcopy(arguments), mode=mode))


def codes(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def apply(arguments: dict[str, Any], fix: Fix) -> dict[str, Any]:
    """Apply one fix the way a client would: text splices, then payload sets and deletes."""
    out = copy.deepcopy(arguments)
    for edit in sorted((e for e in fix.edits if e.is_text), key=lambda e: -(e.start or 0)):
        text = get_field(out, edit.field)
        set_field(out, edit.field, text[: edit.start] + str(edit.replacement) + text[edit.end :])
    for edit in (e for e in fix.edits if not e.is_text):
        parent, _, last = edit.field.rpartition(".")
        holder = get_field(out, parent) if parent else out
        if edit.delete:
            del holder[last]
        elif "[" in last:
            set_field(out, edit.field, edit.replacement)
        else:
            holder[last] = edit.replacement
    return out


# -- positions -------------------------------------------------------------------------------------


def test_payload_diagnostics_point_at_the_argument(tmp_path: Path) -> None:
    text = (
        "{\n"
        f'  "endpoint": "{V26_T2V}",\n'
        '  "arguments": {\n'
        '    "prompt": "A red kite over a green hill, slow push in.",\n'
        '    "duration": 10,\n'
        '    "cfg_scale": 1.5,\n'
        '    "aspect_ratio": "4:3",\n'
        '    "camera_control": "forward_up"\n'
        "  }\n"
        "}\n"
    )
    path = tmp_path / "payload.json"
    path.write_text(text, encoding="utf-8")
    item = load(str(path), config=Config()).items[0]
    found = {d.code: d for d in Linter().lint(item.request) if d.code.startswith(OWN)}
    lines = text.splitlines()

    def where(key: str) -> tuple[int, int]:
        """Line and column of the value (inside the quotes for a string: the text starts there)."""
        row = next(i for i, line in enumerate(lines) if f'"{key}"' in line)
        line = lines[row]
        column = line.index(":", line.index(f'"{key}"')) + 3
        return row + 1, column + (line[column - 1] == '"')

    assert (found["KP106"].line, found["KP106"].column) == where("duration")
    assert (found["KP108"].line, found["KP108"].column) == where("cfg_scale")
    assert (found["KP107"].line, found["KP107"].column) == where("aspect_ratio")
    assert (found["KP109"].line, found["KP109"].column) == where("camera_control")
    assert all(d.filename == str(path) for d in found.values())


def test_nested_and_text_positions(tmp_path: Path) -> None:
    long_shot = "x" * 600
    doc = {
        "endpoint": V3_T2V,
        "arguments": {
            "duration": "10",
            "multi_prompt": [
                {"prompt": "Wide shot of the harbour.", "duration": "5"},
                {"prompt": long_shot, "duration": 5},
            ],
        },
    }
    path = tmp_path / "shots.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    item = load(str(path), config=Config()).items[0]
    diags = codes(Linter().lint(item.request), "KP105")
    by_field = {d.field: d for d in diags}
    assert set(by_field) == {"multi_prompt[1].prompt", "multi_prompt[1].duration"}
    text_diag = by_field["multi_prompt[1].prompt"]
    assert (text_diag.start, text_diag.end) == (512, 600)
    lines = path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if long_shot in line)
    assert text_diag.line == row + 1
    assert text_diag.column == lines[row].index(long_shot) + 1 + 512


# -- fixes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "endpoint", "arguments"),
    [
        ("KP106", V26_T2V, {"prompt": "A kite.", "duration": 10}),
        ("KP106", "kling/v4/text-to-video", {"prompt": "A kite.", "duration": "10"}),
        ("KP107", V26_T2V, {"prompt": "A kite.", "aspect_ratio": " 16:9"}),
        ("KP108", V26_T2V, {"prompt": "A kite.", "cfg_scale": "0.5"}),
        ("KP109", "fal-ai/kling-video/o1/video-to-video/edit",
         {"prompt": "Make the sky red.", "video_url": "https://e.com/a.mp4", "input_image_urls": ["https://e.com/a.png"]}),
        ("KP109", V26_I2V, {"prompt": "A man waves.", "image_url": "https://e.com/a.png"}),
        ("KP113", V3_T2V, {"prompt": "A chef.", "shot_type": "intelligence"}),
        ("KP105", V3_T2V, {"duration": "10", "multi_prompt": [{"prompt": "a", "duration": 5}, {"prompt": "b", "duration": "5"}]}),
    ],
)  # fmt: skip
def test_safe_fix_resolves_the_finding(code: str, endpoint: str, arguments: dict[str, Any]) -> None:
    diags = codes(lint(endpoint, arguments), code)
    assert len(diags) == 1
    fix = diags[0].fix
    assert fix is not None
    assert fix.safe
    fixed = apply(arguments, fix)
    assert not codes(lint(endpoint, fixed), code), fixed


def test_renamed_field_satisfies_the_required_field() -> None:
    arguments = {"prompt": "A man waves.", "image_url": "https://e.com/a.png"}
    before = lint(V26_I2V, arguments)
    assert codes(before, "KP110")
    assert codes(before, "KP109")
    (fix,) = [d.fix for d in codes(before, "KP109") if d.fix]
    after = lint(V26_I2V, apply(arguments, fix))
    assert not codes(after, "KP110")
    assert not codes(after, "KP109")


@pytest.mark.parametrize(
    ("code", "endpoint", "arguments"),
    [
        ("KP106", V26_T2V, {"prompt": "A kite.", "duration": "7"}),
        ("KP108", V26_T2V, {"prompt": "A kite.", "cfg_scale": 3}),
        ("KP109", "fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"prompt": "A car.", "camera_control": "forward_up"}),
        ("KP111", "fal-ai/kling-video/o1/image-to-video",
         {"prompt": "A man laughs.", "start_image_url": "https://e.com/a.png", "generate_audio": True}),
        ("KP104", V3_T2V, {"prompt": "A fox.", "multi_prompt": [{"prompt": "A fox.", "duration": "5"}]}),
        ("KP105", V3_T2V, {"multi_prompt": [{"prompt": "a", "duration": "4"}, {"prompt": "b", "duration": "4"}]}),
    ],
)  # fmt: skip
def test_unsafe_fix_resolves_the_finding(
    code: str, endpoint: str, arguments: dict[str, Any]
) -> None:
    diags = codes(lint(endpoint, arguments), code)
    fix = diags[0].fix
    assert fix is not None
    assert not fix.safe
    assert not codes(lint(endpoint, apply(arguments, fix)), code)


def test_fixes_work_with_the_fix_engine() -> None:
    fixes = pytest.importorskip("kling_prompt.linter.fixes")
    arguments = {"prompt": "A man waves.", "image_url": "https://e.com/a.png", "duration": 5}
    found = [
        d.fix for d in lint(V26_I2V, arguments) if d.code.startswith(OWN) and d.fix and d.fix.safe
    ]
    fixed, applied, _ = fixes.apply_fixes(arguments, found)
    assert len(applied) == len(found) == 2
    assert fixed == {
        "prompt": "A man waves.",
        "start_image_url": "https://e.com/a.png",
        "duration": "5",
    }


# -- catalog-driven behaviour ----------------------------------------------------------------------


def test_unknown_endpoint_suggests_the_nearest() -> None:
    (diag,) = codes(lint("fal-ai/kling-video/v3/pro/text-to-vidoe", {"prompt": "A kite."}), "KP107")
    assert diag.field == "endpoint"
    assert V3_T2V in diag.message


def test_suggested_field_comes_from_roles() -> None:
    (diag,) = codes(
        lint(V26_I2V, {"prompt": "x", "start_image_url": "u", "tail_image_url": "v"}), "KP109"
    )
    assert "end_image_url" in diag.message
    assert diag.fix is not None
    assert diag.fix.safe


def test_feature_fields_are_reported_once() -> None:
    diags = lint(
        V26_T2V, {"prompt": "x", "multi_prompt": [{"prompt": "a"}], "shot_type": "customize"}
    )
    assert {d.field for d in codes(diags, "KP111")} == {"multi_prompt", "shot_type"}
    assert not codes(diags, "KP109")


def test_limits_follow_the_catalog() -> None:
    # Kling 4.0 declares no prompt maxLength in the catalog: no KP101 there.
    long = "a " * 1400
    assert codes(lint(V3_T2V, {"prompt": long}), "KP101")
    assert not codes(lint("kling/v4/text-to-video", {"prompt": long}), "KP101")


def test_budget() -> None:
    linter = Linter(Config({"budget": 0.5}))
    request = Request(V3_T2V, {"prompt": "A kite.", "duration": "5"})
    (diag,) = codes(linter.lint(request), "KP114")
    assert diag.severity == "error"
    assert "$0.50" in diag.message
    # unknown price: the output length of motion control follows the (unprobed) video
    mc = Request(V26_MC, {"image_url": "u", "video_url": "v", "character_orientation": "video"})
    assert not codes(linter.lint(mc), "KP114")


# -- KP112 media -----------------------------------------------------------------------------------


def _image(path: Path, size: tuple[int, int], fmt: str) -> Path:
    image_module = pytest.importorskip("PIL.Image")
    image_module.new("RGB", size, (20, 120, 200)).save(path, fmt)
    return path


def test_local_image_is_probed(tmp_path: Path) -> None:
    small = _image(tmp_path / "small.png", (120, 120), "PNG")
    bmp = _image(tmp_path / "big.bmp", (640, 480), "BMP")
    good = _image(tmp_path / "ok.jpg", (640, 480), "JPEG")
    base = {"prompt": "The woman turns and smiles."}
    assert (
        "under 300 px"
        in codes(lint(V26_I2V, {**base, "start_image_url": str(small)}), "KP112")[0].message
    )
    assert (
        "BMP"
        in codes(lint(V26_I2V, {**base, "start_image_url": f"file://{bmp}"}), "KP112")[0].message
    )
    assert not codes(lint(V26_I2V, {**base, "start_image_url": str(good)}), "KP112")
    # a relative path resolves against the file the request came from
    request = Request(
        V26_I2V, {**base, "start_image_url": "small.png"}, path=str(tmp_path / "req.json")
    )
    assert codes(_LINTER.lint(request), "KP112")


def test_reference_video_length_depends_on_orientation(tmp_path: Path) -> None:
    mp4 = pytest.importorskip("kling_prompt.sandbox.mp4")
    pytest.importorskip("hachoir")
    clip = tmp_path / "dance.mp4"
    clip.write_bytes(mp4.make_mp4(12.0, "16:9"))
    image = _image(tmp_path / "me.png", (640, 640), "PNG")
    args = {"image_url": str(image), "video_url": str(clip), "character_orientation": "image"}
    diags = codes(lint(V26_MC, args, mode="motion-control"), "KP112")
    assert any("12.0 s" in d.message and "character_orientation" in d.message for d in diags)
    diags = codes(
        lint(V26_MC, {**args, "character_orientation": "video"}, mode="motion-control"), "KP112"
    )
    assert not any(" s with " in d.message or "lasts" in d.message for d in diags)


def test_explicit_metadata() -> None:
    linter = Linter()
    linter._options.setdefault("KP112", {})["media"] = {
        "https://example.com/dance.mp4": {"duration": 42, "format": "mp4"}
    }
    args = {"image_url": "https://example.com/me.png", "video_url": "https://example.com/dance.mp4",
            "character_orientation": "video"}  # fmt: skip
    (diag,) = codes(linter.lint(Request(V26_MC, args)), "KP112")
    assert diag.field == "video_url"
    assert "42.0 s" in diag.message


def test_urls_are_never_fetched() -> None:
    args = {"prompt": "x", "start_image_url": "https://example.invalid/huge.bmp"}
    assert not codes(lint(V26_I2V, args), "KP112")


# -- robustness and the corpus ---------------------------------------------------------------------

_FIELD_NAMES = sorted(
    {name for e in catalog.endpoints() for name in e.fields} | {"special_fx", "voice_id"}
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_FIELD_NAMES) | st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    endpoint=st.sampled_from([*catalog.endpoint_ids(), "fal-ai/nope", ""]),
    arguments=st.dictionaries(
        st.sampled_from(_FIELD_NAMES) | st.text(max_size=10), _json, max_size=8
    ),
    mode=st.sampled_from([None, "motion-control", "image-to-video", "video-edit"]),
)
def test_payload_rules_never_raise(
    endpoint: str, arguments: dict[str, Any], mode: str | None
) -> None:
    diags = _LINTER.lint(Request(endpoint or None, arguments, mode=mode))
    assert not [d for d in diags if d.code == "KP006"], diags


@pytest.mark.skipif(not CORPUS.is_file(), reason="the shared corpus is not beside the project")
@pytest.mark.parametrize("endpoint", [V3_T2V, V26_T2V])
def test_no_false_errors_on_the_real_corpus(endpoint: str) -> None:
    prompts = [
        json.loads(line)["prompt"]
        for line in CORPUS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    errors: list[tuple[str, str]] = []
    for prompt in prompts:
        if not isinstance(prompt, str):
            continue
        for d in _LINTER.lint(Request(endpoint, {"prompt": prompt})):
            if d.code.startswith(OWN) and d.severity == "error":
                errors.append((d.code, prompt[:60]))
    assert [c for c, _ in errors] == ["KP101", "KP101"], errors
    assert sum(len(p) > 2500 for p in prompts if isinstance(p, str)) == 2


def test_length_limits_have_no_built_in_floor() -> None:
    """KP101-KP103 compare with the limit itself, however low it is set."""
    linter = Linter()
    linter._options["KP101"] = {"max": 100}
    linter._options["KP102"] = {"max": 100, "margin": 30}
    prompt = "a quiet harbour at dawn, gulls circling over fishing boats. " * 2  # 120 chars
    assert codes(linter.lint(Request(None, {"prompt": prompt}, mode="text-to-video")), "KP101")
    near = prompt[:90]
    (diag,) = codes(linter.lint(Request(None, {"prompt": near}, mode="text-to-video")), "KP102")
    assert diag.start == 70


def test_an_integer_beyond_any_float_is_out_of_range_not_a_crash() -> None:
    endpoint = "fal-ai/kling-video/v2.1/master/text-to-video"
    for value in (10**400, -(10**400)):
        found = {d.code for d in lint(endpoint, {"prompt": "a cat", "cfg_scale": value})}
        assert "KP108" in found
        assert "KP006" not in found
