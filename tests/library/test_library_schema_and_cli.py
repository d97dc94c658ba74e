"""The published front-matter schema, the example library, and the new/render/price commands."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from kling_prompt import catalog, library
from kling_prompt.cli import main
from kling_prompt.library import frontmatter
from kling_prompt.library.scaffold import SCAFFOLD_MODES
from kling_prompt.linter.config import Config
from kling_prompt.linter.engine import Linter
from kling_prompt.linter.inputs import load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROMPTS = sorted(EXAMPLES.rglob("*.prompt"))


def front(path: Path) -> dict[str, object]:
    cut = frontmatter.split(path.read_text(encoding="utf-8"), str(path))
    data = yaml.safe_load(cut.front or "") or {}
    assert isinstance(data, dict)
    return data


def test_schema_is_valid_draft_2020_12() -> None:
    schema = library.front_matter_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", PROMPTS, ids=lambda p: p.name)
def test_schema_accepts_the_examples(path: Path) -> None:
    data = front(path)
    validator = jsonschema.Draft202012Validator(library.front_matter_schema())
    assert not list(validator.iter_errors(data))


@pytest.mark.parametrize(
    "data",
    [
        {"modle": "x"},
        {"model": {"mode": "text-to-video", "size": "xl"}},
        {"config": {"prompt": "hi"}},
        {"shots": [{"prompt": "a", "duration": 3, "extra": 1}]},
        {"examples": {"a": {"var": {}}}},
        {"metadata": {"colour": "red"}},
    ],
)
def test_schema_and_checker_reject_the_same_mistakes(data: dict[str, object]) -> None:
    validator = jsonschema.Draft202012Validator(library.front_matter_schema())
    assert list(validator.iter_errors(data))
    doc = frontmatter.parse(yaml.safe_dump(data), 2, "x.prompt")
    assert frontmatter.check(doc)


def test_examples_lint_clean_and_validate() -> None:
    linter = Linter(Config())
    count = 0
    for path in PROMPTS:
        loaded = load(str(path), config=Config())
        assert loaded.errors == [], loaded.errors
        for item in loaded.items:
            found = [
                d
                for d in linter.lint(item.request, directives=item.directives)
                if d.severity != "info"
            ]
            assert found == [], (path, item.label, found)
            catalog.validate(item.request.endpoint or "", item.request.arguments)
            count += 1
    assert count >= 12


def test_example_media_are_small() -> None:
    assert (EXAMPLES / "media" / "portrait.png").stat().st_size < 50_000
    assert (EXAMPLES / "media" / "dance-reference.mp4").stat().st_size < 100_000


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--prompt-file"]) == 0
    assert json.loads(capsys.readouterr().out) == library.front_matter_schema()


@pytest.mark.parametrize("mode", SCAFFOLD_MODES)
def test_new_scaffolds_a_file_that_lints_clean(
    tmp_path: Path, mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "my-shot", "--mode", mode, "--dir", str(tmp_path / "lib")]) == 0
    path = tmp_path / "lib" / "my-shot.prompt"
    assert "created" in capsys.readouterr().out
    loaded = load(str(path), config=Config())
    assert loaded.errors == []
    linter = Linter(Config())
    for item in loaded.items:
        assert [d for d in linter.lint(item.request) if d.severity != "info"] == []
    assert main(["new", "my-shot", "--mode", mode, "--dir", str(tmp_path / "lib")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_render_prints_prompt_json_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "text-to-video" / "city-tram.prompt")
    assert main(["render", path, "--var", "city=Porto"]) == 0
    assert "cobbled street in Porto, bells ringing" in capsys.readouterr().out
    assert main(["render", path, "--example", "rain", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["endpoint"] == "fal-ai/kling-video/v3/pro/text-to-video"
    assert "under a light spring rain" in data["arguments"]["prompt"]


def test_render_errors_exit_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.prompt"
    path.write_text(
        "---\nmodel: fal-ai/kling-video/v3/pro/text-to-video\n---\nA tram {% if %}.\n",
        encoding="utf-8",
    )
    assert main(["render", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{path}:4:1:" in err
    assert "KP001" in err
    assert (
        main(["render", str(EXAMPLES / "text-to-video" / "city-tram.prompt"), "--example", "nope"])
        == 2
    )
    assert "no example named 'nope'" in capsys.readouterr().err
    assert (
        main(["render", str(EXAMPLES / "text-to-video" / "city-tram.prompt"), "--var", "x=1"]) == 2
    )
    assert "declares no variable 'x'" in capsys.readouterr().err


def test_render_keeps_spec_files_working(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("subject: a fox\nmotion: runs across a meadow\n", encoding="utf-8")
    assert main(["render", str(spec)]) == 0
    assert "fox" in capsys.readouterr().out.lower()
    assert main(["render", str(spec), "--var", "a=1"]) == 2


def test_price_prints_a_table_with_a_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["price", str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert "city-tram.prompt" in out
    assert "rain" in out
    total = out.strip().splitlines()[-1]
    assert total.startswith("total: $")
    assert "requests" in total
    unknown = tmp_path / "edit.prompt"
    unknown.write_text(
        "---\nmodel: fal-ai/kling-video/o3/pro/video-to-video/edit\nconfig: {video_url: 'https://example.com/a.mp4'}\n---\n"
        "Change the sky in @Video1 to a sunset, keep the people and the camera motion as they are.\n",
        encoding="utf-8",
    )
    assert main(["price", str(unknown)]) == 0
    out = capsys.readouterr().out
    assert "unknown" in out
    assert "excludes 1 with unknown price" in out
