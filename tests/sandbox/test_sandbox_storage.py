"""Uploads through fal-client's storage routes, served back by the fake CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_prompt.sandbox import Sandbox


def _download(url: str) -> httpx.Response:
    with httpx.Client() as http:
        return http.get(url)


def test_upload_file_round_trip(client: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    image = tmp_path / "first frame.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    url = client.upload_file(image)
    assert url.startswith("https://v3.fal.media/files/")
    response = _download(url)
    assert response.content == image.read_bytes()
    assert response.headers["content-type"] == "image/png"
    (upload,) = sandbox.uploads
    assert (upload.url, upload.size, upload.via) == (url, image.stat().st_size, "cdn_v3")
    assert upload.file_name == "first_frame.png"
    assert sandbox.uploaded_bytes(upload.file_id) == image.read_bytes()
    routes = [r.route for r in sandbox.requests]
    assert routes == ["token", "upload", "download"]


def test_upload_bytes_and_token_reuse(client: Any, sandbox: Sandbox) -> None:
    first = client.upload(b"one", "text/plain", "a.txt")
    second = client.upload(b"two", "text/plain")
    assert _download(first).content == b"one"
    assert _download(second).content == b"two"
    assert sandbox.stats().requests_by_route["token"] == 1  # cached per client
    assert sandbox.stats().uploads == 2


def test_fallback_to_storage_initiate(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.fail_next("upload", 500)
    url = client.upload(b"fallback", "application/octet-stream", "blob.bin")
    assert _download(url).content == b"fallback"
    (upload,) = sandbox.uploads
    assert (upload.via, upload.url) == ("storage_initiate", url)
    routes = [r.route for r in sandbox.requests]
    assert routes == ["token", "upload", "initiate", "put", "download"]
    initiate = sandbox.requests[2]
    assert initiate.headers["Authorization"] == "Key ***"


def test_token_failure_is_not_covered_by_the_fallback(client: Any, sandbox: Sandbox) -> None:
    """fal-client 1.0.3 fetches the CDN token before trying repositories: the error escapes raw."""
    sandbox.script.fail_next("token", 500)
    with pytest.raises(httpx.HTTPStatusError):
        client.upload(b"x", "text/plain")
    assert sandbox.stats().uploads == 0


def test_cdn_upload_needs_the_issued_token(sandbox: Sandbox) -> None:
    with httpx.Client() as http:
        response = http.post(
            "https://v3.fal.media/files/upload",
            content=b"x",
            headers={"Authorization": "Bearer forged"},
        )
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/files/nope/x.bin", "/files/sandbox/nope/output.mp4"])
def test_unknown_files_are_404(sandbox: Sandbox, path: str) -> None:
    assert _download(f"https://v3.fal.media{path}").status_code == 404


def test_plain_http_prefix_routes(sandbox: Sandbox) -> None:
    """Without the tunnel, /queue, /run, /rest and /cdn prefixes select the service."""
    base = sandbox.proxy_url
    with httpx.Client(trust_env=False) as http:
        reply = http.post(
            f"{base}/queue/fal-ai/kling-video/v2.1/master/text-to-video",
            json={"prompt": "x"},
            headers={"Authorization": "Key k"},
        )
        assert reply.status_code == 200
        status_url = reply.json()["status_url"]
        assert status_url.startswith(f"{base}/queue/fal-ai/kling-video/requests/")
        assert http.get(status_url, headers={"Authorization": "Key k"}).status_code in (200, 202)
