"""Atomic downloads: nothing under the final name unless the whole file arrived intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fal_client
import pytest

from kling_prompt.dispatch import DownloadError, download
from kling_prompt.request import Request
from kling_prompt.sandbox import Sandbox

T2V = "fal-ai/kling-video/v2.1/master/text-to-video"
PROMPT = (
    "A red fox trots across fresh snow at dawn, the camera tracking slowly beside it at ground "
    "level, soft golden light and long blue shadows"
)


def _uploaded(tmp_path: Path) -> tuple[str, bytes]:
    data = b"\x00\x01video-bytes" * 1000
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    url = fal_client.SyncClient(key="sandbox-key").upload_file(source)
    return str(url), data


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_checks_size_and_is_atomic(sandbox: Sandbox, tmp_path: Path) -> None:
    url, data = _uploaded(tmp_path)
    out = tmp_path / "out"
    got = download(url, out / "a.mp4", expected_size=len(data))
    assert got.path.read_bytes() == data
    assert got.size == len(data)
    with pytest.raises(DownloadError, match="file_size 5"):
        download(url, out / "b.mp4", expected_size=5)
    assert _leftovers(out) == ["a.mp4"]  # no b.mp4, no .part file


def test_download_reports_http_errors_and_retries_5xx(sandbox: Sandbox, tmp_path: Path) -> None:
    url, data = _uploaded(tmp_path)
    out = tmp_path / "out"
    sandbox.script.fail_next("download", 503, html=False)
    assert download(url, out / "ok.mp4", retry_delay=0.01).size == len(data)
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(url.rsplit("/", 2)[0] + "/missing/x.mp4", out / "gone.mp4")
    assert _leftovers(out) == ["ok.mp4"]


def test_size_mismatch_keeps_the_paid_job_and_no_partial_file(
    sandbox: Sandbox, make_dispatcher: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Sandbox._output

    def lying(self: Sandbox, job: Any, bases: Any) -> Any:
        out = original(self, job, bases)
        out["video"]["file_size"] += 1
        return out

    monkeypatch.setattr(Sandbox, "_output", lying)
    dispatcher, _ = make_dispatcher()
    with pytest.raises(DownloadError, match="was not kept"):
        dispatcher.run(Request(T2V, {"prompt": PROMPT}))
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "completed"  # fal finished (and billed) it; the URL is kept to retry
    assert row.result_url is not None
    assert row.file_path is None
    assert "was not kept" in (row.error or "")
    assert _leftovers(tmp_path / "out") == []
