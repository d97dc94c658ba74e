"""Send requests to fal: checks, uploads, submit, polling, downloads and the ledger.

The only part of kling_prompt that imports fal_client, and it does so lazily: importing this
package is cheap. Names are loaded on first use::

    from kling_prompt.dispatch import Dispatcher

    with Dispatcher(max_cost=5.0, out_dir="out") as dispatcher:
        result = dispatcher.run(request)
        print(result.video_path, result.request_id)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kling_prompt.dispatch.dispatcher import (
        Dispatcher,
        JobResult,
        Prepared,
        ProgressCallback,
        ProgressEvent,
        request_hash,
    )
    from kling_prompt.dispatch.download import Downloaded, download
    from kling_prompt.dispatch.errors import (
        DeadlineError,
        DownloadError,
        JobFailed,
        LintError,
        SubmitUncertain,
    )
    from kling_prompt.dispatch.ledger import STATES, JobRow, Ledger, LedgerError, UploadRow
    from kling_prompt.dispatch.redact import Redactor

_EXPORTS: dict[str, str] = {
    "Dispatcher": "dispatcher",
    "JobResult": "dispatcher",
    "Prepared": "dispatcher",
    "ProgressCallback": "dispatcher",
    "ProgressEvent": "dispatcher",
    "request_hash": "dispatcher",
    "Downloaded": "download",
    "download": "download",
    "DeadlineError": "errors",
    "DownloadError": "errors",
    "JobFailed": "errors",
    "LintError": "errors",
    "SubmitUncertain": "errors",
    "STATES": "ledger",
    "JobRow": "ledger",
    "Ledger": "ledger",
    "LedgerError": "ledger",
    "UploadRow": "ledger",
    "Redactor": "redact",
}

__all__ = [
    "STATES",
    "DeadlineError",
    "Dispatcher",
    "DownloadError",
    "Downloaded",
    "JobFailed",
    "JobResult",
    "JobRow",
    "Ledger",
    "LedgerError",
    "LintError",
    "Prepared",
    "ProgressCallback",
    "ProgressEvent",
    "Redactor",
    "SubmitUncertain",
    "UploadRow",
    "download",
    "request_hash",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
