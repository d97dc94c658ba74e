"""The ``fal_sandbox`` pytest fixture, as a user's own test suite would see it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import fal_client
import pytest

from kling_prompt.sandbox import PROXY_BYPASS_VARS, Sandbox, accept_all, patched_environ


@pytest.mark.fal_sandbox(validator=accept_all, latency=0.02)
def test_fixture_serves_the_real_client(fal_sandbox: Sandbox) -> None:
    assert os.environ["HTTPS_PROXY"] == fal_sandbox.proxy_url
    assert os.environ["FAL_KEY"] == "sandbox-key"
    assert not any(name in os.environ for name in PROXY_BYPASS_VARS)
    result = fal_client.SyncClient().subscribe("acme/any-model", {"x": 1}, interval=0.01)
    assert result["video"]["content_type"] == "video/mp4"
    assert fal_sandbox.stats().by_endpoint == {"acme/any-model": 1}


def test_patched_environ_restores_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("FAL_KEY", "a-real-looking-key")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    before = dict(os.environ)
    with patched_environ({"FAL_KEY": "sandbox-key", "SSL_CERT_FILE": "/x.pem"}):
        assert "NO_PROXY" not in os.environ
        assert os.environ["SSL_CERT_FILE"] == "/x.pem"
    assert dict(os.environ) == before


USER_SUITE = """
import os

import fal_client
import pytest

def snapshot():
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


BEFORE = snapshot()


@pytest.mark.fal_sandbox(latency=0.02)
def test_a_uses_the_sandbox(fal_sandbox):
    assert "NO_PROXY" not in os.environ and "https_proxy" not in os.environ
    client = fal_client.SyncClient()
    out = client.subscribe(
        "fal-ai/kling-video/v2.1/master/text-to-video", {"prompt": "a cat"}, interval=0.01
    )
    assert out["video"]["url"].startswith("https://v3.fal.media/")
    assert fal_sandbox.stats().billed_jobs == 1


def test_b_environment_is_restored():
    assert snapshot() == BEFORE
    assert os.environ["FAL_KEY"] == "users-own-key" and os.environ["NO_PROXY"] == "*"
"""


def test_plugin_in_a_fresh_pytest_run(tmp_path: Path) -> None:
    """Loads through the pytest11 entry point and leaves the environment as it found it."""
    (tmp_path / "test_user_suite.py").write_text(textwrap.dedent(USER_SUITE))
    env = dict(os.environ)
    env.update(NO_PROXY="*", https_proxy="http://127.0.0.1:9", FAL_KEY="users-own-key")
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
    assert "users-own-key" not in proc.stdout + proc.stderr


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, kling_prompt.sandbox.pytest_plugin; "
        "print(any(m in sys.modules for m in "
        "('trustme', 'kling_prompt.sandbox.server', 'fal_client', 'httpx')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_context_manager_and_env(tmp_path: Path) -> None:
    sandbox = Sandbox(validator=accept_all)
    env = sandbox.start()
    try:
        assert env == sandbox.env()
        assert set(env) == {"HTTPS_PROXY", "SSL_CERT_FILE", "FAL_KEY"}
        assert env["HTTPS_PROXY"].startswith("http://127.0.0.1:")
        ca = Path(env["SSL_CERT_FILE"])
        assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    finally:
        sandbox.stop()
    assert not ca.exists()
    sandbox.stop()  # idempotent
