"""The fal key never appears in output, logs, exception text, records or the ledger."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from kling_prompt.cli import main
from kling_prompt.dispatch import Dispatcher, Redactor
from kling_prompt.errors import AuthError, DispatchError
from kling_prompt.request import Request
from kling_prompt.sandbox import Sandbox

KEY_ID = "kp-test-7f3a9c0d"
KEY_SECRET = "Zq8wSECRETvalue42"
KEY = f"{KEY_ID}:{KEY_SECRET}"
T2V = "fal-ai/kling-video/v2.1/master/text-to-video"
PROMPT = (
    "A red fox trots across fresh snow at dawn, the camera tracking slowly beside it at ground "
    "level, soft golden light and long blue shadows"
)


def _assert_clean(*texts: Any) -> None:
    for text in texts:
        blob = text if isinstance(text, str) else str(text)
        for secret in (KEY, KEY_ID, KEY_SECRET):
            assert secret not in blob


def test_redactor_masks_the_key_and_its_parts() -> None:
    redact = Redactor([KEY])
    assert redact(f"Authorization: Key {KEY}") == "Authorization: Key ***"
    assert redact(f"id {KEY_ID} and secret {KEY_SECRET}") == "id *** and secret ***"
    assert Redactor(["ab"])("ab cab") == "ab cab"  # too short to be a secret
    assert not Redactor([None, ""])


def test_key_echoed_by_fal_is_masked_everywhere(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAL_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    sandbox.script.fail_next("submit", 500, detail=f"no user for Key {KEY} (id {KEY_ID})")
    sandbox.script.fail_job(detail=f"runner saw credentials {KEY_SECRET}")
    ledger = tmp_path / "ledger.sqlite3"
    with Dispatcher(ledger=ledger, out_dir=tmp_path / "out", poll_interval=0.02) as dispatcher:
        request = Request(T2V, {"prompt": PROMPT})
        with pytest.raises(DispatchError) as first:
            dispatcher.run(request)
        with pytest.raises(DispatchError) as second:
            dispatcher.run(request)
        rows = dispatcher.ledger.jobs()
    assert "***" in str(first.value)
    assert "***" in str(second.value)
    assert [r.state for r in rows] == ["failed", "failed"]
    out, err = capsys.readouterr()
    _assert_clean(
        str(first.value),
        repr(first.value),
        str(second.value),
        out,
        err,
        caplog.text,
        [r.to_dict() for r in rows],
    )
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert KEY_SECRET.encode() not in data, path
            assert KEY_ID.encode() not in data, path


def test_rejected_key_through_the_cli(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAL_KEY", KEY)
    sandbox.script.reject_key(KEY)
    caplog.set_level(logging.DEBUG)
    payload = tmp_path / "fox.json"
    payload.write_text(f'{{"endpoint": "{T2V}", "arguments": {{"prompt": "{PROMPT}"}}}}')
    ledger = tmp_path / "l.sqlite3"
    code = main(["run", str(payload), "--yes", "--ledger", str(ledger), "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "fal rejected the key" in out
    assert "FAL_KEY" in out
    _assert_clean(out, err, caplog.text, ledger.read_bytes().decode("utf-8", "replace"))
    assert sandbox.stats().jobs_created == 0


def test_missing_key_error_names_the_fix_without_any_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with Dispatcher(ledger=tmp_path / "l.sqlite3") as dispatcher:
        with pytest.raises(AuthError, match="export FAL_KEY"):
            dispatcher.run(Request(T2V, {"prompt": PROMPT}))
        assert dispatcher.ledger.jobs() == []
