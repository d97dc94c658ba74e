"""The sandbox server: fal's queue, run and storage protocols on 127.0.0.1.

The real, unpatched fal-client reaches it through ``HTTPS_PROXY``: the server answers
``CONNECT host:443`` for fal's hostnames only and speaks TLS inside the tunnel with a leaf
certificate signed by a throw-away CA (made with trustme when the sandbox starts). Plain HTTP with
a service prefix (``/queue``, ``/run``, ``/rest``, ``/cdn``) also works, for curl and for clients
whose URLs can be patched.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import json
import re
import shutil
import socket
import socketserver
import ssl
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from .env import PROXY_BYPASS_VARS, SANDBOX_KEY, patched_environ
from .faults import JOB_ACTIONS, Fault, FaultScript
from .ledger import TERMINAL, Job, Stats, Upload, WireRequest
from .mp4 import make_mp4, video_size

__all__ = [
    "FAL_HOSTS",
    "ProblemLike",
    "Sandbox",
    "SandboxError",
    "Validator",
    "accept_all",
    "catalog_validator",
]

FAL_HOSTS: dict[str, str] = {
    "queue.fal.run": "queue",
    "queue.falrun.com": "queue",
    "fal.run": "run",
    "falrun.com": "run",
    "rest.fal.ai": "rest",
    "v3.fal.media": "cdn",
    "v3b.fal.media": "cdn",
}
"""Hostnames the sandbox answers CONNECT for (and has in its certificate), and their service.
``*.falrun.com`` are fal-client 1.0.3's backup domains."""

_CANONICAL = {
    "queue": "queue.fal.run",
    "run": "fal.run",
    "rest": "rest.fal.ai",
    "cdn": "v3.fal.media",
}
_CDN_TOKEN_EXPIRY = "2099-01-01T00:00:00+00:00"
_LOC_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


class SandboxError(RuntimeError):
    """The sandbox cannot start or was used wrongly (not a fal error seen by clients)."""


class ProblemLike(Protocol):
    """What a validator reports: ``kling_prompt.errors.Problem`` fits."""

    @property
    def loc(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def type(self) -> str: ...


Validator = Callable[[str, Mapping[str, Any]], Sequence[ProblemLike]]
"""``validator(endpoint_id, arguments)`` returns problems; raises LookupError for unknown ids."""


def accept_all(endpoint_id: str, arguments: Mapping[str, Any]) -> Sequence[ProblemLike]:
    """A validator that knows every endpoint id and accepts every payload."""
    return []


def catalog_validator(endpoint_id: str, arguments: Mapping[str, Any]) -> Sequence[ProblemLike]:
    """Validate like fal does, from kling_prompt's catalog (imported on first use)."""
    catalog: Any = importlib.import_module("kling_prompt.catalog")
    catalog.get(endpoint_id)  # CatalogError (a LookupError) for unknown ids
    return list(catalog.check(endpoint_id, dict(arguments)))


def _catalog_default(endpoint_id: str, name: str) -> Any:
    """The catalog's default for one input field, or None when unknown (never raises)."""
    try:
        catalog: Any = importlib.import_module("kling_prompt.catalog")
        info: Any = catalog.get(endpoint_id)
        fields: Any = getattr(info, "fields", None) or {}
        spec: Any = fields.get(name) if isinstance(fields, Mapping) else None
        if spec is None:
            return None
        if isinstance(spec, Mapping):
            return spec.get("default")
        return getattr(spec, "default", None)
    except Exception:
        return None


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(str(value).strip().rstrip("s"))
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def loc_parts(loc: str) -> list[str | int]:
    """``"multi_prompt[1].duration"`` becomes ``["body", "multi_prompt", 1, "duration"]``."""
    parts: list[str | int] = ["body"]
    for m in _LOC_PART.finditer(loc):
        parts.append(int(m[1]) if m[1] is not None else m[2])
    return parts


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> _Reply:
        return cls(status, json.dumps(obj).encode(), headers=dict(headers or {}))


class _Drop(Exception):
    """Raised inside a handler to close the connection without a reply."""


class _SocketWriter(io.BufferedIOBase):
    """A write-only file over a socket that always sends everything (TLS sockets included)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self._sock.sendall(b)
        with memoryview(b) as view:
            return view.nbytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sandbox: Sandbox, address: tuple[str, int]) -> None:
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that hang up mid-request are part of the tests, not sandbox errors."""

    def server_bind(self) -> None:
        """Skip HTTPServer's reverse DNS lookup of the bind address."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fal-sandbox/1"
    server: _Server
    tunnel_host: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the sandbox keeps its own ledger and must never echo keys."""

    def setup(self) -> None:
        super().setup()
        with self.server.conn_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.conn_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            self.connection.close()

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0].lower()
        sb = self.server.sandbox
        if host not in FAL_HOSTS or sb._ssl is None:
            sb._record(self.command, host, self.path, "", "connect", {}, b"", 403, None)
            self.send_response(403, "Forbidden host")
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.close_connection = True
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        with self.server.conn_lock:
            self.server.connections.discard(self.connection)
        try:
            tls = sb._ssl.wrap_socket(self.connection, server_side=True)
        except (OSError, ssl.SSLError):
            self.close_connection = True
            return
        self.connection = tls
        with self.server.conn_lock:
            self.server.connections.add(tls)
        self.rfile = tls.makefile("rb", -1)
        self.wfile = _SocketWriter(tls)
        self.tunnel_host = host
        self.close_connection = False

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _serve(self) -> None:
        body = self._read_body()
        try:
            reply = self.server.sandbox._handle(self, body)
        except _Drop:
            self._drop()
            return
        except Exception as exc:  # a bug or a broken validator: answer like fal's own 500
            detail = f"Sandbox internal error: {type(exc).__name__}: {exc}"
            reply = _Reply.json(500, {"detail": detail, "error_type": "internal_error"})
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(OSError):
            if self.command != "HEAD":
                self.wfile.write(reply.body)
            self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class Sandbox:
    """A local fal.ai look-alike for tests and dry runs; see the package docstring.

    ``latency`` is the time from submit to COMPLETED (a quarter in the queue, the rest in
    progress); ``latencies`` overrides it per endpoint id. ``validator`` checks payloads (default:
    the kling_prompt catalog; :func:`accept_all` checks nothing). ``clock`` drives job progress,
    so tests can step time by hand. Everything listens on and talks to 127.0.0.1 only.
    """

    UNSET_VARS: tuple[str, ...] = PROXY_BYPASS_VARS

    def __init__(
        self,
        *,
        latency: float = 0.2,
        latencies: Mapping[str, float] | None = None,
        validator: Validator | None = None,
        key: str = SANDBOX_KEY,
        rejected_keys: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
        queue_share: float = 0.25,
        port: int = 0,
    ) -> None:
        if latency < 0 or not 0 <= queue_share <= 1:
            raise ValueError("latency must be >= 0 and queue_share within [0, 1]")
        self.latency = latency
        self.latencies: dict[str, float] = dict(latencies or {})
        self.validator: Validator = validator or catalog_validator
        self.key = key
        self.clock = clock
        self.queue_share = queue_share
        self.script = FaultScript()
        for k in rejected_keys:
            self.script.reject_key(k)
        self._port = port
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._uploads: dict[str, Upload] = {}
        self._files: dict[str, bytes] = {}
        self._pending_puts: dict[str, tuple[str, str, str]] = {}
        self._requests: list[WireRequest] = []
        self._rejected: Counter[int] = Counter()
        self._cdn_tokens: set[str] = set()
        self._seq = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ssl: ssl.SSLContext | None = None
        self._tmpdir: str | None = None
        self._stop = threading.Event()
        self.ca_path: str | None = None

    # ----- lifecycle -----

    def start(self) -> dict[str, str]:
        """Make the CA, bind 127.0.0.1 and serve in a thread; return the env vars to set."""
        if self._server is not None:
            raise SandboxError("sandbox already started")
        try:
            import trustme
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise SandboxError(
                "the sandbox needs trustme: pip install 'kling-prompt[sandbox]'"
            ) from exc
        ca = trustme.CA(organization_name="kling_prompt sandbox")
        leaf = ca.issue_cert(*FAL_HOSTS, "127.0.0.1", "localhost")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        leaf.configure_cert(ctx)
        self._tmpdir = tempfile.mkdtemp(prefix="kling-sandbox-")
        ca_file = Path(self._tmpdir) / "sandbox-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        self.ca_path = str(ca_file)
        self._ssl = ctx
        self._stop.clear()
        self._server = _Server(self, ("127.0.0.1", self._port))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kling-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self.env()

    def stop(self) -> None:
        """Stop serving, cut open connections, delete the CA file. Safe to call twice."""
        self._stop.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            with server.conn_lock:
                conns = list(server.connections)
            for conn in conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self.ca_path = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise SandboxError("sandbox not started")
        return int(self._server.server_address[1])

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Variables that point fal-client here; also unset :attr:`UNSET_VARS`."""
        if self.ca_path is None:
            raise SandboxError("sandbox not started")
        return {"HTTPS_PROXY": self.proxy_url, "SSL_CERT_FILE": self.ca_path, "FAL_KEY": self.key}

    def environment(self) -> contextlib.AbstractContextManager[None]:
        """Context manager: apply :meth:`env` to ``os.environ`` and restore it exactly after."""
        return patched_environ(self.env(), self.UNSET_VARS)

    def set_latency(self, seconds: float, endpoint_id: str | None = None) -> None:
        """Change the latency of jobs created from now on (for one endpoint, or the default)."""
        with self._lock:
            if endpoint_id is None:
                self.latency = seconds
            else:
                self.latencies[endpoint_id] = seconds

    # ----- ledger -----

    @property
    def jobs(self) -> list[Job]:
        """Copies of every job, in creation order, with states brought up to date."""
        with self._lock:
            now = self.clock()
            for job in self._jobs.values():
                self._advance(job, now)
            return [copy.deepcopy(j) for j in self._jobs.values()]

    def job(self, request_id: str) -> Job:
        with self._lock:
            self._advance(self._jobs[request_id], self.clock())
            return copy.deepcopy(self._jobs[request_id])

    @property
    def uploads(self) -> list[Upload]:
        with self._lock:
            return list(self._uploads.values())

    def uploaded_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id]

    @property
    def requests(self) -> list[WireRequest]:
        """Every request seen, in order (CONNECTs to foreign hosts included)."""
        with self._lock:
            return list(self._requests)

    def stats(self) -> Stats:
        jobs = self.jobs
        with self._lock:
            routes = Counter(r.route for r in self._requests)
            faults = sum(1 for r in self._requests if r.fault)
            rejected = dict(self._rejected)
            uploads = len(self._uploads)
        return Stats(
            jobs_created=len(jobs),
            by_endpoint=dict(Counter(j.endpoint_id for j in jobs)),
            by_state=dict(Counter(j.state for j in jobs)),
            billed_jobs=sum(1 for j in jobs if j.billed),
            billed_seconds=sum(j.billed_seconds for j in jobs),
            billed_by_job={j.request_id: j.billed_seconds for j in jobs if j.billed},
            uploads=uploads,
            requests_by_route=dict(routes),
            faults_fired=faults,
            rejected=rejected,
        )

    def reset(self) -> None:
        """Forget jobs, uploads, requests and scripted faults (the server keeps running)."""
        with self._lock:
            self._jobs.clear()
            self._uploads.clear()
            self._files.clear()
            self._pending_puts.clear()
            self._requests.clear()
            self._rejected.clear()
            self.script.clear()

    def _record(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        route: str,
        headers: Mapping[str, str],
        body: bytes,
        status: int | None,
        fault: str | None,
    ) -> None:
        redacted = {
            k: (v.split(" ", 1)[0] + " ***" if k.lower() == "authorization" else v)
            for k, v in headers.items()
        }
        with self._lock:
            self._requests.append(
                WireRequest(
                    method, host, path, query, route, redacted, body, status, fault, time.time()
                )
            )

    # ----- job clock -----

    def _advance(self, job: Job, now: float) -> None:
        if job.state in TERMINAL:
            return
        elapsed = now - job.t0
        if elapsed < job.queue_seconds:
            job.state = "IN_QUEUE"
        elif job.never_finish or elapsed < job.queue_seconds + job.run_seconds:
            job.state = "IN_PROGRESS"
        else:
            self._finish(job)

    def _finish(self, job: Job) -> None:
        if job.state in TERMINAL:
            return
        job.completed_at = job.created_at + job.queue_seconds + job.run_seconds
        if job.error is not None:
            job.state = "FAILED"
        else:
            job.state = "COMPLETED"
            job.billed_seconds = job.duration

    def _queue_position(self, job: Job, now: float) -> int:
        ahead = 0
        for other in self._jobs.values():
            if other.seq >= job.seq:
                break
            if other.endpoint_id == job.endpoint_id and other.mode == "queue":
                self._advance(other, now)
                ahead += other.state == "IN_QUEUE"
        return ahead

    def _logs(self, job: Job, now: float) -> list[dict[str, Any]]:
        if job.state == "IN_QUEUE":
            return []
        start = job.t0 + job.queue_seconds
        wall0 = job.created_at - job.t0

        def line(at: float, message: str, level: str = "INFO") -> dict[str, Any]:
            return {
                "message": message,
                "level": level,
                "source": "user",
                "timestamp": _iso(wall0 + at),
            }

        horizon = now
        if job.state in ("COMPLETED", "FAILED"):
            horizon = start + job.run_seconds
        elif job.state == "CANCELLED" and job.cancelled_clock is not None:
            horizon = job.cancelled_clock
        logs = [line(start, f"Starting generation on {job.endpoint_id}")]
        for frac in (0.25, 0.5, 0.75):
            at = start + frac * job.run_seconds
            if at <= horizon:
                logs.append(line(at, f"Generating video: {int(frac * 100)}%"))
        end = start + job.run_seconds
        if job.state == "COMPLETED":
            w, h = video_size(job.aspect_ratio)
            logs.append(line(end, f"Video ready: {job.duration:g}s, {w}x{h}"))
        elif job.state == "FAILED":
            logs.append(line(end, f"Error: {job.error}", "ERROR"))
        elif job.state == "CANCELLED":
            logs.append(line(horizon, "Request cancelled", "WARNING"))
        return logs

    # ----- request handling -----

    def _handle(self, h: _Handler, body: bytes) -> _Reply:
        split = urlsplit(h.path)
        host_header = (h.headers.get("Host") or "").lower().split(":")[0]
        hostname = h.tunnel_host or host_header
        service = FAL_HOSTS.get(hostname) if h.tunnel_host else None
        segs = [s for s in split.path.split("/") if s]
        if h.tunnel_host:
            bases = {s: f"https://{host}" for s, host in _CANONICAL.items()}
            hostname = host_header or hostname
            service = FAL_HOSTS.get(hostname, service)
        else:
            bases = {s: f"http://127.0.0.1:{self.port}/{s}" for s in _CANONICAL}
            if segs and segs[0] in _CANONICAL:
                service, segs = segs[0], segs[1:]
        route, endpoint, job = self._classify(h.command, service, segs)
        headers = dict(h.headers.items())
        fault = self.script.take(route, endpoint)
        status: int | None = None
        try:
            if fault is not None and fault.action == "drop":
                raise _Drop
            if fault is not None and fault.action == "reply":
                reply = _Reply(fault.status, fault.body, fault.content_type, dict(fault.headers))
            else:
                if fault is not None and fault.action == "delay":
                    self._stop.wait(fault.seconds)
                reply = self._dispatch(h, route, service, segs, split.query, body, bases, job)
                if fault is not None and fault.action == "lose_reply":
                    raise _Drop
            status = reply.status
            return reply
        finally:
            self._record(
                h.command,
                hostname,
                split.path,
                split.query,
                route,
                headers,
                body,
                status,
                fault.action if fault else None,
            )

    def _classify(
        self, method: str, service: str | None, segs: list[str]
    ) -> tuple[str, str | None, Job | None]:
        """Name the route (for fault rules and stats) and find the endpoint or job it concerns."""
        if service == "queue":
            marks = [i for i, s in enumerate(segs) if s == "requests" and 2 <= i < len(segs) - 1]
            if marks and method != "POST":
                i = marks[-1]
                rid = segs[i + 1]
                tail = "/".join(segs[i + 2 :])
                with self._lock:
                    job = self._jobs.get(rid)
                endpoint = job.endpoint_id if job else "/".join(segs[:i])
                if method == "PUT" and tail == "cancel":
                    return "cancel", endpoint, job
                if method == "GET" and tail == "status":
                    return "status", endpoint, job
                if method in ("GET", "HEAD") and tail == "":
                    return "result", endpoint, job
                return "other", endpoint, job
            return ("submit" if method == "POST" else "other"), "/".join(segs), None
        if service == "run":
            return ("run" if method == "POST" else "other"), "/".join(segs), None
        path = "/".join(segs)
        if service == "rest":
            if path == "storage/auth/token" and method == "POST":
                return "token", None, None
            if path == "storage/upload/initiate" and method == "POST":
                return "initiate", None, None
        if service == "cdn":
            if method == "POST" and path.startswith("files/upload"):
                return "upload", None, None
            if method == "PUT" and segs[:1] == ["put"]:
                return "put", None, None
            if method in ("GET", "HEAD") and segs[:1] == ["files"]:
                return "download", None, None
        return "other", None, None

    def _auth(self, h: _Handler) -> _Reply | None:
        value = h.headers.get("Authorization") or ""
        scheme, _, key = value.partition(" ")
        if scheme != "Key" or not key.strip():
            return _Reply.json(
                401, {"detail": "Missing or invalid Authorization header: expected 'Key <FAL_KEY>'"}
            )
        status = self.script.rejected_status(key.strip())
        if status == 403:
            return _Reply.json(403, {"detail": "Access denied for this key"})
        if status is not None:
            return _Reply.json(401, {"detail": "No user found for Key ID and Secret"})
        return None

    def _dispatch(
        self,
        h: _Handler,
        route: str,
        service: str | None,
        segs: list[str],
        query: str,
        body: bytes,
        bases: dict[str, str],
        job: Job | None,
    ) -> _Reply:
        if service in ("queue", "run", "rest") and route != "other":
            denied = self._auth(h)
            if denied is not None:
                self._count_rejected(denied.status)
                return denied
        if route == "submit" or route == "run":
            return self._create(h, route, "/".join(segs), query, body, bases)
        if route in ("status", "result", "cancel"):
            if job is None:
                if route == "cancel":
                    return _Reply.json(404, {"status": "NOT_FOUND"})
                return _Reply.json(404, {"detail": "Request not found"})
            return self._job_route(route, job, query, bases)
        if route == "token":
            token = f"sandbox-cdn-{uuid.uuid4().hex}"
            with self._lock:
                self._cdn_tokens.add(token)
            return _Reply.json(
                200,
                {
                    "token": token,
                    "token_type": "Bearer",
                    "base_url": bases["cdn"],
                    "expires_at": _CDN_TOKEN_EXPIRY,
                },
            )
        if route == "initiate":
            return self._initiate(body, bases)
        if route == "upload":
            return self._upload(h, segs, body, bases)
        if route == "put":
            return self._put(h, segs, body)
        if route == "download":
            return self._download(segs)
        return _Reply.json(404, {"detail": f"The sandbox has no route for {h.command} {h.path}"})

    def _count_rejected(self, status: int) -> None:
        with self._lock:
            self._rejected[status] += 1

    # ----- queue and run -----

    def _resolve(
        self, app: str, arguments: Mapping[str, Any]
    ) -> tuple[str, str, Sequence[ProblemLike]]:
        """Split ``app`` into (endpoint id, sub-path) by asking the validator, longest id first."""
        segs = app.split("/")
        for n in range(len(segs), 1, -1):
            candidate = "/".join(segs[:n])
            try:
                problems = self.validator(candidate, arguments)
            except LookupError:
                continue
            return candidate, "/".join(segs[n:]), problems
        raise LookupError(app)

    def _create(
        self, h: _Handler, route: str, app: str, query: str, body: bytes, bases: dict[str, str]
    ) -> _Reply:
        try:
            arguments = json.loads(body or b"{}")
        except ValueError:
            self._count_rejected(422)
            return _Reply.json(
                422,
                {"detail": [{"loc": ["body"], "msg": "Invalid JSON body", "type": "json_invalid"}]},
            )
        if not isinstance(arguments, dict):
            self._count_rejected(422)
            return _Reply.json(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body"],
                            "msg": "Input should be a valid dictionary",
                            "type": "dict_type",
                        }
                    ]
                },
            )
        try:
            endpoint, path, problems = self._resolve(app, arguments)
        except LookupError:
            self._count_rejected(404)
            return _Reply.json(404, {"detail": f"Application '{app}' not found"})
        if problems:
            self._count_rejected(422)
            detail = [{"loc": loc_parts(p.loc), "msg": p.message, "type": p.type} for p in problems]
            return _Reply.json(422, {"detail": detail}, {"X-Fal-Retryable": "false"})
        job = self._new_job(h, route, endpoint, path, arguments, query)
        if route == "run":
            self._stop.wait(job.queue_seconds + job.run_seconds)
            with self._lock:
                self._finish(job)
            if job.state == "FAILED":
                return self._failure_reply(job)
            return _Reply.json(200, self._output(job, bases), {"x-fal-request-id": job.request_id})
        urls = self._urls(job, bases)
        with self._lock:
            position = self._queue_position(job, self.clock())
        return _Reply.json(
            200,
            {
                "status": "IN_QUEUE",
                "request_id": job.request_id,
                **urls,
                "queue_position": position,
            },
        )

    def _new_job(
        self,
        h: _Handler,
        route: str,
        endpoint: str,
        path: str,
        arguments: dict[str, Any],
        query: str,
    ) -> Job:
        duration = _seconds(arguments.get("duration"))
        if duration is None:
            duration = _seconds(_catalog_default(endpoint, "duration")) or 5.0
        aspect = str(
            arguments.get("aspect_ratio") or _catalog_default(endpoint, "aspect_ratio") or "16:9"
        )
        rule: Fault | None = self.script.take(route, endpoint, JOB_ACTIONS)
        with self._lock:
            latency = self.latencies.get(endpoint, self.latency)
            self._seq += 1
            job = Job(
                request_id=str(uuid.uuid4()),
                endpoint_id=endpoint,
                path=path,
                arguments=arguments,
                mode="run" if route == "run" else "queue",
                created_at=time.time(),
                duration=duration,
                aspect_ratio=aspect,
                headers={k: v for k, v in h.headers.items() if k.lower().startswith("x-fal-")},
                webhook_url=next(iter(parse_qs(query).get("fal_webhook", [])), None),
                seq=self._seq,
                t0=self.clock(),
                queue_seconds=latency * self.queue_share,
                run_seconds=latency * (1 - self.queue_share),
            )
            if rule is not None and rule.action == "never_finish":
                job.never_finish = True
            elif rule is not None:
                job.error = str(rule.detail)
                job.error_type = rule.error_type
                job.error_status = rule.status
            self._jobs[job.request_id] = job
        return job

    def _urls(self, job: Job, bases: dict[str, str]) -> dict[str, str]:
        app = "/".join(job.endpoint_id.split("/")[:2])
        root = f"{bases['queue']}/{app}/requests/{job.request_id}"
        return {
            "response_url": root,
            "status_url": f"{root}/status",
            "cancel_url": f"{root}/cancel",
        }

    def _output(self, job: Job, bases: dict[str, str]) -> dict[str, Any]:
        data = make_mp4(job.duration, job.aspect_ratio)
        return {
            "video": {
                "url": f"{bases['cdn']}/files/sandbox/{job.request_id}/output.mp4",
                "content_type": "video/mp4",
                "file_name": "output.mp4",
                "file_size": len(data),
            }
        }

    def _failure_reply(self, job: Job) -> _Reply:
        error_type = job.error_type or "internal_error"
        return _Reply.json(
            job.error_status or 500,
            {"detail": job.error, "error_type": error_type},
            {"X-Fal-Error-Type": error_type, "x-fal-request-id": job.request_id},
        )

    def _job_route(self, route: str, job: Job, query: str, bases: dict[str, str]) -> _Reply:
        with self._lock:
            now = self.clock()
            self._advance(job, now)
            if route == "cancel":
                if job.state in TERMINAL:
                    return _Reply.json(400, {"status": "ALREADY_COMPLETED"})
                job.state = "CANCELLED"
                job.error = "Request was cancelled"
                job.error_type = "client_cancelled"
                job.completed_at = time.time()
                job.cancelled_clock = now
                return _Reply.json(202, {"status": "CANCELLATION_REQUESTED"})
            if route == "status":
                flag = (parse_qs(query).get("logs") or ["0"])[0].lower()
                out: dict[str, Any] = {
                    "status": "COMPLETED" if job.state in TERMINAL else job.state
                }
                out.update(request_id=job.request_id, **self._urls(job, bases))
                out["logs"] = self._logs(job, now) if flag in ("1", "true") else None
                if job.state == "IN_QUEUE":
                    out["queue_position"] = self._queue_position(job, now)
                    return _Reply.json(202, out)
                if job.state == "IN_PROGRESS":
                    return _Reply.json(202, out)
                out["metrics"] = {"inference_time": round(job.run_seconds, 3)}
                if job.error is not None:
                    out["error"] = job.error
                    out["error_type"] = job.error_type
                return _Reply.json(200, out)
            if job.state == "COMPLETED":
                return _Reply.json(
                    200, self._output(job, bases), {"x-fal-request-id": job.request_id}
                )
            if job.state == "FAILED":
                return self._failure_reply(job)
            if job.state == "CANCELLED":
                return _Reply.json(
                    499,
                    {"detail": "Request cancelled by client", "error_type": "client_cancelled"},
                    {"X-Fal-Error-Type": "client_cancelled"},
                )
            return _Reply.json(400, {"detail": "Request is still in progress"})

    # ----- storage and CDN -----

    def _store(self, data: bytes, name: str, ctype: str, via: Any, bases: dict[str, str]) -> Upload:
        file_id = uuid.uuid4().hex
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "upload.bin"
        upload = Upload(
            file_id=file_id,
            url=f"{bases['cdn']}/files/{file_id}/{safe}",
            file_name=safe,
            content_type=ctype,
            size=len(data),
            via=via,
            created_at=time.time(),
        )
        with self._lock:
            self._files[file_id] = data
            self._uploads[file_id] = upload
        return upload

    def _upload(self, h: _Handler, segs: list[str], body: bytes, bases: dict[str, str]) -> _Reply:
        scheme, _, token = (h.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            known = token in self._cdn_tokens
        if scheme != "Bearer" or not known:
            self._count_rejected(401)
            return _Reply.json(401, {"detail": "Invalid or missing CDN token"})
        if segs != ["files", "upload"]:
            return _Reply.json(
                404, {"detail": "Multipart uploads are not supported by the sandbox"}
            )
        ctype = h.headers.get("Content-Type") or "application/octet-stream"
        upload = self._store(
            body, h.headers.get("X-Fal-File-Name") or "upload.bin", ctype, "cdn_v3", bases
        )
        return _Reply.json(200, {"access_url": upload.url, "content_type": ctype})

    def _initiate(self, body: bytes, bases: dict[str, str]) -> _Reply:
        try:
            info = json.loads(body or b"{}")
        except ValueError:
            info = {}
        name = str(info.get("file_name") or "upload.bin")
        ctype = str(info.get("content_type") or "application/octet-stream")
        file_id = uuid.uuid4().hex
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
        file_url = f"{bases['cdn']}/files/{file_id}/{safe}"
        with self._lock:
            self._pending_puts[file_id] = (safe, ctype, file_url)
        return _Reply.json(
            200, {"upload_url": f"{bases['cdn']}/put/{file_id}/{safe}", "file_url": file_url}
        )

    def _put(self, h: _Handler, segs: list[str], body: bytes) -> _Reply:
        file_id = segs[1] if len(segs) > 1 else ""
        with self._lock:
            pending = self._pending_puts.pop(file_id, None)
        if pending is None:
            return _Reply.json(404, {"detail": "Unknown upload URL"})
        name, ctype, url = pending
        ctype = h.headers.get("Content-Type") or ctype
        upload = Upload(file_id, url, name, ctype, len(body), "storage_initiate", time.time())
        with self._lock:
            self._files[file_id] = body
            self._uploads[file_id] = upload
        return _Reply(200)

    def _download(self, segs: list[str]) -> _Reply:
        if len(segs) >= 3 and segs[1] == "sandbox":
            with self._lock:
                job = self._jobs.get(segs[2])
                if job is not None:
                    self._advance(job, self.clock())
            if job is None or job.state != "COMPLETED":
                return _Reply(404, b"Not Found", "text/plain")
            return _Reply(200, make_mp4(job.duration, job.aspect_ratio), "video/mp4")
        file_id = segs[1] if len(segs) > 1 else ""
        with self._lock:
            data = self._files.get(file_id)
            upload = self._uploads.get(file_id)
        if data is None or upload is None:
            return _Reply(404, b"Not Found", "text/plain")
        return _Reply(200, data, upload.content_type)
