"""Send requests to fal: checks, uploads, submit, polling, downloads and the ledger.

The only part of kling_prompt that imports fal_client, and it does so lazily: importing this
package is cheap. Names are loaded on first use::

    from kling_prompt.dispatch import Dispatcher

    with Dispatcher(max_cost=5.0, out_dir="out") as dispatcher:
        result = dispatcher.run(request)
        print(result.video_path, result.request_id)

Batches (bounded concurrency, resumable from the ledger, no double spending)::

    from kling_prompt.dispatch import run_batch

    summary = run_batch(["prompts/"], concurrency=8, max_cost=20.0, out_dir="out")
    print(summary.table())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kling_prompt.dispatch.batch import (
        Batch,
        BatchItem,
        BatchSummary,
        load_inputs,
        run_batch,
    )
    from kling_prompt.dispatch.dispatcher import (
        Dispatcher,
        JobResult,
        Prepared,
        ProgressCallback,
        ProgressEvent,
        request_hash,
    )
    from kling_prompt.dispatch.display import LineDisplay, TerminalDisplay, make_display
    from kling_prompt.dispatch.downloads import Downloaded, clean_partials, download
    from kling_prompt.dispatch.errors import (
        DeadlineError,
        DownloadError,
        Interrupted,
        JobFailed,
        LintError,
        SubmitUncertain,
    )
    from kling_prompt.dispatch.ledger import STATES, JobRow, Ledger, LedgerError, UploadRow
    from kling_prompt.dispatch.redact import Redactor

_EXPORTS: dict[str, str] = {
    "Batch": "batch",
    "BatchItem": "batch",
    "BatchSummary": "batch",
    "load_inputs": "batch",
    "run_batch": "batch",
    "LineDisplay": "display",
    "TerminalDisplay": "display",
    "make_display": "display",
    "Interrupted": "errors",
    "Dispatcher": "dispatcher",
    "JobResult": "dispatcher",
    "Prepared": "dispatcher",
    "ProgressCallback": "dispatcher",
    "ProgressEvent": "dispatcher",
    "request_hash": "dispatcher",
    "Downloaded": "downloads",
    "clean_partials": "downloads",
    "download": "downloads",
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
    "Batch",
    "BatchItem",
    "BatchSummary",
    "DeadlineError",
    "Dispatcher",
    "DownloadError",
    "Downloaded",
    "Interrupted",
    "JobFailed",
    "JobResult",
    "JobRow",
    "Ledger",
    "LedgerError",
    "LineDisplay",
    "LintError",
    "Prepared",
    "ProgressCallback",
    "ProgressEvent",
    "Redactor",
    "SubmitUncertain",
    "TerminalDisplay",
    "UploadRow",
    "clean_partials",
    "download",
    "load_inputs",
    "make_display",
    "request_hash",
    "run_batch",
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
