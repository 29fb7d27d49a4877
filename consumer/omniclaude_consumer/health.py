"""Health, readiness and metrics: the consumer's state, and a small HTTP server that reports it.

Threads: the poll loop is the only writer of `ConsumerState`; the HTTP server's threads only read it, and
only through `snapshot()`. Writers and `snapshot()` hold the same lock, so every answer is built from one
consistent view. Nothing here touches the Kafka consumer (not thread-safe) or the database connection.

- `GET /health` (liveness): 200 while the poll loop's heartbeat is fresh (it beats on every poll, also
  while it backs off), 503 when it stalled or stopped.
- `GET /ready` (readiness): 200 when partitions are assigned, the last database operation succeeded, the
  consumer is not backing off after a transient failure, and not stopped (by shutdown or the dead-letter
  limit); else 503. Both answer a JSON object with `status` and the reasons.
- `GET /metrics`: Prometheus text format.

Once the loop has stopped, `/health` and `/ready` only ever answer 503: `stopped` is set under the lock
and never cleared.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from omniclaude_consumer.errors import PERMANENT_REASONS
from omniclaude_consumer.message import Partition

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
NAMESPACE = "omniclaude_consumer"


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of the consumer's state at one instant."""

    now: float
    started_at: float
    heartbeat_at: float
    stall_seconds: float
    assigned: frozenset[Partition]
    database_ok: bool
    backing_off: bool
    last_error: str | None
    stopped: bool
    stop_reason: str | None
    limit_exceeded: bool
    consumed: int
    written: dict[str, int]
    unchanged: dict[str, int]
    dead_lettered: dict[str, int]
    retries: int
    batches: int
    latency_buckets: tuple[int, ...]
    latency_sum: float
    lag: dict[Partition, int]
    last_commit_at: float | None

    @property
    def heartbeat_age(self) -> float:
        return max(0.0, self.now - self.heartbeat_at)

    def liveness(self) -> tuple[bool, list[str]]:
        """(alive, reasons it is not)."""
        reasons = []
        if self.stopped:
            reasons.append(f"stopped: {self.stop_reason or 'shutdown'}")
        if self.heartbeat_age > self.stall_seconds:
            reasons.append(f"the poll loop made no progress for {self.heartbeat_age:.0f}s")
        return not reasons, reasons

    def readiness(self) -> tuple[bool, list[str]]:
        """(ready, reasons it is not)."""
        alive, reasons = self.liveness()
        if self.limit_exceeded:
            reasons.append("stopped by the dead-letter limit")
        if not self.assigned:
            reasons.append("no partitions assigned")
        if not self.database_ok:
            reasons.append("the database is not reachable")
        if self.backing_off:
            reasons.append(f"backing off after a transient failure: {self.last_error or 'unknown'}")
        return alive and not reasons, reasons


@dataclass
class _Latency:
    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        self.total += seconds
        self.count += 1
        for index, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.buckets[index] += 1


class ConsumerState:
    """The consumer's state, written by the poll loop, read by the health server via `snapshot()`."""

    def __init__(
        self,
        *,
        stall_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._wall = wall
        self._stall_seconds = stall_seconds
        self._started_at = clock()
        self._heartbeat_at = self._started_at
        self._assigned: frozenset[Partition] = frozenset()
        self._database_ok = False
        self._backing_off = False
        self._last_error: str | None = None
        self._stopped = False
        self._stop_reason: str | None = None
        self._limit_exceeded = False
        self._consumed = 0
        self._written: Counter[str] = Counter()
        self._unchanged: Counter[str] = Counter()
        self._dead: Counter[str] = Counter({reason: 0 for reason in PERMANENT_REASONS})
        self._retries = 0
        self._batches = 0
        self._latency = _Latency()
        self._lag: dict[Partition, int] = {}
        self._last_commit_at: float | None = None

    # -- writers (the poll loop) ---------------------------------------------------------------------

    def beat(self) -> None:
        """The poll loop is making progress."""
        with self._lock:
            self._heartbeat_at = self._clock()

    def set_assignment(self, assigned: Iterable[Partition], lag: dict[Partition, int]) -> None:
        with self._lock:
            self._assigned = frozenset(assigned)
            self._lag = {source: value for source, value in lag.items() if source in self._assigned}

    def database(self, ok: bool, error: str | None = None) -> None:
        with self._lock:
            self._database_ok = ok
            if error:
                self._last_error = error

    def recovered(self) -> None:
        """The database answers and no batch waits for a retry."""
        with self._lock:
            self._database_ok = True
            self._backing_off = False

    def backoff(self, error: str) -> None:
        """A transient failure: the batch will be retried after a pause."""
        with self._lock:
            self._backing_off = True
            self._last_error = error
            self._retries += 1

    def batch_done(
        self,
        *,
        consumed: int,
        written: Counter[str],
        unchanged: Counter[str],
        dead: Counter[str],
        seconds: float,
        committed: bool,
    ) -> None:
        """A batch is durable and (if `committed`) its offsets are committed."""
        with self._lock:
            self._backing_off = False
            self._database_ok = True
            self._consumed += consumed
            self._written.update(written)
            self._unchanged.update(unchanged)
            self._dead.update(dead)
            self._batches += 1
            self._latency.observe(seconds)
            if committed:
                self._last_commit_at = self._wall()

    def stop(self, reason: str, *, limit_exceeded: bool = False) -> None:
        """The loop stopped (or is stopping): from now on /health and /ready answer 503."""
        with self._lock:
            if not self._stopped:
                self._stopped = True
                self._stop_reason = reason
            self._limit_exceeded = self._limit_exceeded or limit_exceeded

    # -- the reader ----------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                now=self._clock(),
                started_at=self._started_at,
                heartbeat_at=self._heartbeat_at,
                stall_seconds=self._stall_seconds,
                assigned=self._assigned,
                database_ok=self._database_ok,
                backing_off=self._backing_off,
                last_error=self._last_error,
                stopped=self._stopped,
                stop_reason=self._stop_reason,
                limit_exceeded=self._limit_exceeded,
                consumed=self._consumed,
                written=dict(self._written),
                unchanged=dict(self._unchanged),
                dead_lettered=dict(self._dead),
                retries=self._retries,
                batches=self._batches,
                latency_buckets=tuple(self._latency.buckets),
                latency_sum=self._latency.total,
                lag=dict(self._lag),
                last_commit_at=self._last_commit_at,
            )


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_metrics(snap: Snapshot, tables: Iterable[str] = ()) -> str:
    """The snapshot in the Prometheus text exposition format (version 0.0.4)."""
    n = NAMESPACE
    lines: list[str] = []

    def metric(name: str, kind: str, doc: str, samples: Iterable[tuple[str, float]]) -> None:
        lines.append(f"# HELP {n}_{name} {doc}")
        lines.append(f"# TYPE {n}_{name} {kind}")
        for labels, value in samples:
            lines.append(f"{n}_{name}{labels} {value:.17g}")

    alive, _ = snap.liveness()
    ready, _ = snap.readiness()
    table_names = sorted(set(tables) | set(snap.written) | set(snap.unchanged))
    metric("up", "gauge", "1 while the poll loop is alive.", [("", int(alive))])
    metric("ready", "gauge", "1 while the consumer is ready.", [("", int(ready))])
    metric(
        "messages_consumed_total",
        "counter",
        "Messages handled (written, ignored or dead-lettered).",
        [("", snap.consumed)],
    )
    metric(
        "rows_inserted_total",
        "counter",
        "Rows inserted (executions: inserted or changed), by table.",
        [(f'{{table="{_label(t)}"}}', snap.written.get(t, 0)) for t in table_names],
    )
    metric(
        "rows_duplicate_total",
        "counter",
        "Re-delivered events ignored (no change), by table.",
        [(f'{{table="{_label(t)}"}}', snap.unchanged.get(t, 0)) for t in table_names],
    )
    metric(
        "dead_lettered_total",
        "counter",
        "Messages sent to the dead-letter topic, by reason.",
        [(f'{{reason="{_label(r)}"}}', v) for r, v in sorted(snap.dead_lettered.items())],
    )
    metric("retries_total", "counter", "Batches retried after a transient failure.", [("", snap.retries)])
    metric("backing_off", "gauge", "1 while backing off after a transient failure.", [("", int(snap.backing_off))])
    lines.append(f"# HELP {n}_batch_seconds Time from poll to offset commit of a batch.")
    lines.append(f"# TYPE {n}_batch_seconds histogram")
    for bound, count in zip(LATENCY_BUCKETS, snap.latency_buckets, strict=True):
        lines.append(f'{n}_batch_seconds_bucket{{le="{bound:g}"}} {count}')
    lines.append(f'{n}_batch_seconds_bucket{{le="+Inf"}} {snap.batches}')
    lines.append(f"{n}_batch_seconds_sum {snap.latency_sum:.17g}")
    lines.append(f"{n}_batch_seconds_count {snap.batches}")
    metric(
        "lag",
        "gauge",
        "Messages between the committed offset and the high-water mark, by partition.",
        [(f'{{topic="{_label(p.topic)}",partition="{p.partition}"}}', v) for p, v in sorted(snap.lag.items())],
    )
    metric("assigned_partitions", "gauge", "Partitions assigned to this consumer.", [("", len(snap.assigned))])
    if snap.last_commit_at is not None:
        metric(
            "last_commit_timestamp_seconds",
            "gauge",
            "Unix time of the last offset commit.",
            [("", snap.last_commit_at)],
        )
    metric(
        "heartbeat_age_seconds",
        "gauge",
        "Seconds since the poll loop last made progress.",
        [("", round(snap.heartbeat_age, 3))],
    )
    return "\n".join(lines) + "\n"


def health_body(snap: Snapshot, ready: bool) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for /health (ready=False) or /ready (ready=True)."""
    ok, reasons = snap.readiness() if ready else snap.liveness()
    body: dict[str, Any] = {
        "status": "ok" if ok else "unavailable",
        "reasons": reasons,
        "stopped": snap.stopped,
        "heartbeat_age_seconds": round(snap.heartbeat_age, 3),
    }
    if ready:
        body.update(
            assigned_partitions=len(snap.assigned),
            database_ok=snap.database_ok,
            backing_off=snap.backing_off,
            dead_letter_limit_exceeded=snap.limit_exceeded,
        )
    return (200 if ok else 503), body


class _Handler(BaseHTTPRequestHandler):
    server: HealthServer
    timeout = 5.0  # a client that neither asks nor reads cannot hold a thread for long

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        try:
            snap = self.server.state.snapshot()
            if path in ("/health", "/healthz", "/live"):
                status, body = health_body(snap, ready=False)
                self._send(status, "application/json", json.dumps(body).encode())
            elif path in ("/ready", "/readyz"):
                status, body = health_body(snap, ready=True)
                self._send(status, "application/json", json.dumps(body).encode())
            elif path == "/metrics":
                text = render_metrics(snap, self.server.tables)
                self._send(200, "text/plain; version=0.0.4; charset=utf-8", text.encode())
            else:
                self._send(404, "application/json", b'{"status": "not found"}')
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:  # pragma: no cover - never let a request kill the server thread
            log.exception("health request %s failed", path)
            try:
                self._send(503, "application/json", b'{"status": "unavailable", "reasons": ["internal error"]}')
            except OSError:
                pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        """The whole answer in one write: status line, headers and body."""
        self.log_request(status)
        head = (
            f"HTTP/1.0 {status} {self.responses[status][0]}\r\n"
            f"Server: omniclaude-consumer\r\nDate: {self.date_time_string()}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        )
        self.wfile.write(head.encode("latin-1") + body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("health: " + format, *args)


class HealthServer(ThreadingHTTPServer):
    """The threaded HTTP server for /health, /ready and /metrics; `start()` serves in a background thread.

    `stop()` stops accepting, then waits (up to `drain_seconds`) for the requests being answered, so the
    process does not exit in the middle of an answer.
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, state: ConsumerState, host: str = "127.0.0.1", port: int = 0, tables: Iterable[str] = ()
    ) -> None:
        self.state = state
        self.tables = tuple(tables)
        self._thread: threading.Thread | None = None
        self._active = 0
        self._idle = threading.Condition()
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, name="omniclaude-consumer-health", daemon=True
        )
        self._thread.start()

    def stop(self, drain_seconds: float = 2.0) -> None:
        """Stops serving: answers the connections already waiting (for up to `drain_seconds`), closes the
        socket, and waits for the answers under way. Idempotent.

        Draining the accept queue means a request sent before the stop gets its (503) answer instead of
        a reset; a connection attempted after it is refused.
        """
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
            deadline = time.monotonic() + drain_seconds
            self.socket.setblocking(False)
            while time.monotonic() < deadline:
                try:
                    request, client_address = self.socket.accept()
                except OSError:  # BlockingIOError: nobody waiting any more
                    break
                request.setblocking(True)
                self.process_request(request, client_address)
        self.server_close()
        with self._idle:
            self._idle.wait_for(lambda: self._active == 0, timeout=drain_seconds)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._idle:
            self._active += 1
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("health server: error handling a request from %s", client_address, exc_info=True)
