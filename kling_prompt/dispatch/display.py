"""Progress of a batch: a live block redrawn in place on a terminal, plain lines otherwise.

Both are progress callbacks (``display(event)``) with ``start(summary)`` and ``close()``, which
:class:`~kling_prompt.dispatch.batch.Batch` calls. The terminal display uses ANSI cursor moves
only (no dependency): finished jobs scroll above a block of per-job state lines and an overall
bar with the cost so far. The line display prints one line per state change, for logs and CI.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kling_prompt.dispatch.batch import BatchSummary
    from kling_prompt.dispatch.dispatcher import ProgressEvent

__all__ = ["LineDisplay", "TerminalDisplay", "make_display"]

OUTCOME_STAGES = frozenset({"completed", "reused", "failed", "skipped", "uncertain", "blocked"})
_STATE_STAGES = frozenset(
    {"upload", "submitted", "queued", "running", "redownload", "retry", "cancelled", "note"}
)


class _Display:
    def __init__(self, out: TextIO, *, show_logs: bool = False) -> None:
        self.out = out
        self.show_logs = show_logs
        self.summary: BatchSummary | None = None
        self.lock = threading.Lock()

    @property
    def total(self) -> int:
        return len(self.summary.items) if self.summary is not None else 0

    def start(self, summary: BatchSummary) -> None:
        self.summary = summary

    def close(self) -> None:
        """Stop drawing (the batch has finished)."""

    def progress_text(self) -> str:
        summary = self.summary
        if summary is None:
            return ""
        return (
            f"{summary.done}/{self.total} done, ${summary.spent_usd:.2f} spent"
            f" + ${summary.in_flight_usd:.2f} in flight of est. ${summary.estimated_usd:.2f}"
        )


class LineDisplay(_Display):
    """One line per state change: ``[3/20] clips/fox.json: running``."""

    def __init__(self, out: TextIO, *, show_logs: bool = False) -> None:
        super().__init__(out, show_logs=show_logs)
        self._last: dict[object, str] = {}

    def __call__(self, event: ProgressEvent) -> None:
        key = event.index if event.index is not None else event.label
        stage = event.stage
        if stage == "log":
            if not self.show_logs:
                return
            text = f"  {event.message}"
        elif stage in OUTCOME_STAGES:
            text = f"{event.message}  [{self.progress_text()}]" if self.summary else event.message
        elif stage in _STATE_STAGES:
            if stage == "queued" and self._last.get(key) == "queued" and not self.show_logs:
                return
            text = event.message
        else:
            return
        with self.lock:
            self._last[key] = stage
            index = f"{event.index}/{self.total}" if event.index is not None else "-"
            print(f"[{index}] {event.label}: {text}", file=self.out, flush=True)


class TerminalDisplay(_Display):
    """Per-job state lines and an overall bar, redrawn in place (at most 10 times a second)."""

    max_rows = 12
    bar_width = 28

    def __init__(self, out: TextIO, *, show_logs: bool = False, refresh: float = 0.1) -> None:
        super().__init__(out, show_logs=show_logs)
        self.refresh = refresh
        self._active: dict[int, tuple[str, str, float]] = {}
        self._drawn = 0
        self._last_draw = 0.0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self, summary: BatchSummary) -> None:
        super().start(summary)
        self._ticker = threading.Thread(target=self._tick, name="kling-display", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            with self.lock:
                self._draw([], force=True)

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self.lock:
            self._draw([], force=True)

    def __call__(self, event: ProgressEvent) -> None:
        if event.index is None:
            return
        stage = event.stage
        above: list[str] = []
        with self.lock:
            if stage in OUTCOME_STAGES:
                self._active.pop(event.index, None)
                above.append(f"[{event.index}/{self.total}] {event.label}: {event.message}")
            elif stage == "log":
                if self.show_logs:
                    above.append(f"[{event.index}/{self.total}] {event.label}:   {event.message}")
            elif stage in _STATE_STAGES:
                since = self._active.get(event.index, ("", "", time.monotonic()))[2]
                text = event.message if stage != "note" else "note: " + event.message
                self._active[event.index] = (event.label, text, since)
                if stage in ("note", "retry"):
                    above.append(f"[{event.index}/{self.total}] {event.label}: {text}")
            else:
                return
            self._draw(above, force=bool(above))

    def _draw(self, above: list[str], *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < self.refresh:
            return
        self._last_draw = now
        parts = []
        if self._drawn:
            parts.append(f"\x1b[{self._drawn}F\x1b[J")  # back to the block's top, clear below
        width = _columns()
        parts.extend(_fit(line, width) + "\n" for line in above)
        block = self._block(now, width)
        parts.extend(line + "\n" for line in block)
        self._drawn = len(block)
        self.out.write("".join(parts))
        self.out.flush()

    def _block(self, now: float, width: int) -> list[str]:
        lines = []
        active = sorted(self._active.items())
        for index, (label, state, since) in active[: self.max_rows]:
            lines.append(_fit(f"  #{index:<3} {label}  {state}  {now - since:4.0f}s", width))
        if len(active) > self.max_rows:
            lines.append(f"  ... and {len(active) - self.max_rows} more")
        summary = self.summary
        if summary is not None:
            total = max(1, self.total)
            filled = round(self.bar_width * summary.done / total)
            bar = "#" * filled + "." * (self.bar_width - filled)
            lines.append(_fit(f"[{bar}] {self.progress_text()}", width))
        return lines


def _columns() -> int:
    try:
        return max(40, os.get_terminal_size().columns - 1)
    except OSError:
        return 119


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 3] + "..."


def make_display(out: TextIO, *, show_logs: bool = False) -> LineDisplay | TerminalDisplay:
    """A :class:`TerminalDisplay` on an ANSI terminal, else a :class:`LineDisplay`."""
    isatty = getattr(out, "isatty", None)
    tty = bool(isatty and isatty()) and os.environ.get("TERM", "") not in ("", "dumb")
    if tty:
        return TerminalDisplay(out, show_logs=show_logs)
    return LineDisplay(out, show_logs=show_logs)
