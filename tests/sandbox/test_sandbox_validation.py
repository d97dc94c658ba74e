"""Payload validation answers 422 in fal's shape, from a stub and from the real catalog."""

from __future__ import annotations

import importlib
from typing import Any

import fal_client
import pytest
from sandbox_support import MULTI, T2V

from kling_prompt.sandbox import Sandbox
from kling_prompt.sandbox.server import loc_parts


def test_loc_parts() -> None:
    assert loc_parts("multi_prompt[1].duration") == ["body", "multi_prompt", 1, "duration"]
    assert loc_parts("elements[0].reference_image_urls[2]") == [
        "body",
        "elements",
        0,
        "reference_image_urls",
        2,
    ]
    assert loc_parts("") == ["body"]


def test_422_shape(client: Any, sandbox: Sandbox) -> None:
    args = {"multi_prompt": [{"prompt": "a", "duration": "3"}, {"prompt": "b", "duration": "4"}]}
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.submit(MULTI, args)
    assert info.value.status_code == 422
    detail: Any = info.value.message  # a list for 422, although typed as str
    assert detail == [
        {
            "loc": ["body", "multi_prompt", 1, "duration"],
            "msg": "Input should be '3' or '5'",
            "type": "enum",
        }
    ]
    assert info.value.response_headers["x-fal-retryable"] == "false"
    assert sandbox.stats().jobs_created == 0
    assert sandbox.stats().rejected == {422: 1}


def test_422_on_sync_run_and_several_problems(client: Any, sandbox: Sandbox) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        client.run(T2V, {"duration": "7"})
    detail: Any = info.value.message
    assert [d["loc"] for d in detail] == [["body", "prompt"], ["body", "duration"]]
    assert sandbox.stats().jobs_created == 0


def _catalog_has_check() -> bool:
    try:
        catalog = importlib.import_module("kling_prompt.catalog")
    except ImportError:
        return False
    return callable(getattr(catalog, "check", None)) and callable(getattr(catalog, "get", None))


@pytest.mark.skipif(
    not _catalog_has_check(), reason="kling_prompt.catalog has no check()/get() yet"
)
def test_real_catalog_validation() -> None:
    with Sandbox(latency=0.02) as sb, sb.environment():
        client = fal_client.SyncClient(key="sandbox-key")
        with pytest.raises(fal_client.FalClientHTTPError) as info:
            client.submit(T2V, {"prompt": "a cat", "duration": "7"})
        assert info.value.status_code == 422
        detail: Any = info.value.message
        assert isinstance(detail, list)
        assert all(d["loc"][0] == "body" and d["msg"] and d["type"] for d in detail)
        assert ["body", "duration"] in [d["loc"] for d in detail]

        with pytest.raises(fal_client.FalClientHTTPError) as info:
            client.submit("fal-ai/kling-video/v0/imaginary", {"prompt": "x"})
        assert info.value.status_code == 404

        result = client.subscribe(T2V, {"prompt": "a cat"}, interval=0.01)
        assert result["video"]["file_size"] > 0
        (job,) = sb.jobs
        assert job.duration == 5  # the catalog's default duration


def test_broken_validator_answers_a_json_500() -> None:
    def broken(endpoint_id: str, arguments: Any) -> list[Any]:
        raise RuntimeError("boom")

    with Sandbox(validator=broken) as sb, sb.environment():
        with pytest.raises(fal_client.FalClientHTTPError) as info:
            fal_client.SyncClient(key="sandbox-key").submit(T2V, {"prompt": "x"})
        assert info.value.status_code == 500
        assert info.value.error_type == "internal_error"
        assert sb.stats().requests_by_route == {"submit": 1}  # JSON 500: not retried


def test_reset_forgets_everything(client: Any, sandbox: Sandbox) -> None:
    sandbox.script.drop("status", times=None)
    client.submit(T2V, {"prompt": "x"})
    sandbox.reset()
    assert sandbox.stats().jobs_created == 0
    assert sandbox.requests == []
    assert sandbox.script.pending() == []
