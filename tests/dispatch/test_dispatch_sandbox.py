"""The dispatcher end to end against the sandbox, with the real fal-client, mode by mode.

Each failure the sandbox can script is shown with what the user gets, what the ledger says and
what fal would have created and billed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kling_prompt.dispatch import (
    DeadlineError,
    Dispatcher,
    JobFailed,
    LintError,
    SubmitUncertain,
)
from kling_prompt.errors import AuthError, BudgetError, DispatchError, ValidationError
from kling_prompt.request import Request
from kling_prompt.sandbox import Sandbox

T2V = "fal-ai/kling-video/v2.1/master/text-to-video"
I2V = "fal-ai/kling-video/v2.6/pro/image-to-video"
R2V = "fal-ai/kling-video/o3/pro/reference-to-video"
MOTION = "fal-ai/kling-video/v3/pro/motion-control"
O1_EDIT = "fal-ai/kling-video/o1/video-to-video/edit"
O3_EDIT = "fal-ai/kling-video/o3/pro/video-to-video/edit"
MULTI = "fal-ai/kling-video/v3/pro/text-to-video"

FOX = (
    "A red fox trots across fresh snow at dawn, the camera tracking slowly beside it at ground "
    "level, soft golden light and long blue shadows, breath visible in the cold air"
)
MakeDispatcher = Callable[..., tuple[Dispatcher, Any]]


def _request(endpoint: str, arguments: dict[str, Any], path: Path | None = None) -> Request:
    return Request(endpoint, arguments, path=str(path) if path else None)


def test_text_to_video_end_to_end(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, tmp_path: Path
) -> None:
    sandbox.set_latency(0.4)
    dispatcher, events = make_dispatcher()
    prompt = FOX + " {# kp-ignore: KP402 -- a test #}"
    result = dispatcher.run(_request(T2V, {"prompt": prompt, "duration": "5"}), name="fox")

    (job,) = sandbox.jobs
    assert job.arguments == {"prompt": FOX, "duration": "5"}  # directives stripped
    assert job.request_id == result.request_id
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.billed_jobs) == (1, 1)

    assert result.video_path == tmp_path / "out" / "fox.mp4"
    assert result.video_path.stat().st_size == job_size(result)
    assert not list((tmp_path / "out").glob(".*.part"))
    record = json.loads(result.record_path.read_text())
    assert record["request_id"] == result.request_id
    assert record["endpoint"] == T2V
    assert record["arguments"]["prompt"] == FOX
    assert record["estimate"]["usd"] == pytest.approx(1.4)
    assert {"submit", "queue", "run", "download", "total"} <= set(record["timings"])

    row = dispatcher.ledger.job(result.job_id)
    assert row.state == "completed"
    assert row.request_id == result.request_id
    assert row.file_path == str(result.video_path)
    assert [e["state"] for e in dispatcher.ledger.events(row.id)][:3] == [
        "planned",
        "submitting",
        "queued",
    ]
    stages = events.stages()
    assert stages[0] == "submitted"
    assert "queued" in stages
    assert "running" in stages
    assert stages[-2:] == ["completed", "downloaded"]
    assert any(e.stage == "log" and "Video ready" in e.message for e in events)


def job_size(result: Any) -> int:
    return int(result.result["video"]["file_size"])


def test_image_to_video_uploads_a_local_image_once(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, data_dir: Path
) -> None:
    from kling_prompt.linter import inputs
    from kling_prompt.linter.config import Config

    (item,) = inputs.load(str(data_dir / "portrait.json"), config=Config()).items
    dispatcher, events = make_dispatcher()
    first = dispatcher.run(item.request)
    second = dispatcher.run(item.request, resend=True)

    (upload,) = sandbox.uploads
    assert sandbox.uploaded_bytes(upload.file_id) == (data_dir / "frame.png").read_bytes()
    sent = [job.arguments["start_image_url"] for job in sandbox.jobs]
    assert sent == [upload.url, upload.url]
    assert sandbox.stats().jobs_created == 2
    assert first.request_hash == second.request_hash
    assert first.video_path is not None
    assert first.video_path.name == "portrait.mp4"
    assert second.video_path is not None
    assert second.video_path.name == f"portrait-job{second.job_id}.mp4"
    assert [e.message for e in events if e.stage == "upload"] == [
        f"start_image_url: uploaded frame.png ({upload.size} bytes)",
        "start_image_url: frame.png already uploaded",
    ]
    record = json.loads(first.record_path.read_text())
    assert record["local_files"]["start_image_url"]["path"] == str(data_dir / "frame.png")


def test_reference_to_video_with_nested_local_elements(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, tmp_path: Path, make_png: Callable[..., Path]
) -> None:
    make_png(tmp_path / "face.png", size=(600, 800))
    make_png(tmp_path / "side.png", size=(600, 800), color="blue")
    args = {
        "prompt": "@Element1 walks through a busy night market, looking at the lanterns, camera following",
        "elements": [{"frontal_image_url": "face.png", "reference_image_urls": ["side.png"]}],
        "duration": "5",
    }
    dispatcher, _ = make_dispatcher()
    dispatcher.run(_request(R2V, args, tmp_path / "market.json"))
    (job,) = sandbox.jobs
    element = job.arguments["elements"][0]
    urls = {u.file_name: u.url for u in sandbox.uploads}
    assert element == {
        "frontal_image_url": urls["face.png"],
        "reference_image_urls": [urls["side.png"]],
    }


def test_motion_control_with_local_image_and_video(
    sandbox: Sandbox,
    make_dispatcher: MakeDispatcher,
    tmp_path: Path,
    make_png: Callable[..., Path],
    make_video: Callable[..., Path],
) -> None:
    make_png(tmp_path / "me.png", size=(720, 1280))
    make_video(tmp_path / "dance.mp4", seconds=4.0)
    args = {
        "prompt": "The character copies the dance moves with energy, arms swinging to the beat",
        "image_url": "me.png",
        "video_url": "dance.mp4",
        "character_orientation": "image",
    }
    dispatcher, _ = make_dispatcher()
    prepared = dispatcher.prepare(_request(MOTION, args, tmp_path / "dance.json"))
    assert prepared.probe.input_seconds == pytest.approx(4.0)
    assert prepared.usd is not None  # priced from the probed reference length
    dispatcher.run(prepared)
    (job,) = sandbox.jobs
    assert {u.file_name for u in sandbox.uploads} == {"me.png", "dance.mp4"}
    assert job.arguments["video_url"].endswith("/dance.mp4")


def test_motion_control_reference_too_long_is_refused_before_any_upload(
    sandbox: Sandbox,
    make_dispatcher: MakeDispatcher,
    tmp_path: Path,
    make_png: Callable[..., Path],
    make_video: Callable[..., Path],
) -> None:
    make_png(tmp_path / "me.png", size=(720, 1280))
    make_video(tmp_path / "long.mp4", seconds=12.0)
    args = {
        "prompt": "dance",
        "image_url": "me.png",
        "video_url": "long.mp4",
        "character_orientation": "image",
    }
    dispatcher, _ = make_dispatcher(force=True)
    with pytest.raises(ValidationError) as caught:
        dispatcher.run(_request(MOTION, args, tmp_path / "x.json"))
    assert [p.loc for p in caught.value.problems] == ["video_url"]
    assert sandbox.stats().requests_by_route == {}
    assert dispatcher.ledger.jobs() == []


@pytest.mark.parametrize("endpoint", [O1_EDIT, O3_EDIT])
def test_video_edit(sandbox: Sandbox, make_dispatcher: MakeDispatcher, endpoint: str) -> None:
    args = {
        "prompt": "Replace the sky with a dramatic sunset and keep everything else unchanged",
        "video_url": "https://v3.fal.media/files/clips/street.mp4",
    }
    dispatcher, _ = make_dispatcher()
    result = dispatcher.run(_request(endpoint, args))
    (job,) = sandbox.jobs
    assert job.endpoint_id == endpoint
    assert job.arguments["video_url"] == args["video_url"]
    assert result.video_path is not None
    assert result.video_path.name == f"job-{result.job_id}.mp4"


def test_multi_shot_with_audio_from_jsonl(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, data_dir: Path
) -> None:
    from kling_prompt.linter import inputs
    from kling_prompt.linter.config import Config

    (item,) = inputs.load(str(data_dir / "shots.jsonl"), config=Config()).items
    dispatcher, _ = make_dispatcher()
    result = dispatcher.run(item.request)
    (job,) = sandbox.jobs
    assert job.arguments["generate_audio"] is True
    assert [s["duration"] for s in job.arguments["multi_prompt"]] == ["3", "2"]
    assert result.video_path is not None
    assert result.video_path.name == "shots-intro.mp4"
    assert sandbox.stats().billed_seconds == 5


def test_lint_errors_block_unless_forced(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, data_dir: Path
) -> None:
    from kling_prompt.linter import inputs
    from kling_prompt.linter.config import Config

    (item,) = inputs.load(str(data_dir / "broken.json"), config=Config()).items
    dispatcher, _ = make_dispatcher()
    with pytest.raises(LintError, match=r"KP105.*--force") as caught:
        dispatcher.run(item.request)
    assert any(d.code == "KP105" for d in caught.value.diagnostics)
    assert sandbox.stats().jobs_created == 0
    forced, _ = make_dispatcher(force=True)
    prepared = forced.prepare(item.request)
    assert prepared.notes == ["sent despite 1 lint error(s) (--force)"]


def test_budget_is_checked_before_anything_is_sent(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher
) -> None:
    dispatcher, _ = make_dispatcher(max_cost=2.0)
    request = _request(T2V, {"prompt": FOX, "duration": "5"})
    dispatcher.run(request)  # $1.40
    assert dispatcher.run(request).state == "reused"  # identical: nothing sent, nothing spent
    with pytest.raises(BudgetError, match=r"\$2.80, over --max-cost \$2.00"):
        dispatcher.run(request, resend=True)
    assert sandbox.stats().jobs_created == 1
    remote = {
        "prompt": "The character copies the dance moves with energy, arms swinging to the beat",
        "image_url": "https://v3.fal.media/files/a.png",
        "video_url": "https://v3.fal.media/files/b.mp4",
        "character_orientation": "video",
    }
    unknown = _request(MOTION, remote)
    with pytest.raises(BudgetError, match="unknown"):
        dispatcher.run(unknown)


def test_missing_key_says_how_to_set_it(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAL_KEY")
    dispatcher, _ = make_dispatcher()
    with pytest.raises(AuthError, match="set FAL_KEY"):
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    assert sandbox.stats().requests_by_route == {}


# ----- scripted failures -----


def test_rejected_key(sandbox: Sandbox, make_dispatcher: MakeDispatcher) -> None:
    sandbox.script.reject_key(sandbox.key)
    dispatcher, _ = make_dispatcher()
    with pytest.raises(AuthError, match=r"fal rejected the key .*HTTP 401.*set FAL_KEY"):
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "failed"
    assert "HTTP 401" in (row.error or "")
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.billed_jobs, stats.rejected) == (0, 0, {401: 1})


def test_429_is_retried_by_fal_client(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, fast_retries: None
) -> None:
    sandbox.script.rate_limit("submit", times=2)
    dispatcher, _ = make_dispatcher()
    result = dispatcher.run(_request(T2V, {"prompt": FOX}))
    assert dispatcher.ledger.job(result.job_id).state == "completed"
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.billed_jobs, stats.requests_by_route["submit"]) == (1, 1, 3)


def test_429_until_retries_run_out(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, fast_retries: None
) -> None:
    sandbox.script.rate_limit("submit", times=None)
    dispatcher, _ = make_dispatcher()
    with pytest.raises(DispatchError, match=r"rate-limiting.*wait a minute"):
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    assert dispatcher.ledger.jobs()[0].state == "failed"
    assert sandbox.stats().jobs_created == 0


def test_500_on_submit_fails_without_retry(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, fast_retries: None
) -> None:
    sandbox.script.fail_next("submit", 500)
    dispatcher, _ = make_dispatcher()
    with pytest.raises(DispatchError, match=r"HTTP 500 \(internal_error\) while submitting"):
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "failed"
    assert row.request_id is None
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.requests_by_route["submit"]) == (0, 1)


def test_502_ingress_error_is_retried(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, fast_retries: None
) -> None:
    sandbox.script.nginx_error("submit", 502)
    sandbox.script.nginx_error("status", 503)
    dispatcher, _ = make_dispatcher()
    dispatcher.run(_request(T2V, {"prompt": FOX}))
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.billed_jobs, stats.faults_fired) == (1, 1, 2)


def test_dropped_connection_before_the_submit_is_retried(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, fast_retries: None
) -> None:
    sandbox.script.drop("submit")
    sandbox.script.drop("status")
    dispatcher, _ = make_dispatcher()
    result = dispatcher.run(_request(T2V, {"prompt": FOX}))
    assert dispatcher.ledger.job(result.job_id).state == "completed"
    assert sandbox.stats().jobs_created == 1


def test_lost_submit_reply_creates_a_duplicate_job(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, fast_retries: None
) -> None:
    """The known fal-client risk (no switch to turn it off): the retried POST is a second job.

    We follow and record the job whose reply arrived; the first one is created and billed too.
    """
    sandbox.script.lose_reply("submit")
    dispatcher, _ = make_dispatcher()
    result = dispatcher.run(_request(T2V, {"prompt": FOX}))
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.billed_jobs) == (2, 2)
    assert [row.request_id for row in dispatcher.ledger.jobs()] == [result.request_id]


def test_lost_submit_reply_after_retries_is_reported_as_uncertain(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher, fast_retries: None
) -> None:
    sandbox.script.lose_reply("submit", times=None)
    dispatcher, _ = make_dispatcher()
    with pytest.raises(SubmitUncertain, match="fal may have created, and may bill"):
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "submitting"
    assert row.request_id is None
    assert "dashboard" in (row.error or "")
    assert sandbox.stats().jobs_created == 4  # fal-client's MAX_ATTEMPTS (4 in this test)


def test_job_failure_on_fal(sandbox: Sandbox, make_dispatcher: MakeDispatcher) -> None:
    sandbox.script.fail_job()
    dispatcher, events = make_dispatcher()
    with pytest.raises(JobFailed, match=r"failed \(runner_server_error\)") as caught:
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    assert caught.value.error_type == "runner_server_error"
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "failed"
    assert row.request_id is not None
    assert "failed" in events.stages()
    stats = sandbox.stats()
    assert (stats.jobs_created, stats.billed_jobs) == (1, 0)


def test_never_finishing_job_is_cancelled_at_the_deadline(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher
) -> None:
    sandbox.script.never_finish()
    dispatcher, events = make_dispatcher(timeout=0.4)
    with pytest.raises(DeadlineError, match=r"did not finish within 0.4 s; it was cancelled"):
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "cancelled"
    (job,) = sandbox.jobs
    assert job.state == "CANCELLED"
    assert job.request_id == row.request_id
    assert sandbox.stats().billed_jobs == 0
    assert "cancelled" in events.stages()


def test_422_from_fal_becomes_a_validation_error_with_paths(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher
) -> None:
    detail = [
        {
            "loc": ["body", "multi_prompt", 1, "duration"],
            "msg": "Input should be '3'",
            "type": "enum",
        },
        {"loc": ["body", "prompt"], "msg": "Too long", "type": "string_too_long"},
    ]
    sandbox.script.fail_next("submit", 422, detail=detail)
    dispatcher, _ = make_dispatcher()
    with pytest.raises(ValidationError) as caught:
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    assert [(p.loc, p.message) for p in caught.value.problems] == [
        ("multi_prompt[1].duration", "Input should be '3'"),
        ("prompt", "Too long"),
    ]
    assert dispatcher.ledger.jobs()[0].state == "failed"
    assert sandbox.stats().jobs_created == 0


def test_ctrl_c_cancels_records_and_reraises(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher
) -> None:
    sandbox.script.never_finish()

    def interrupt(event: Any) -> None:
        if event.stage == "running":
            raise KeyboardInterrupt

    dispatcher, _ = make_dispatcher(progress=interrupt)
    with pytest.raises(KeyboardInterrupt):
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "cancelled"
    assert "Ctrl-C" in (row.error or "")
    assert sandbox.jobs[0].state == "CANCELLED"
    assert sandbox.stats().billed_jobs == 0


def test_resume_follows_an_interrupted_job(
    sandbox: Sandbox, make_dispatcher: MakeDispatcher
) -> None:
    """A job whose process stopped while queued is followed again from its request id."""
    sandbox.set_latency(0.3)
    stop_once = {"done": False}

    def crash(event: Any) -> None:
        if event.stage == "submitted" and not stop_once["done"]:
            stop_once["done"] = True
            raise RuntimeError("process crashed")

    dispatcher, _ = make_dispatcher(progress=crash)
    with pytest.raises(RuntimeError):
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "queued"
    assert row.request_id is not None
    result = dispatcher.resume(row.id)
    assert result.request_id == row.request_id
    assert dispatcher.ledger.job(row.id).state == "completed"
    assert sandbox.stats().jobs_created == 1


def test_unreachable_fal_says_what_failed(
    make_dispatcher: MakeDispatcher, monkeypatch: pytest.MonkeyPatch, fast_retries: None
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    for name in ("NO_PROXY", "no_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAL_KEY", "test-key-unreachable")
    dispatcher, _ = make_dispatcher()
    with pytest.raises(DispatchError, match=r"cannot reach fal .*check your network") as caught:
        dispatcher.run(_request(T2V, {"prompt": FOX}))
    assert "submitting to " + T2V in str(caught.value)
    (row,) = dispatcher.ledger.jobs()
    assert row.state == "failed"  # nothing reached fal: not uncertain
