"""The ledger: every job sent to fal, in SQLite, so a crash never loses a paid job.

The dispatcher writes a job's intent (state ``submitting``) and commits it *before* the submit
call, then stores the request id right after, so whatever happens in between, the ledger says a
job may exist. Uploads are cached by content hash so a local file is uploaded once.

Standard library only (``sqlite3``), WAL mode, schema versioned with ``PRAGMA user_version``.
Thread-safe: each thread gets its own connection; writes take SQLite's write lock at once
(``BEGIN IMMEDIATE``) so parallel writers queue instead of failing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kling_prompt.errors import DispatchError

__all__ = [
    "ACTIVE_STATES",
    "DEFAULT_PATH",
    "SCHEMA_VERSION",
    "STATES",
    "TERMINAL_STATES",
    "JobRow",
    "Ledger",
    "LedgerError",
    "UploadRow",
    "default_path",
]

DEFAULT_PATH = os.path.join(".kling-prompt", "ledger.sqlite3")
"""Where the ledger lives unless told otherwise: relative to the current folder."""

LEDGER_ENV = "KLING_PROMPT_LEDGER"

STATES = ("planned", "submitting", "queued", "running", "completed", "failed", "cancelled")
TERMINAL_STATES = frozenset({"completed", "failed", "cancelled"})
ACTIVE_STATES = frozenset({"submitting", "queued", "running"})
_RANK = {state: i for i, state in enumerate(STATES)}


class LedgerError(DispatchError):
    """The ledger cannot be opened, is from a newer version, or was asked an impossible change."""


def default_path() -> str:
    """``$KLING_PROMPT_LEDGER`` if set, else ``.kling-prompt/ledger.sqlite3`` here."""
    return os.environ.get(LEDGER_ENV) or DEFAULT_PATH


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")  # noqa: UP017 (3.10)


# Each migration takes the schema from version i to i + 1. Append only; never edit one that
# shipped, since ledgers in users' folders were built by it.
_V1 = """
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    request_hash  TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    arguments     TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN
                  ('planned','submitting','queued','running','completed','failed','cancelled')),
    request_id    TEXT,
    estimate_usd  REAL,
    estimate      TEXT,
    result_url    TEXT,
    file_path     TEXT,
    error         TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    submitted_at  TEXT,
    finished_at   TEXT
);
CREATE INDEX jobs_request_hash ON jobs (request_hash);
CREATE UNIQUE INDEX jobs_request_id ON jobs (request_id) WHERE request_id IS NOT NULL;
CREATE TABLE uploads (
    sha256      TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    size        INTEGER NOT NULL,
    file_name   TEXT,
    created_at  TEXT NOT NULL
);
"""

# v2: where a job ran (real fal or a sandbox), where it came from, its result, and a history of
# state changes with timestamps (timings and audit). Upload URLs are only valid where they were
# made, so the upload cache is keyed by (realm, sha256).
_V2 = """
ALTER TABLE jobs ADD COLUMN realm TEXT NOT NULL DEFAULT 'fal';
ALTER TABLE jobs ADD COLUMN source TEXT;
ALTER TABLE jobs ADD COLUMN result TEXT;
CREATE TABLE job_events (
    job_id   INTEGER NOT NULL REFERENCES jobs (id),
    at       TEXT NOT NULL,
    state    TEXT NOT NULL,
    message  TEXT
);
CREATE INDEX job_events_job ON job_events (job_id);
CREATE TABLE uploads_v2 (
    realm       TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    url         TEXT NOT NULL,
    size        INTEGER NOT NULL,
    file_name   TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (realm, sha256)
);
INSERT INTO uploads_v2 (realm, sha256, url, size, file_name, created_at)
    SELECT 'fal', sha256, url, size, file_name, created_at FROM uploads;
DROP TABLE uploads;
ALTER TABLE uploads_v2 RENAME TO uploads;
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)

_JOB_COLUMNS = (
    "id",
    "request_hash",
    "endpoint",
    "arguments",
    "state",
    "request_id",
    "estimate_usd",
    "estimate",
    "result_url",
    "file_path",
    "error",
    "created_at",
    "updated_at",
    "submitted_at",
    "finished_at",
    "realm",
    "source",
    "result",
)
_UPDATABLE = frozenset(_JOB_COLUMNS) - {"id", "created_at", "updated_at", "state"}
_JSON_COLUMNS = frozenset({"arguments", "estimate", "result"})


class JobRow:
    """One job as the ledger holds it; JSON columns are decoded."""

    __slots__ = _JOB_COLUMNS

    id: int
    request_hash: str
    endpoint: str
    arguments: dict[str, Any]
    state: str
    request_id: str | None
    estimate_usd: float | None
    estimate: dict[str, Any] | None
    result_url: str | None
    file_path: str | None
    error: str | None
    created_at: str
    updated_at: str
    submitted_at: str | None
    finished_at: str | None
    realm: str
    source: str | None
    result: dict[str, Any] | None

    def __init__(self, row: Mapping[str, Any]) -> None:
        for name in _JOB_COLUMNS:
            value = row[name]
            if name in _JSON_COLUMNS and value is not None:
                value = json.loads(value)
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _JOB_COLUMNS}

    def __repr__(self) -> str:
        return f"JobRow(id={self.id}, state={self.state!r}, endpoint={self.endpoint!r})"


class UploadRow:
    """A cached upload: the fal storage URL of a file with this content hash."""

    __slots__ = ("created_at", "file_name", "realm", "sha256", "size", "url")

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.realm: str = row["realm"]
        self.sha256: str = row["sha256"]
        self.url: str = row["url"]
        self.size: int = row["size"]
        self.file_name: str | None = row["file_name"]
        self.created_at: str = row["created_at"]

    def __repr__(self) -> str:
        return f"UploadRow({self.sha256[:12]}..., {self.url!r})"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class Ledger:
    """The SQLite ledger at ``path`` (created, with its folder, on first use).

    ``redact`` is applied to every error text before it is stored, so a secret that slipped
    into an exception message never reaches the disk.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.path = Path(path if path is not None else default_path())
        self._redact = redact or (lambda text: text)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._connect()  # create and migrate now, so errors surface at open

    # ----- connections and schema -----

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise LedgerError(f"the ledger {self.path} is closed")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(
                f"cannot open the ledger {self.path}: {exc}; check the folder is writable "
                "or pass another path with --ledger"
            ) from exc
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LedgerError(
                f"{self.path} is not a kling-prompt ledger ({exc}); move it away or pass "
                "another path with --ledger"
            ) from exc
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise LedgerError(
                    f"the ledger {self.path} has schema version {version}, but this kling-prompt "
                    f"knows up to {SCHEMA_VERSION}; upgrade kling-prompt"
                )
            for number in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        return int(self._connect().execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every thread's connection. The ledger cannot be used afterwards."""
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- jobs -----

    def add_job(
        self,
        *,
        request_hash: str,
        endpoint: str,
        arguments: Mapping[str, Any],
        estimate: Mapping[str, Any] | None = None,
        source: str | None = None,
        realm: str = "fal",
        state: str = "planned",
    ) -> int:
        """Record a new job and return its id."""
        _check_state(state)
        at = now_iso()
        usd = estimate.get("usd") if estimate else None
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO jobs (request_hash, endpoint, arguments, state, estimate_usd, "
                "estimate, created_at, updated_at, realm, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    request_hash,
                    endpoint,
                    _dumps(dict(arguments)),
                    state,
                    usd,
                    _dumps(dict(estimate)) if estimate is not None else None,
                    at,
                    at,
                    realm,
                    source,
                ),
            )
            job_id = int(cur.lastrowid or 0)
            conn.execute(
                "INSERT INTO job_events (job_id, at, state, message) VALUES (?,?,?,?)",
                (job_id, at, state, None),
            )
        return job_id

    def update(
        self, job_id: int, *, state: str | None = None, message: str | None = None, **fields: Any
    ) -> JobRow:
        """Change a job's state and/or fields in one committed transaction; return the new row.

        A finished job (completed, failed, cancelled) keeps its state; a job never moves back to
        an earlier state, except ``running`` back to ``queued`` (fal may requeue). Fields are
        column names (``request_id``, ``error``, ``file_path``, ...); JSON columns take objects.
        """
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise LedgerError(f"unknown job field(s): {', '.join(sorted(unknown))}")
        at = now_iso()
        with self._write() as conn:
            row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise LedgerError(f"no job {job_id} in the ledger {self.path}")
            current = str(row["state"])
            assignments: dict[str, Any] = {}
            for name, value in fields.items():
                if name in _JSON_COLUMNS and value is not None:
                    value = _dumps(value)
                elif name == "error" and isinstance(value, str):
                    value = self._redact(value)
                assignments[name] = value
            if state is not None and state != current:
                _check_transition(job_id, current, state)
                assignments["state"] = state
                if state == "submitting":
                    assignments.setdefault("submitted_at", at)
                if state in TERMINAL_STATES:
                    assignments.setdefault("finished_at", at)
            assignments["updated_at"] = at
            columns = ", ".join(f"{name} = ?" for name in assignments)
            conn.execute(f"UPDATE jobs SET {columns} WHERE id = ?", (*assignments.values(), job_id))
            if (state is not None and state != current) or message:
                conn.execute(
                    "INSERT INTO job_events (job_id, at, state, message) VALUES (?,?,?,?)",
                    (
                        job_id,
                        at,
                        state or current,
                        self._redact(message) if message else None,
                    ),
                )
            new = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return JobRow(new)

    def job(self, job_id: int) -> JobRow:
        row = self._connect().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise LedgerError(f"no job {job_id} in the ledger {self.path}")
        return JobRow(row)

    def jobs(
        self,
        *,
        state: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        since: str | None = None,
        endpoint: str | None = None,
    ) -> list[JobRow]:
        """Jobs, optionally in one ``state``, created at or after ``since`` (an ISO time in
        UTC, as stored) and with ``endpoint`` in their endpoint id."""
        sql = "SELECT * FROM jobs"
        where: list[str] = []
        params: list[Any] = []
        if state is not None:
            _check_state(state)
            where.append("state = ?")
            params.append(state)
        if since is not None:
            where.append("created_at >= ?")
            params.append(since)
        if endpoint:
            where.append("instr(endpoint, ?) > 0")
            params.append(endpoint)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [JobRow(r) for r in self._connect().execute(sql, params).fetchall()]

    def find(self, request_hash: str, *, state: str | None = None) -> list[JobRow]:
        """Jobs with this request hash (optionally in one state), oldest first."""
        sql = "SELECT * FROM jobs WHERE request_hash = ?"
        params: list[Any] = [request_hash]
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        return [JobRow(r) for r in self._connect().execute(sql + " ORDER BY id", params)]

    def events(self, job_id: int) -> list[dict[str, Any]]:
        rows = self._connect().execute(
            "SELECT at, state, message FROM job_events WHERE job_id = ? ORDER BY rowid", (job_id,)
        )
        return [dict(r) for r in rows]

    # ----- uploads -----

    def upload(self, sha256: str, realm: str = "fal") -> UploadRow | None:
        row = (
            self._connect()
            .execute("SELECT * FROM uploads WHERE realm = ? AND sha256 = ?", (realm, sha256))
            .fetchone()
        )
        return UploadRow(row) if row is not None else None

    def add_upload(
        self, sha256: str, url: str, *, size: int, file_name: str | None, realm: str = "fal"
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO uploads (realm, sha256, url, size, file_name, created_at) "
                "VALUES (?,?,?,?,?,?)",
                (realm, sha256, url, size, file_name, now_iso()),
            )

    def uploads(self) -> list[UploadRow]:
        return [UploadRow(r) for r in self._connect().execute("SELECT * FROM uploads")]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _check_state(state: str) -> None:
    if state not in _RANK:
        raise LedgerError(f"unknown job state {state!r}; states are: {', '.join(STATES)}")


def _check_transition(job_id: int, current: str, new: str) -> None:
    _check_state(new)
    if current in TERMINAL_STATES:
        raise LedgerError(f"job {job_id} is already {current}; it cannot become {new}")
    if _RANK[new] < _RANK[current] and not (current == "running" and new == "queued"):
        raise LedgerError(f"job {job_id} cannot go back from {current} to {new}")
