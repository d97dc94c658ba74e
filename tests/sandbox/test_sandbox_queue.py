"""The queue protocol, end to end with the real fal-client through the CONNECT tunnel."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import fal_client
import httpx
import pytest
from hachoir.metadata import extractMetadata
from hachoir.parser import createParser
from sandbox_support import MULTI, T2V, ManualClock, stub_validator

from kling_prompt.sandbox import Sandbox


def _poll(handle: Any) -> list[Any]:
    return list(handle.iter_events(with_logs=True, interval=0.01))


def test_submit_status_result(client: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set_latency(0.6, T2V)
    args = {"prompt": "a cat on a roof", "duration": "10", "aspect_ratio": "9:16"}
    handle = client.submit(T2V, args)
    events = _poll(handle)
    assert isinstance(events[0], fal_client.Queued)
    assert isinstance(events[-1], fal_client.Completed)
    assert events[-1].error is None
    assert events[-1].metrics["inference_time"] > 0
    assert any("Video ready" in line["message"] for line in events[-1].logs or [])
    result = handle.get(interval=0.01)
    video = result["video"]
    assert video["content_type"] == "video/mp4"
    assert video["url"].startswith("https://v3.fal.media/files/")

    with httpx.Client() as http:  # env proxy + sandbox CA, like any downloader
        response = http.get(video["url"])
    assert response.status_code == 200
    assert len(response.content) == video["file_size"]
    path = tmp_path / "out.mp4"
    path.write_bytes(response.content)
    with createParser(str(path)) as parser:
        meta = extractMetadata(parser)
    assert meta.get("duration").total_seconds() == 10
    assert (meta.get("width"), meta.get("height")) == (72, 128)

    (job,) = sandbox.jobs
    assert job.request_id == handle.request_id
    assert job.arguments == args
    assert job.state == "COMPLETED"
    assert job.billed_seconds == 10


def test_status_urls_drop_the_endpoint_path(client: Any, sandbox: Sandbox) -> None:
    handle = client.submit(T2V, {"prompt": "x"})
    assert handle.status_url == (
        f"https://queue.fal.run/fal-ai/kling-video/requests/{handle.request_id}/status"
    )
    by_id = client.status(T2V, handle.request_id, with_logs=False)
    assert isinstance(by_id, (fal_client.Queued, fal_client.InProgress, fal_client.Completed))
    handle.get(interval=0.01)
    assert client.result(T2V, handle.request_id)["video"]["file_name"] == "output.mp4"


def test_submit_with_path_and_headers(client: Any, sandbox: Sandbox) -> None:
    handle = client.submit(
        T2V,
        {"prompt": "x"},
        path="extra",
        hint="runner-1",
        priority="low",
        webhook_url="http://127.0.0.1:9/hook",
    )
    job = sandbox.job(handle.request_id)
    assert (job.endpoint_id, job.path) == (T2V, "extra")
    assert job.headers["X-Fal-Queue-Priority"] == "low"
    assert job.headers["X-Fal-Runner-Hint"] == "runner-1"
    assert job.webhook_url == "http://127.0.0.1:9/hook"
    submit = next(r for r in sandbox.requests if r.route == "submit")
    assert submit.headers["Authorization"] == "Key ***"


def test_duration_as_int_and_default(client: Any, sandbox: Sandbox) -> None:
    a = client.submit(T2V, {"prompt": "x", "duration": 10})
    b = client.submit(T2V, {"prompt": "x"})
    assert sandbox.job(a.request_id).duration == 10
    assert sandbox.job(b.request_id).duration == 5
    assert sandbox.job(b.request_id).aspect_ratio == "16:9"


def test_queue_positions_and_progress_with_a_manual_clock() -> None:
    clock = ManualClock()
    with Sandbox(validator=stub_validator, latency=10, clock=clock) as sb, sb.environment():
        client = fal_client.SyncClient(key="sandbox-key")
        handles = []
        for _ in range(3):
            handles.append(client.submit(T2V, {"prompt": "x"}))
            clock.advance(1)
        # queue phase is 2.5 s: at t=3 the first job runs, the other two wait in line
        assert isinstance(handles[0].status(), fal_client.InProgress)
        assert handles[1].status() == fal_client.Queued(position=0)
        assert handles[2].status() == fal_client.Queued(position=1)
        assert handles[2].status(with_logs=True) == fal_client.Queued(position=1)
        clock.advance(6)
        progress = handles[0].status(with_logs=True)
        assert isinstance(progress, fal_client.InProgress)
        assert [line["message"] for line in progress.logs or []][-1] == "Generating video: 75%"
        quiet = handles[0].status()
        assert isinstance(quiet, fal_client.InProgress)
        assert quiet.logs is None  # logs only when asked for
        early = handles[0].client.get(handles[0].response_url)  # get() would poll first
        assert early.status_code == 400
        assert early.json() == {"detail": "Request is still in progress"}
        assert sb.stats().billed_jobs == 0
        clock.advance(10)
        assert isinstance(handles[2].status(), fal_client.Completed)
        assert sb.stats().billed_seconds == 15


def test_cancel_rules() -> None:
    clock = ManualClock()
    with Sandbox(validator=stub_validator, latency=10, clock=clock) as sb, sb.environment():
        client = fal_client.SyncClient(key="sandbox-key")
        queued = client.submit(T2V, {"prompt": "queued"})
        running = client.submit(T2V, {"prompt": "running"})
        done = client.submit(T2V, {"prompt": "done"})
        queued.cancel()
        clock.advance(5)
        running.cancel()
        clock.advance(10)
        with pytest.raises(fal_client.FalClientHTTPError) as info:
            done.cancel()
        assert info.value.status_code == 400
        assert "ALREADY_COMPLETED" in info.value.message
        status = queued.status(with_logs=True)
        assert isinstance(status, fal_client.Completed)
        assert status.error_type == "client_cancelled"
        with pytest.raises(fal_client.FalClientHTTPError) as info:
            queued.get(interval=0.01)
        assert info.value.status_code == 499
        stats = sb.stats()
        assert stats.by_state == {"CANCELLED": 2, "COMPLETED": 1}
        assert stats.billed_by_job == {done.request_id: 5}
        with pytest.raises(fal_client.FalClientHTTPError) as info:
            client.cancel(T2V, "no-such-request")
        assert info.value.status_code == 404


def test_subscribe_with_queue_updates(client: Any, sandbox: Sandbox) -> None:
    updates: list[Any] = []
    enqueued: list[str] = []
    result = client.subscribe(
        MULTI,
        {"multi_prompt": [{"prompt": "a", "duration": "3"}, {"prompt": "b", "duration": "5"}]},
        with_logs=True,
        interval=0.01,
        on_enqueue=enqueued.append,
        on_queue_update=updates.append,
    )
    assert result["video"]["file_size"] > 0
    assert isinstance(updates[-1], fal_client.Completed)
    assert enqueued == [sandbox.jobs[0].request_id]


def test_sync_run(client: Any, sandbox: Sandbox) -> None:
    result = client.run(T2V, {"prompt": "x", "duration": "5", "aspect_ratio": "1:1"})
    (job,) = sandbox.jobs
    assert job.mode == "run"
    assert job.billed_seconds == 5
    assert result["video"]["url"].endswith(f"/{job.request_id}/output.mp4")
    assert sandbox.stats().requests_by_route == {"run": 1}


def test_unknown_endpoint_is_404(client: Any, sandbox: Sandbox) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.submit("fal-ai/kling-video/v9/ultra/text-to-video", {"prompt": "x"})
    assert info.value.status_code == 404
    assert sandbox.stats().jobs_created == 0
    assert sandbox.stats().rejected == {404: 1}


def test_async_client_subscribe(sandbox: Sandbox) -> None:
    async def go() -> Any:
        client = fal_client.AsyncClient(key="sandbox-key")
        handle = await client.submit(T2V, {"prompt": "async"})
        statuses = [s async for s in handle.iter_events(with_logs=True, interval=0.01)]
        result = await handle.get(interval=0.01)
        return handle, statuses, result

    handle, statuses, result = asyncio.run(go())
    assert isinstance(statuses[-1], fal_client.Completed)
    assert result["video"]["content_type"] == "video/mp4"
    assert sandbox.job(handle.request_id).state == "COMPLETED"


def test_concurrent_submits_are_all_recorded_once(client: Any, sandbox: Sandbox) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def submit(n: int) -> None:
        handle = client.submit(T2V, {"prompt": f"shot {n}"})
        with lock:
            ids.append(handle.request_id)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(ids) == sorted(j.request_id for j in sandbox.jobs)
    assert len(set(ids)) == 12
    assert sandbox.stats().by_endpoint == {T2V: 12}


def test_connect_to_other_hosts_is_refused(sandbox: Sandbox) -> None:
    with httpx.Client() as http, pytest.raises(httpx.ProxyError):
        http.get("https://example.com/")
    assert sandbox.requests[-1].route == "connect"
    assert sandbox.requests[-1].status == 403
