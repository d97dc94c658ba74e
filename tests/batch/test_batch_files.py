"""Temporary files of dead processes are cleaned; the sandbox makes clips of any pixel size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kling_prompt.dispatch.downloads import clean_partials
from kling_prompt.sandbox import make_mp4


def test_clean_partials_keeps_live_downloads_only(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".clip.mp4.{dead_pid}-0a1b2c3d4e5f.part"
    old_style = tmp_path / ".clip.json.part"
    live = tmp_path / f".clip2.mp4.{os.getpid()}-0a1b2c3d4e5f.part"
    video = tmp_path / "clip.mp4"
    for path in (stale, old_style, live, video):
        path.write_bytes(b"x")
    removed = clean_partials(tmp_path)
    assert sorted(removed) == sorted([stale, old_style])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, video.name])
    assert clean_partials(tmp_path / "missing") == []


def test_make_mp4_with_a_pixel_size(tmp_path: Path) -> None:
    from hachoir.metadata import extractMetadata
    from hachoir.parser import createParser

    path = tmp_path / "portrait.mp4"
    path.write_bytes(make_mp4(3.0, size=(352, 640)))
    parser = createParser(str(path))
    assert parser is not None
    with parser:
        meta = extractMetadata(parser)
    assert (meta.get("width"), meta.get("height")) == (352, 640)
    assert abs(meta.get("duration").total_seconds() - 3.0) < 0.05
    assert make_mp4(3.0, size=(352, 640)) == path.read_bytes()  # deterministic
    assert len(make_mp4(3.0, size=(352, 640))) != len(make_mp4(3.0, "9:16"))
