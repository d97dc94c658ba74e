"""``python -m kling_prompt.sandbox`` serves in the foreground and prints the variables."""

from __future__ import annotations

import os
import subprocess
import sys

import fal_client

from kling_prompt.sandbox import patched_environ


def test_serves_and_prints_exports() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kling_prompt.sandbox", "--no-validate", "--latency", "0.05"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = []
        for _ in range(10):
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("unset "):
                break
        exports = dict(
            line.removeprefix("export ").strip().split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        assert set(exports) == {"HTTPS_PROXY", "SSL_CERT_FILE", "FAL_KEY"}
        assert lines[-1].split()[1:] == [
            "NO_PROXY",
            "no_proxy",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "HTTP_PROXY",
            "http_proxy",
        ]
        with patched_environ(exports):
            client = fal_client.SyncClient()
            result = client.subscribe("acme/model", {"prompt": "x"}, interval=0.01)
        assert result["video"]["content_type"] == "video/mp4"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
