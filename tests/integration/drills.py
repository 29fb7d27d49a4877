"""Load drills over the real pipeline, shared by the tests (short) and `bench/drills.py` (full length).

Both run real processes against a real broker and database: the forwarder (`python -m omniclaude forward
--follow`) and the consumer (`python -m omniclaude_consumer`). They return what they measured and the
tests check the behaviour (nothing lost, nothing doubled, memory flat); the benchmark prints the figures.

- `sustained_load`: events written through the logger (the hook's own code, in this process, at a steady
  rate) -> spool -> forwarder -> Kafka -> consumer -> PostgreSQL. Hook-to-row latency is the row's
  `received_at` (set by PostgreSQL when the consumer's transaction wrote it) minus the event's `occurred_at`
  (set by the logger), on the same clock. Resident memory of the forwarder and the consumer is sampled at
  25/50/75/100 % of the run.
- `scale_out`: N events preloaded on topics of P partitions; three consumers in one group drain them
  while each is restarted in turn (the first and third by SIGTERM, the second by SIGKILL), each restart
  immediate. Re-balance time is from a restart to every partition being assigned again.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
from omniclaude.config import load_settings
from omniclaude.logger import EventLogger
from omniclaude.topics import event_topics
from omniclaude_consumer.rows import TABLES

from tests.consumer import factory
from tests.consumer.conftest import (
    ConsumerProcess,
    consumer_env,
    event_ids,
    expected_ids,
    http_get,
    settings_for,
)
from tests.harness import free_port

REPO = Path(__file__).resolve().parents[2]


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def assigned_partitions(port: int) -> int:
    """The consumer's assigned partitions from its /metrics (-1 while it does not answer)."""
    try:
        _status, text = http_get(port, "/metrics", timeout=2.0)
    except OSError:
        return -1
    for line in str(text).splitlines():
        if line.startswith("omniclaude_consumer_assigned_partitions "):
            return int(float(line.split()[1]))
    return -1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class SustainedLoadReport:
    """What `sustained_load` measured."""

    written: int
    rows: int
    distinct: int
    missing: int
    latency_p50_s: float
    latency_p99_s: float
    latency_max_s: float
    forwarder_rss_mb: list[float] = field(default_factory=list)
    consumer_rss_mb: list[float] = field(default_factory=list)
    achieved_rate: float = 0.0


def _hook_payload(index: int, session: str) -> tuple[dict[str, Any], dict[str, Any]]:
    hook_input = {
        "session_id": session,
        "hook_event_name": "PostToolUse",
        "cwd": "/work/alpha",
        "tool_name": "Bash",
        "tool_use_id": f"toolu_{index:012d}",
        "tool_input": {"command": f"pytest -q tests/test_{index % 97}.py", "description": "run the tests"},
        "tool_response": {"stdout": "." * 200 + f"\n{index % 50} passed in 0.{index % 9}s", "stderr": ""},
    }
    payload = {
        "hook_event_name": "PostToolUse", "prompt_id": None, "tool_use_id": hook_input["tool_use_id"],
        "tool_name": "Bash", "agent_id": None, "agent_type": None, "success": True, "duration_ms": index % 900,
        "input": hook_input,
    }  # fmt: skip
    return payload, hook_input


def sustained_load(
    bootstrap: str, database_url: str, workdir: Path, *, rate: float, seconds: float
) -> SustainedLoadReport:
    """Runs the pipeline at `rate` events/s for `seconds`; see the module docstring."""
    prefix = "load" + uuid.uuid4().hex[:8]
    home = workdir / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OMNICLAUDE_")},
        "OMNICLAUDE_HOME": str(home),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "OMNICLAUDE_TOPIC_PREFIX": prefix,
        "PYTHONPATH": os.pathsep.join([str(REPO / "lib"), str(REPO / "consumer")]),
    }
    factory.create_topics(bootstrap, prefix, partitions=3)
    writer_settings = load_settings({k: v for k, v in env.items() if k != "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS"})
    logger = EventLogger(writer_settings)  # Kafka unset here: this process only writes, the forwarder below ships
    spool = writer_settings.dirs.spool
    os.makedirs(spool, mode=0o700, exist_ok=True)
    consumer_settings = settings_for(bootstrap, database_url, prefix, consumer_poll_timeout_ms=500)
    health_port = free_port()
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with (logs / "consumer.log").open("ab") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "omniclaude_consumer"],
                env={**consumer_env(replace(consumer_settings, consumer_health_port=health_port), workdir / "chome"),
                     "PYTHONPATH": env["PYTHONPATH"]},
                stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
            ))  # fmt: skip
        with (logs / "forwarder.log").open("ab") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "omniclaude", "forward", "--follow", "--spool", spool],
                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
            ))  # fmt: skip
        consumer, forwarder = processes
        wait_until(lambda: assigned_partitions(health_port) > 0, 90, "the consumer to join its group")
        total = max(1, int(rate * seconds))
        marks = {total * share // 4 for share in (1, 2, 3, 4)}
        forwarder_rss: list[float] = []
        consumer_rss: list[float] = []
        ids: list[str] = []
        sessions = [str(uuid.uuid4()) for _ in range(8)]
        started = time.monotonic()
        for index in range(total):
            due = started + index / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            payload, hook_input = _hook_payload(index, sessions[index % len(sessions)])
            event_id = logger.log_event("claude_hook", payload, source="hook", hook_input=hook_input)
            if event_id is None:
                raise AssertionError(f"the logger could not record event {index}")
            ids.append(event_id)
            if index + 1 in marks:
                forwarder_rss.append(round(rss_mb(forwarder.pid), 1))
                consumer_rss.append(round(rss_mb(consumer.pid), 1))
        achieved = total / (time.monotonic() - started)

        def stored() -> int:
            with psycopg.connect(database_url) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM claude_hook_events WHERE event_id = ANY(%s::uuid[])", (ids,)
                ).fetchone()
            return int(row[0]) if row else 0

        wait_until(lambda: stored() >= total, 120, f"all {total} events to reach PostgreSQL", interval=0.5)
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT event_id::text, EXTRACT(EPOCH FROM received_at - occurred_at)::float8 FROM claude_hook_events"
                " WHERE event_id = ANY(%s::uuid[])", (ids,)
            ).fetchall()  # fmt: skip
        latencies = [float(row[1]) for row in rows]
        found = {row[0] for row in rows}
        return SustainedLoadReport(
            written=total, rows=len(rows), distinct=len(found), missing=len(set(ids) - found),
            latency_p50_s=statistics.median(latencies), latency_p99_s=percentile(latencies, 0.99),
            latency_max_s=max(latencies), forwarder_rss_mb=forwarder_rss, consumer_rss_mb=consumer_rss,
            achieved_rate=achieved,
        )  # fmt: skip
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@dataclass
class ScaleOutReport:
    """What `scale_out` measured."""

    events: int
    expected: dict[str, set[str]]
    stored: dict[str, set[str]]
    rows: int
    drain_seconds: float
    rebalance_seconds: list[float] = field(default_factory=list)


def _row_count(url: str) -> int:
    """Rows in every table the consumer writes (one per execution in the execution log)."""
    total = 0
    with psycopg.connect(url) as conn:
        for table in TABLES:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            total += int(row[0]) if row else 0
    return total


def scale_out(
    bootstrap: str, database_url: str, workdir: Path, *, events: int, consumers: int = 3, partitions: int = 12
) -> ScaleOutReport:
    """Drains `events` with `consumers` consumers on `partitions` partitions, restarting each in turn."""
    prefix = "scale" + uuid.uuid4().hex[:8]
    factory.create_topics(bootstrap, prefix, partitions=partitions)
    records = list(factory.good_stream(events, prefix, seed=67))
    producer = factory.Producer(bootstrap)
    try:
        producer.send(records)
    finally:
        producer.close()
    settings = settings_for(bootstrap, database_url, prefix, consumer_session_timeout_ms=30_000)
    group = f"{prefix}-group"
    total_partitions = partitions * len(event_topics(prefix))
    ports = [free_port() for _ in range(consumers)]
    running = [ConsumerProcess(settings, workdir / f"consumer-{n}.log", workdir / "home") for n in range(consumers)]

    def start(n: int) -> None:
        running[n].start(consumer_health_port=ports[n], consumer_instance_id=f"{prefix}-{n}")

    def everything_assigned() -> bool:
        counts = [assigned_partitions(port) for port in ports]
        return all(count > 0 for count in counts) and sum(counts) == total_partitions

    def drained() -> bool:
        committed, end = factory.committed_and_end(bootstrap, group, event_topics(prefix))
        return all(committed.get(tp, 0) >= offset for tp, offset in end.items())

    rebalances: list[float] = []
    started = time.monotonic()
    try:
        for n in range(consumers):
            start(n)
        wait_until(everything_assigned, 90, "the consumers to share every partition")
        for n in range(consumers):
            if n % 2:
                running[n].kill()
            else:
                running[n].signal(signal.SIGTERM)
                running[n].wait(timeout=20)
            restarted = time.monotonic()
            start(n)
            wait_until(everything_assigned, 90, f"every partition to be assigned after restarting consumer {n}")
            rebalances.append(time.monotonic() - restarted)
        wait_until(drained, 180, "the group to drain the topics", interval=0.5)
        drain_seconds = time.monotonic() - started
        return ScaleOutReport(
            events=len(records), expected=expected_ids(records), stored=event_ids(database_url),
            rows=_row_count(database_url), drain_seconds=drain_seconds, rebalance_seconds=rebalances,
        )  # fmt: skip
    finally:
        threads = [threading.Thread(target=process.kill) for process in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
