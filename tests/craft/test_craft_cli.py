"""The craft commands: presets, stages and troubleshoot (exit codes and output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kling_prompt.cli import main

SPEC = """\
mode: text-to-video
family: v3
tier: pro
subject: a red fox with a bushy tail
motion: the fox trots across the meadow and stops at the stream
scene: {environment: "a misty meadow at noon, bright sunny", lighting: dark moody shadows}
camera: the camera slowly tracks alongside
style: {presets: [photorealistic, 35mm-film]}
negative_prompt: blur, distortion
duration: 10
"""
CLEAN = SPEC.replace(", lighting: dark moody shadows", "")


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "fox.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_presets_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets"]) == 0
    assert "anime" in capsys.readouterr().out
    assert main(["presets", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["anime"]["category"] == "medium"


def test_stages_prints_then_writes_files_that_lint_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "fox.yaml"
    spec.write_text(CLEAN, encoding="utf-8")
    assert main(["stages", str(spec)]) == 0
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0]
        == "fox.stage1-motion: The fox trots across the meadow and stops at the stream."
    )
    outdir = tmp_path / "stages"
    assert main(["stages", str(spec), "--out", str(outdir)]) == 0
    files = sorted(p.name for p in outdir.iterdir())
    assert files == [
        "fox.stage1-motion.prompt",
        "fox.stage2-identity.prompt",
        "fox.stage3-environment.prompt",
        "fox.stage4-style.prompt",
    ]
    capsys.readouterr()
    assert main(["lint", "--fail-on", "warning", *map(str, sorted(outdir.iterdir()))]) == 0
    jsonl = tmp_path / "stages.jsonl"
    assert main(["stages", str(spec), "--jsonl", str(jsonl)]) == 0
    assert main(["lint", "--fail-on", "warning", str(jsonl)]) == 0


def test_stages_usage_errors(spec_file: Path, tmp_path: Path) -> None:
    assert main(["stages", str(spec_file), "--out", str(tmp_path), "--jsonl", "x.jsonl"]) == 2
    payload = tmp_path / "p.json"
    payload.write_text(
        json.dumps(
            {
                "endpoint": "fal-ai/kling-video/v3/pro/text-to-video",
                "arguments": {"prompt": "A fox runs."},
            }
        )
    )
    assert main(["stages", str(payload)]) == 2


def test_troubleshoot_without_file_gives_advice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["troubleshoot", "identity-loss"]) == 0
    assert "5%" in capsys.readouterr().out
    assert main(["troubleshoot", "identity-loss", "--apply", "1"]) == 2


def test_troubleshoot_lists_numbered_changes(
    spec_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["troubleshoot", "visual-coherence", str(spec_file)]) == 0
    out = capsys.readouterr().out
    assert "1. [contradiction] Remove the contradicting 'dark moody'" in out
    assert "[advice]" in out
    assert main(["troubleshoot", "visual-coherence", str(spec_file), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["kind"] == "contradiction"
    assert rows[-1]["applicable"] is False


def test_troubleshoot_apply_one_prints_the_changed_request(
    spec_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["troubleshoot", "motion-distortion", str(spec_file), "--apply", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["arguments"]["duration"] == "5"


def test_troubleshoot_apply_all_writes_a_clean_prompt_file(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fox.fixed.prompt"
    code = main(
        ["troubleshoot", "visual-coherence", str(spec_file), "--apply", "all", "--out", str(out)]
    )
    assert code == 0
    assert "applied: Remove the contradicting" in capsys.readouterr().err
    assert main(["lint", "--fail-on", "warning", str(out)]) == 0
    assert main(["render", str(out)]) == 0
    assert "dark moody" not in capsys.readouterr().out


def test_troubleshoot_payload_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "p.json"
    payload.write_text(
        json.dumps(
            {
                "endpoint": "fal-ai/kling-video/v3/pro/image-to-video",
                "arguments": {
                    "prompt": "The woman turns her head and smiles on a bright sunny day with dark moody shadows.",
                    "start_image_url": "https://x/a.png",
                    "duration": "10",
                },
            }
        )
    )
    out = tmp_path / "fixed.json"
    assert (
        main(
            ["troubleshoot", "visual-coherence", str(payload), "--apply", "all", "--out", str(out)]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert "dark moody" not in data["arguments"]["prompt"]
    assert main(["lint", "--fail-on", "warning", str(out)]) == 0


def test_troubleshoot_apply_errors(spec_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["troubleshoot", "visual-coherence", str(spec_file), "--apply", "9"]) == 2
    assert main(["troubleshoot", "visual-coherence", str(spec_file), "--apply", "x"]) == 2
    assert main(["troubleshoot", "visual-coherence", str(spec_file), "--apply", "3"]) == 2
    assert "advice" in capsys.readouterr().err
    assert main(["troubleshoot", "motion-not-transferring", str(spec_file)]) == 2
    with pytest.raises(SystemExit) as info:
        main(["troubleshoot", "blurry", str(spec_file)])
    assert info.value.code == 2


def test_troubleshoot_apply_all_with_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "mc.yaml"
    spec.write_text(
        "mode: motion-control\ncharacter_image: https://x/a.png\nvideo: https://x/v.mp4\n"
        "character_orientation: video\nsubject: a singer on a rooftop stage\n",
        encoding="utf-8",
    )
    assert main(["troubleshoot", "motion-not-transferring", str(spec), "--apply", "all"]) == 1
    assert "no change applies" in capsys.readouterr().err
