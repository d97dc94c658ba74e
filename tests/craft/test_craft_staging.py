"""The iterative workflow: staged requests that lint clean, written as prompt files or JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kling_prompt import Prompt
from kling_prompt.craft import STAGES, staged, write_stages
from kling_prompt.craft.checks import problems
from kling_prompt.errors import SpecError
from kling_prompt.linter.config import Config
from kling_prompt.linter.inputs import load
from kling_prompt.request import Request

IMG, VID = "https://x/char.png", "https://x/ref.mp4"


def t2v() -> Prompt:
    return (
        Prompt.text_to_video()
        .subject("a red fox with a bushy tail")
        .motion("the fox trots across the meadow and stops at the stream")
        .scene("a misty meadow at dawn")
        .camera("the camera slowly tracks alongside")
        .preset("photorealistic", "35mm-film")
        .still_background()
        .negative("blur, distortion")
        .duration(5)
    )


def mc() -> object:
    return (
        Prompt.motion_control(IMG, VID, "video")
        .identity("Rumi", "purple braided hair", "yellow cropped racing jacket")
        .environment("a neon-lit concert stage with haze", lighting="warm golden backlight")
        .preset("cinematic")
        .consistency("lighting", "appearance")
    )


def load_requests(path: Path) -> list[Request]:
    """The requests lint reads from a file, after checking it parsed without errors."""
    loaded = load(str(path), config=Config())
    assert loaded.errors == [], [d.message for d in loaded.errors]
    return [item.request for item in loaded.items]


def test_stage_names_and_order() -> None:
    names = [name for name, _ in staged(t2v())]
    assert names == [name for name, _ in STAGES]


def test_stages_add_one_layer_each() -> None:
    prompts = [r.prompt or "" for _, r in staged(t2v())]
    assert prompts[0] == "The fox trots across the meadow and stops at the stream."
    assert prompts[1].startswith("A red fox with a bushy tail.")
    assert "misty meadow" in prompts[2]
    assert "35mm" not in prompts[2]
    assert prompts[3] == t2v().text()


def test_motion_control_stage1_is_minimal() -> None:
    stages = staged(mc())  # type: ignore[arg-type]
    assert stages[0][1].prompt == "A person performing."
    assert stages[-1][1].prompt == mc().text()  # type: ignore[attr-defined]


@pytest.mark.parametrize("make", [t2v, mc])
def test_every_stage_lints_clean_and_keeps_settings(make: object) -> None:
    stages = staged(make())  # type: ignore[operator]
    endpoints = {request.endpoint for _, request in stages}
    assert len(endpoints) == 1
    for name, request in stages:
        assert problems(request) == [], name
        media = {k: v for k, v in request.arguments.items() if k != "prompt"}
        assert media == {k: v for k, v in stages[-1][1].arguments.items() if k != "prompt"}


def test_staging_refuses_multi_shot_and_plain_payloads() -> None:
    with pytest.raises(SpecError, match="multi-shot"):
        staged(Prompt.multi_shot().shot(5, "a fox runs"))
    with pytest.raises(SpecError, match="not rendered from a spec"):
        staged(Request("fal-ai/kling-video/v3/pro/text-to-video", {"prompt": "x"}))


def test_write_stage_prompt_files_that_lint_clean(tmp_path: Path) -> None:
    paths = write_stages(t2v(), "fox", tmp_path)
    assert [p.name for p in paths] == [f"fox.{name}.prompt" for name, _ in STAGES]
    for path in paths:
        requests = load_requests(path)
        assert requests, path
        for request in requests:
            assert problems(request) == [], path


def test_stage_variants_next_to_a_base_file_merge_to_the_stage(tmp_path: Path) -> None:
    base = tmp_path / "fox.prompt"
    base.write_text(
        "---\nmodel: {family: v3}\nspec:\n  mode: text-to-video\n  subject: a red fox\n"
        "  motion: the fox trots across the meadow and stops\n  scene: a misty meadow\n"
        "  duration: 5\n---\n",
        encoding="utf-8",
    )
    from kling_prompt.cli.render_cmd import _load_prompt_file

    request = _load_prompt_file(str(base))
    paths = write_stages(request, "fox", tmp_path)
    first = load_requests(paths[0])[0]
    assert first.arguments["prompt"] == "The fox trots across the meadow and stops."


def test_write_stages_jsonl(tmp_path: Path) -> None:
    target = tmp_path / "fox-stages.jsonl"
    write_stages(t2v(), "fox", target, jsonl=True)
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["id"] for r in records] == [f"fox.{name}" for name, _ in STAGES]
    requests = load_requests(target)
    assert len(requests) == 4
    assert all(problems(r) == [] for r in requests)
