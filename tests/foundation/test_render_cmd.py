"""``kling-prompt render``: spec files in, prompt text or request JSON out."""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path

import pytest

from kling_prompt.cli import main

R = importlib.import_module("kling_prompt.rendering")

SPEC_YAML = """\
mode: text-to-video
subject:
  description: an old fisherman
  attributes: [weathered yellow raincoat]
motion: coils a rope, then looks up at the gulls
scene: a misty harbour at dawn
style: cinematic, 35mm film
duration: 10
aspect_ratio: "16:9"
"""
PROMPT = (
    "An old fisherman, weathered yellow raincoat. Coils a rope, then looks up at the gulls. "
    "A misty harbour at dawn. Cinematic, 35mm film."
)


@pytest.fixture(autouse=True)
def _fallback_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "_catalog_api", lambda: None)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_prints_the_prompt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", write(tmp_path, "harbour.yaml", SPEC_YAML)]) == 0
    assert capsys.readouterr().out == PROMPT + "\n"


def test_json_spec_and_request_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"subject": "a red fox", "duration": 5}
    assert main(["render", "--json", write(tmp_path, "fox.json", json.dumps(spec))]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "endpoint": "fal-ai/kling-video/v3/pro/text-to-video",
        "mode": "text-to-video",
        "arguments": {"prompt": "A red fox.", "duration": "5"},
    }


def test_source_map_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--source-map", write(tmp_path, "h.yml", SPEC_YAML)]) == 0
    out = json.loads(capsys.readouterr().out)
    origins = [span["origin"]["field"] for span in out["source_map"]]
    assert origins[:3] == ["subject.description", "subject.attributes[0]", "motion.directives[0]"]
    first = out["source_map"][0]
    assert out["arguments"]["prompt"][first["start"] : first["end"]] == "An old fisherman"


def test_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(SPEC_YAML))
    assert main(["render", "-"]) == 0
    assert capsys.readouterr().out == PROMPT + "\n"


def test_multi_shot_prints_one_line_per_shot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = "mode: multi-shot\nshots:\n  - {duration: 3, motion: waves}\n  - {duration: 2, motion: bows}\n"
    assert main(["render", write(tmp_path, "shots.yaml", spec)]) == 0
    assert capsys.readouterr().out == "Waves.\nBows.\n"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yaml", "subject: [unclosed\n", "bad.yaml:2:1: not valid YAML or JSON"),
        ("list.yaml", "- a\n- b\n", "list.yaml: a prompt spec must be a mapping"),
        (
            "mc.yaml",
            "mode: motion-control\nmotion: dance\n",
            "mc.yaml: 4 problems: character_image: required",
        ),
        ("empty.json", '{"subject": ""}', "empty.json: subject.description: must contain words"),
        ("typo.yaml", "subjekt: a fox\n", "typo.yaml: subjekt: unknown field; check its spelling"),
        (
            "route.yaml",
            "mode: image-to-video\nstart_image: https://x/a.png\nmotion: waves\naspect_ratio: '1:1'\n",
            "route.yaml: aspect_ratio: endpoint",
        ),
    ],
)
def test_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, expected: str
) -> None:
    assert main(["render", write(tmp_path, name, text)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("kling-prompt: error: ")
    assert expected in lines[0], lines[0]


def test_endpoint_problems_name_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kling_prompt.errors import Problem, ValidationError

    def refuse(spec: object) -> None:
        raise ValidationError("fal-ai/x", [Problem("duration", "20 s is not offered")])

    monkeypatch.setattr(R, "render", refuse)
    assert main(["render", write(tmp_path, "long.yaml", "subject: a fox\nduration: 20\n")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "long.yaml: duration: 20 s is not offered (endpoint fal-ai/x)" in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: no such file" in capsys.readouterr().err


def test_loader_dispatch_is_by_suffix() -> None:
    from kling_prompt.cli import render_cmd

    assert set(render_cmd.LOADERS) >= {".yaml", ".yml", ".json"}
