"""The result videos are real MP4 files of the requested duration and aspect ratio."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hachoir.metadata import extractMetadata
from hachoir.parser import createParser

from kling_prompt.sandbox import make_mp4
from kling_prompt.sandbox.mp4 import SIZES


def _meta(path: Path) -> tuple[float, int, int, str]:
    with createParser(str(path)) as parser:
        meta = extractMetadata(parser)
    return (
        meta.get("duration").total_seconds(),
        meta.get("width"),
        meta.get("height"),
        meta.get("mime_type"),
    )


@pytest.mark.parametrize(
    ("duration", "aspect"), [(5, "16:9"), (10, "9:16"), (3, "1:1"), (15, "16:9")]
)
def test_hachoir_reads_duration_and_size(tmp_path: Path, duration: int, aspect: str) -> None:
    data = make_mp4(duration, aspect)
    path = tmp_path / "v.mp4"
    path.write_bytes(data)
    assert _meta(path) == (float(duration), *SIZES[aspect], "video/mp4")
    assert len(data) < 100_000
    assert data[4:8] == b"ftyp"


def test_is_deterministic_and_fast() -> None:
    make_mp4.cache_clear()
    start = time.perf_counter()
    first = make_mp4(7.0, "1:1")
    elapsed = time.perf_counter() - start
    assert make_mp4(7.0, "1:1") == first
    assert elapsed < 1.0  # generous bound; typically well under 50 ms


def test_rejects_non_positive_duration() -> None:
    with pytest.raises(ValueError, match="positive"):
        make_mp4(0)


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed (optional)")
def test_ffprobe_agrees(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    path.write_bytes(make_mp4(5, "9:16"))
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
        timeout=30,
    )
    info = json.loads(out.stdout)
    stream = info["streams"][0]
    assert stream["codec_name"] == "h264"
    assert (stream["width"], stream["height"]) == (72, 128)
    assert float(info["format"]["duration"]) == pytest.approx(5.0)
    assert int(stream["nb_frames"]) == 120
