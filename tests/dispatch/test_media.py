"""Local media: finding files in nested fields, hashing requests, probing against limits."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kling_prompt.dispatch import request_hash
from kling_prompt.dispatch.media import find_local_files, is_local, probe

R2V = "fal-ai/kling-video/o3/pro/reference-to-video"
MOTION = "fal-ai/kling-video/v3/pro/motion-control"
I2V = "fal-ai/kling-video/v2.6/pro/image-to-video"


@pytest.mark.parametrize(
    ("value", "local"),
    [
        ("frame.png", True),
        ("./a/b.png", True),
        ("/abs/b.png", True),
        ("file:///tmp/x.png", True),
        ("C:\\pics\\x.png", True),
        ("https://v3.fal.media/files/x.png", False),
        ("http://example.com/x.png", False),
        ("data:image/png;base64,AAAA", False),
    ],
)
def test_is_local(value: str, local: bool) -> None:
    assert is_local(value) is local


def test_finds_files_in_lists_and_nested_elements(
    tmp_path: Path, make_png: Callable[..., Path]
) -> None:
    make_png(tmp_path / "face.png")
    make_png(tmp_path / "side.png", color="blue")
    absolute = make_png(tmp_path / "sub" / "start.png", color="green")
    arguments = {
        "prompt": "@Element1 waves",
        "start_image_url": f"file://{absolute}",
        "image_urls": ["https://v3.fal.media/files/remote.png", "side.png"],
        "elements": [{"frontal_image_url": "face.png", "reference_image_urls": ["side.png"]}],
    }
    files, problems = find_local_files(R2V, arguments, tmp_path)
    assert problems == []
    assert {f.loc: f.path.name for f in files} == {
        "start_image_url": "start.png",
        "image_urls[1]": "side.png",
        "elements[0].frontal_image_url": "face.png",
        "elements[0].reference_image_urls[0]": "side.png",
    }
    assert all(f.kind == "image" and len(f.sha256) == 64 for f in files)


def test_missing_file_is_a_problem_naming_the_field(tmp_path: Path) -> None:
    files, problems = find_local_files(I2V, {"start_image_url": "nope.png"}, tmp_path)
    assert files == []
    (problem,) = problems
    assert problem.loc == "start_image_url"
    assert "no such file: nope.png" in problem.message
    assert str(tmp_path) in problem.message


def test_request_hash_uses_content_not_path(tmp_path: Path, make_png: Callable[..., Path]) -> None:
    make_png(tmp_path / "a.png")
    make_png(tmp_path / "b.png")  # same pixels, other name
    make_png(tmp_path / "c.png", color="blue")

    def digest(name: str) -> str:
        args = {"prompt": "x", "start_image_url": name}
        files, _ = find_local_files(I2V, args, tmp_path)
        return request_hash(I2V, args, files)

    assert digest("a.png") == digest("b.png") != digest("c.png")
    assert request_hash(I2V, {"prompt": "x", "duration": "5"}) == request_hash(
        I2V, {"duration": "5", "prompt": "x"}
    )


def test_probe_rejects_small_images_and_wrong_formats(
    tmp_path: Path, make_png: Callable[..., Path]
) -> None:
    from PIL import Image

    make_png(tmp_path / "tiny.png", size=(100, 100))
    Image.new("RGB", (600, 600)).save(tmp_path / "pic.bmp")
    make_png(tmp_path / "wide.png", size=(1200, 300))
    for name, expected in (
        ("tiny.png", "needs at least 300x300"),
        ("pic.bmp", "is BMP; this field takes JPG, PNG"),
        ("wide.png", "aspect ratio 4.00"),
    ):
        files, _ = find_local_files(I2V, {"start_image_url": name}, tmp_path)
        report = probe(files, arguments={})
        assert any(expected in p.message for p in report.problems), (name, report.problems)


def test_probe_checks_motion_reference_length_by_orientation(
    tmp_path: Path, make_video: Callable[..., Path], make_png: Callable[..., Path]
) -> None:
    make_png(tmp_path / "me.png", size=(720, 1280))
    make_video(tmp_path / "dance.mp4", seconds=12.0)
    args = {"prompt": "dance", "image_url": "me.png", "video_url": "dance.mp4"}
    from kling_prompt.catalog import data

    mc = data.get(MOTION).capabilities.motion_control
    files, _ = find_local_files(MOTION, args, tmp_path)
    report = probe(files, arguments={**args, "character_orientation": "image"}, motion_control=mc)
    (problem,) = report.problems
    assert problem.loc == "video_url"
    assert "takes 3..10 s" in problem.message
    assert report.input_seconds == pytest.approx(12.0)
    ok = probe(files, arguments={**args, "character_orientation": "video"}, motion_control=mc)
    assert ok.problems == []


def test_probe_without_the_media_extra_skips_with_a_note(
    tmp_path: Path, make_png: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_png(tmp_path / "tiny.png", size=(10, 10))
    monkeypatch.setitem(sys.modules, "PIL", None)
    files, _ = find_local_files(I2V, {"start_image_url": "tiny.png"}, tmp_path)
    report = probe(files, arguments={})
    assert report.problems == []
    assert report.notes == [
        "start_image_url: image not checked (install kling-prompt[media] for Pillow)"
    ]
