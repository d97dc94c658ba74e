"""Scripted failures: what the real fal-client does with each, and what the ledger recorded."""

from __future__ import annotations

import time
from typing import Any

import fal_client
import httpx
import pytest
from sandbox_support import T2V, stub_validator

from kling_prompt.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("fast_retries")


def _wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_429_burst_is_retried(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.rate_limit("submit", times=3, retry_after=2)
    handle = client.submit(T2V, {"prompt": "x"})
    stats = sandbox.stats()
    assert stats.jobs_created == 1
    assert stats.requests_by_route["submit"] == 4
    assert stats.faults_fired == 3
    assert sandbox.jobs[0].request_id == handle.request_id
    assert sandbox.script.pending() == []


def test_429_until_retries_run_out(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.rate_limit("submit", times=None, retry_after=7)
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.submit(T2V, {"prompt": "x"})
    assert info.value.status_code == 429
    assert info.value.response_headers["retry-after"] == "7"
    assert info.value.error_type == "rate_limited"
    assert sandbox.stats().requests_by_route["submit"] == fal_client.client.MAX_ATTEMPTS
    assert sandbox.stats().jobs_created == 0


def test_json_500_is_not_retried(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.fail_next("submit", 500, times=2)
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.submit(T2V, {"prompt": "x"})
    assert (info.value.status_code, info.value.message) == (500, "Internal server error")
    assert info.value.error_type == "internal_error"
    assert sandbox.stats().requests_by_route["submit"] == 1
    assert sandbox.stats().jobs_created == 0


def test_nginx_502_is_retried_but_json_502_is_not(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.nginx_error("submit", 502, times=2)
    client.submit(T2V, {"prompt": "x"})
    assert sandbox.stats().jobs_created == 1
    assert [r.status for r in sandbox.requests] == [502, 502, 200]
    sandbox.script.fail_next("submit", 502, detail="Runner returned an incomplete response")
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.submit(T2V, {"prompt": "x"})
    assert info.value.status_code == 502
    assert sandbox.stats().jobs_created == 1


def test_nginx_page_shape(sandbox: Sandbox) -> None:
    sandbox.script.nginx_error("submit", 502)
    with httpx.Client() as http:
        response = http.post(f"https://queue.fal.run/{T2V}", json={"prompt": "x"})
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert "<center>nginx</center>" in response.text
    assert "x-fal-request-id" not in response.headers


def test_dropped_connection_is_retried(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.drop("submit", times=2)
    sandbox.script.drop("status")
    result = client.subscribe(T2V, {"prompt": "x"}, interval=0.01)
    assert result["video"]["content_type"] == "video/mp4"
    stats = sandbox.stats()
    assert stats.jobs_created == 1  # dropped before any effect: no duplicate
    assert [r.status for r in sandbox.requests if r.route == "submit"] == [None, None, 200]


def test_lost_reply_creates_a_duplicate_billed_job(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.lose_reply("submit")
    handle = client.submit(T2V, {"prompt": "paid twice", "duration": "10"})
    jobs = sandbox.jobs
    assert len(jobs) == 2
    assert jobs[0].arguments == jobs[1].arguments
    assert jobs[1].request_id == handle.request_id  # the client only knows the second one
    handle.get(interval=0.01)
    _wait_for(lambda: sandbox.stats().billed_jobs == 2)
    assert sandbox.stats().billed_seconds == 20


def test_slow_reply(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.delay("submit", 0.3)
    start = time.monotonic()
    client.submit(T2V, {"prompt": "x"})
    assert time.monotonic() - start >= 0.3
    assert sandbox.stats().jobs_created == 1


def test_slow_reply_past_the_client_timeout_duplicates(sandbox: Sandbox) -> None:
    impatient = fal_client.SyncClient(key="sandbox-key", default_timeout=0.2)
    sandbox.script.delay("submit", 0.6)
    impatient.submit(T2V, {"prompt": "x"})
    # the first request timed out on the client but still ran on the server
    _wait_for(lambda: sandbox.stats().jobs_created == 2)


def test_job_failing_on_fals_side(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.fail_job(detail="GPU fell over", error_type="runner_server_error")
    handle = client.submit(T2V, {"prompt": "x"})
    events = list(handle.iter_events(with_logs=True, interval=0.01))
    final = events[-1]
    assert isinstance(final, fal_client.Completed)
    assert (final.error, final.error_type) == ("GPU fell over", "runner_server_error")
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        handle.get(interval=0.01)
    assert (info.value.status_code, info.value.message) == (500, "GPU fell over")
    assert info.value.error_type == "runner_server_error"
    job = sandbox.job(handle.request_id)
    assert (job.state, job.billed_seconds) == ("FAILED", 0)


def test_sync_run_failing(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.fail_job(
        route="run", status=503, detail="No runner", error_type="runner_scheduling_failure"
    )
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.run(T2V, {"prompt": "x"})
    assert info.value.status_code == 503
    assert sandbox.stats().billed_jobs == 0


def test_job_that_never_finishes_can_be_cancelled(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.never_finish()
    handle = client.submit(T2V, {"prompt": "x"})
    time.sleep(0.15)  # three times the latency
    for _ in range(3):
        assert isinstance(handle.status(), fal_client.InProgress)
    handle.cancel()
    assert isinstance(handle.status(), fal_client.Completed)
    stats = sandbox.stats()
    assert stats.by_state == {"CANCELLED": 1}
    assert stats.billed_jobs == 0


def test_rejected_key(sandbox: Sandbox) -> None:
    sandbox.script.reject_key("revoked-key", status=403)
    sandbox.script.reject_key("unknown-key")
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        fal_client.SyncClient(key="revoked-key").submit(T2V, {"prompt": "x"})
    assert info.value.status_code == 403
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        fal_client.SyncClient(key="unknown-key").run(T2V, {"prompt": "x"})
    assert info.value.status_code == 401
    assert "revoked-key" not in repr(sandbox.requests)
    assert sandbox.stats().rejected == {403: 1, 401: 1}
    assert sandbox.stats().jobs_created == 0


def test_missing_key_is_401(sandbox: Sandbox) -> None:
    with httpx.Client() as http:
        response = http.post(f"https://queue.fal.run/{T2V}", json={"prompt": "x"})
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_rejected_keys_from_the_constructor() -> None:
    with Sandbox(validator=stub_validator, rejected_keys=["old"]) as sb, sb.environment():
        with pytest.raises(fal_client.FalClientHTTPError) as info:
            fal_client.SyncClient(key="old").submit(T2V, {"prompt": "x"})
        assert info.value.status_code == 401


def test_faults_can_target_one_endpoint(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.fail_next("submit", 500, endpoint="fal-ai/kling-video/v3")
    client.submit(T2V, {"prompt": "x"})  # v2.1: untouched
    assert len(sandbox.script.pending()) == 1
    with pytest.raises(ValueError, match="unknown route"):
        sandbox.script.drop("sumbit")
