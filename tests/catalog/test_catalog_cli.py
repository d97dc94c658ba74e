"""The catalog commands: endpoints, endpoint ID, schema ID / --prompt-file."""

from __future__ import annotations

import importlib
import json
import sys
import types

import pytest

from kling_prompt.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_endpoints_table_is_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "endpoints", "--family", "v3", "--mode", "text-to-video")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:7] == ["ID", "MODE", "FAMILY", "TIER", "DURATIONS", "AUDIO", "PRICE/S"]
    assert set(lines[1]) <= {"-", " "}
    rows = {line.split()[0]: line for line in lines[2:]}
    assert len(rows) == 5
    pro = rows["fal-ai/kling-video/v3/pro/text-to-video"]
    assert "3-15" in pro
    assert " on " in pro
    assert "$0.112/0.168/0.196 (fal-official)" in pro
    for header in ("MODE", "TIER", "PRICE/S"):
        column = lines[0].index(header)
        assert all(line[column - 1] == " " and line[column] != " " for line in lines[2:])


def test_endpoints_flags_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "endpoints", "--camera-control", "--output-format", "json")
    assert code == 0
    listed = json.loads(out)
    assert [e["id"] for e in listed] == ["fal-ai/kling-video/v1/standard/text-to-video"]
    code, out, _ = run(capsys, "endpoints", "--voices", "--audio", "--output-format", "json")
    ids = {e["id"] for e in json.loads(out)}
    assert "fal-ai/kling-video/v2.6/pro/image-to-video" in ids
    code, out, _ = run(capsys, "endpoints", "--family", "v4", "--output-format", "table")
    assert "(int)" in out
    assert "3-30" in out
    code, out, _ = run(
        capsys, "endpoints", "--mode", "elements", "--multi-shot", "--end-frame", "--elements"
    )
    assert code == 1


def test_endpoints_bad_mode_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "endpoints", "--mode", "txt-to-video")
    assert code == 2
    assert "text-to-video" in err
    assert len(err.strip().splitlines()) == 1


def test_endpoint_detail(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "endpoint", "fal-ai/kling-video/v2.6/pro/image-to-video")
    assert code == 0
    for fragment in (
        "fields:",
        'duration         "5" | "10"',
        "voice_ids",
        "0-2 items (prose)",
        "capabilities:",
        "voices: voice_ids, max 2",
        "roles:",
        "start_image -> start_image_url",
        "price:",
        "confidence fal-official",
    ):
        assert fragment in out
    code, out, _ = run(
        capsys, "endpoint", "fal-ai/kling-video/v3/pro/text-to-video", "--output-format", "json"
    )
    assert json.loads(out)["capabilities"]["native_audio"] is True
    code, out, _ = run(capsys, "endpoint", "fal-ai/kling-video/v2.5-turbo/standard/image-to-video")
    assert "date unknown" in out


def test_unknown_endpoint_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "endpoint", "fal-ai/kling-video/v3/pro/text-to-vdeo")
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "kling-prompt endpoint: unknown endpoint 'fal-ai/kling-video/v3/pro/text-to-vdeo'; "
        "did you mean fal-ai/kling-video/v3/pro/text-to-video?"
    ]


def test_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema", "fal-ai/kling-video/o1/video-to-video/edit")
    assert code == 0
    schema = json.loads(out)
    assert "image_urls" in schema["properties"]
    assert "input_image_urls" not in schema["properties"]
    assert schema["additionalProperties"] is False
    code, _, err = run(capsys, "schema")
    assert code == 2
    assert "endpoint ID" in err
    code, _, err = run(capsys, "schema", "nope")
    assert code == 2
    assert "unknown endpoint" in err


def test_schema_prompt_file_without_library(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.import_module

    def missing(name: str, package: str | None = None) -> types.ModuleType:
        if name == "kling_prompt.library":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", missing)
    code, _, err = run(capsys, "schema", "--prompt-file")
    assert code == 2
    assert "kling_prompt.library" in err


def test_schema_prompt_file_with_library(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("kling_prompt.library")
    fake.front_matter_schema = lambda: {"title": "front matter"}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kling_prompt.library", fake)
    code, out, _ = run(capsys, "schema", "--prompt-file")
    assert code == 0
    assert json.loads(out) == {"title": "front matter"}
    code, _, err = run(capsys, "schema", "--prompt-file", "fal-ai/kling-video/v1/tts")
    assert code == 2
    assert "either" in err
