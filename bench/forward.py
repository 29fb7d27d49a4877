"""Forwarder benchmark: drain rate against a bare producer, and hook-to-Kafka latency with a warm forwarder.

Usage: python bench/forward.py [--events N] [--rate R] [--seconds S] [--runs K]

Needs a Kafka broker: OMNICLAUDE_TEST_KAFKA=host:port, else one is started with the test harness
(tests/harness/kafka.py: Java 17+; the jars come from Maven Central on first use).

1. Drain rate: N events (default 100,000) are written to a fresh spool with the logger: `claude_hook`
   events built from the recorded Claude Code session (tests/fixtures), spread over eight sessions, each
   with its own ids and its own tool input and output text (no two events carry the same content). The
   forwarder's loop (`Forwarder.run(until_empty)`, in this process) drains them into the broker; the
   rate is events per second of that run. Baseline: a bare kafka-python
   producer with the same settings sends the same spool lines (no parsing, redaction or cursor), flushed
   every 5,000 records like the forwarder's batches, after it has connected and sent one record; the
   forwarder's time includes its own start (checking the topics, connecting, starting its worker), and
   kafka-python is imported before either is timed. The ratio is forwarder rate / baseline rate. As
   diagnostics, the same spool is written again and drained with redaction replaced by a no-op (which
   also prepares in this process), and once more with `forwarder_workers=0` (everything prepared in
   this process: what the worker process adds); and the CPU time an event costs the forwarder's process
   (all its threads: the drain loop, kafka-python's sender, the worker pool's), its worker, and the bare
   producer's process.
2. Latency: a forwarder runs as its own process (`python -m omniclaude forward --follow`, warm), while
   this process writes R events a second (default 50) for S seconds (default 20) through the logger; a
   KafkaConsumer reads them and compares each event's occurred_at with its arrival time.

Each measurement is repeated K times (default 3); the report gives every run and the median.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from summary import summary_line  # bench/ is on sys.path when a benchmark runs

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lib"), str(ROOT)]

from omniclaude.config import Settings  # noqa: E402
from omniclaude.forwarder.producer import create_producer  # noqa: E402
from omniclaude.forwarder.run import Forwarder, RunOptions  # noqa: E402
from omniclaude.hook import build_payload  # noqa: E402
from omniclaude.logger import EventLogger  # noqa: E402
from omniclaude.spool import list_segments  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "claude-code-2.1.328-session.jsonl"
SESSIONS = 8


def fixture_inputs() -> list[tuple[dict[str, Any], dict[str, str]]]:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["stdin"], row["env"]) for row in rows]


UNIQUE_FIELDS = ("tool_input", "tool_response", "tool_calls", "prompt", "last_assistant_message", "error")


def unique(value: Any, tag: str) -> Any:
    """`value` with `tag` appended to every string in it: tool inputs and outputs differ between real events."""
    if isinstance(value, str):
        return f"{value} {tag}"
    if isinstance(value, dict):
        return {key: unique(item, tag) for key, item in value.items()}
    if isinstance(value, list):
        return [unique(item, tag) for item in value]
    return value


def hook_input_for(index: int, stdin: dict[str, Any], sessions: list[str]) -> dict[str, Any]:
    """The recorded hook input, in one of the sessions, with its own ids and its own tool content."""
    hook_input = {**stdin, "session_id": sessions[index % len(sessions)]}
    for key in ("tool_use_id", "prompt_id"):
        if key in hook_input:
            hook_input[key] = f"{key}-{index:09d}"
    for key in UNIQUE_FIELDS:
        if key in hook_input:
            hook_input[key] = unique(hook_input[key], f"#{index}")
    return hook_input


def write_events(settings: Settings, count: int, inputs: list[tuple[dict[str, Any], dict[str, str]]]) -> None:
    logger = EventLogger(settings)
    sessions = [str(uuid.uuid4()) for _ in range(SESSIONS)]
    for index in range(count):
        hook_input = hook_input_for(index, inputs[index % len(inputs)][0], sessions)
        payload = build_payload(hook_input, None, None, None)
        logger.log_event("claude_hook", payload, source="hook", hook_input=hook_input)


def settings_for(home: str, bootstrap: str | None, prefix: str) -> Settings:
    environ = {"OMNICLAUDE_HOME": home, "HOME": home}
    return Settings(environ, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix, home=home)


def drain_rate(bootstrap: str, events: int, inputs: list[tuple[dict[str, Any], dict[str, str]]]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="omniclaude-bench-") as home:
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        write_events(settings_for(home, None, prefix), events, inputs)
        settings = settings_for(home, bootstrap, prefix)
        spool = settings.dirs.spool
        lines = [
            line
            for _seq, path, _sealed in list_segments(spool)
            for line in Path(path).read_bytes().splitlines()
            if line.strip()
        ]
        rate, forwarder_cpu, worker_cpu = forwarder_rate(spool, settings, events)
        baseline, baseline_cpu = bare_producer_rate(settings, lines)
        shutil.rmtree(spool)
        write_events(settings_for(home, None, prefix), events, inputs)
        unredacted = forwarder_rate(spool, settings, events, redactor=Unredacted())[0]
        shutil.rmtree(spool)
        write_events(settings_for(home, None, prefix), events, inputs)
        settings.forwarder_workers = 0
        in_process = forwarder_rate(spool, settings, events)[0]
    return {
        "forwarder_events_per_s": rate,
        "baseline_events_per_s": baseline,
        "ratio": rate / baseline,
        "forwarder_without_redaction_events_per_s": unredacted,
        "forwarder_without_workers_events_per_s": in_process,
        "forwarder_process_cpu_us_per_event": forwarder_cpu,
        "forwarder_worker_cpu_us_per_event": worker_cpu,
        "baseline_process_cpu_us_per_event": baseline_cpu,
    }


class Unredacted:
    """A stand-in redactor that changes nothing: shows what redaction costs (diagnostic only)."""

    def redact(self, value: object) -> object:
        return value


def _cpu_seconds() -> tuple[float, float]:
    """CPU time so far of this process (all its threads) and of its ended children."""
    times = os.times()
    return times.user + times.system, times.children_user + times.children_system


def forwarder_rate(spool: str, settings: Settings, events: int, redactor: Any = None) -> tuple[float, float, float]:
    """Events per second of one drain, and the CPU microseconds an event of this process and of the
    worker (which has ended when the run returns)."""
    forwarder = Forwarder([spool], settings, redactor=redactor)
    own, children = _cpu_seconds()
    started = time.perf_counter()
    result = forwarder.run(RunOptions(until_empty=True, timeout=600))
    elapsed = time.perf_counter() - started
    own_after, children_after = _cpu_seconds()
    if result.delivered != events:
        raise SystemExit(f"forwarder delivered {result.delivered} of {events} ({result.reason}: {result.last_error})")
    return events / elapsed, (own_after - own) / events * 1e6, (children_after - children) / events * 1e6


def bare_producer_rate(settings: Settings, lines: list[bytes]) -> tuple[float, float]:
    """Events per second of the bare producer, and its process's CPU microseconds an event."""
    from kafka import KafkaAdminClient

    topic = f"{settings.topic_prefix}.baseline"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    admin.create_topics({topic: {"num_partitions": settings.topic_partitions, "replication_factor": 1}})
    admin.close()
    producer = create_producer(settings)
    producer.send(topic, b"warm-up").get(timeout=30)
    headers = [("event_type", b"claude_hook"), ("schema_version", b"1")]
    own = _cpu_seconds()[0]
    started = time.perf_counter()
    for start in range(0, len(lines), 5000):
        futures = [
            producer.send(topic, value=line, key=str(index % SESSIONS).encode(), headers=headers)
            for index, line in enumerate(lines[start : start + 5000], start)
        ]
        producer.flush(timeout=60)
        if not all(future.succeeded() for future in futures):
            raise SystemExit("the bare producer lost records")
    elapsed = time.perf_counter() - started
    cpu = (_cpu_seconds()[0] - own) / len(lines) * 1e6
    producer.close(timeout=10)
    return len(lines) / elapsed, cpu


def occurred(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def latency(
    bootstrap: str, rate: float, seconds: float, inputs: list[tuple[dict[str, Any], dict[str, str]]]
) -> dict[str, float]:
    from kafka import KafkaConsumer, TopicPartition

    with tempfile.TemporaryDirectory(prefix="omniclaude-bench-") as home:
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        settings = settings_for(home, bootstrap, prefix)
        env = {
            **os.environ,
            "OMNICLAUDE_HOME": home,
            "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "OMNICLAUDE_TOPIC_PREFIX": prefix,
            "PYTHONPATH": str(ROOT / "lib"),
        }
        os.makedirs(settings.dirs.spool, mode=0o700)
        forwarder = subprocess.Popen(
            [sys.executable, "-m", "omniclaude", "forward", "--spool", settings.dirs.spool, "--follow"],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            write_events(settings_for(home, None, prefix), 1, inputs)  # warm-up: topics created, producer up
            topic = f"{prefix}.claude-hook-events"
            consumer = KafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=10, enable_auto_commit=False)
            deadline = time.monotonic() + 60
            while not consumer.partitions_for_topic(topic):
                if time.monotonic() > deadline:
                    raise SystemExit("the forwarder did not create its topics")
                time.sleep(0.1)
                consumer.topics()
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
            consumer.assign(partitions)
            consumer.seek_to_end()
            for partition in partitions:
                consumer.position(partition)
            delays: list[float] = []
            expected = int(rate * seconds)
            stop = threading.Event()

            def consume() -> None:
                while not stop.is_set() and len(delays) < expected:
                    for records in consumer.poll(timeout_ms=50).values():
                        now = time.time()
                        delays.extend(now - occurred(json.loads(record.value)["occurred_at"]) for record in records)

            reader = threading.Thread(target=consume)
            reader.start()
            logger = EventLogger(settings)
            sessions = [str(uuid.uuid4()) for _ in range(SESSIONS)]
            started = time.monotonic()
            for index in range(expected):
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
                hook_input = hook_input_for(index, inputs[index % len(inputs)][0], sessions)
                logger.log_event(
                    "claude_hook", build_payload(hook_input, None, None, None), source="hook", hook_input=hook_input
                )
            reader.join(timeout=30)
            stop.set()
            reader.join()
            consumer.close()
        finally:
            forwarder.send_signal(signal.SIGTERM)
            forwarder.wait(timeout=30)
    if len(delays) < expected:
        raise SystemExit(f"only {len(delays)} of {expected} events arrived")
    ordered = sorted(delays)
    return {
        "p50_s": statistics.median(ordered),
        "p99_s": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "max_s": ordered[-1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import kafka  # noqa: F401  (imported once, before any timing: the bare producer's runs never pay for it)

    inputs = fixture_inputs()
    broker = None
    bootstrap = os.environ.get("OMNICLAUDE_TEST_KAFKA")
    if not bootstrap:
        from tests.harness.kafka import KafkaBroker

        broker = KafkaBroker()
        broker.start()
        bootstrap = broker.bootstrap
    try:
        drains = []
        latencies = []
        for run in range(1, args.runs + 1):
            drains.append(drain_rate(bootstrap, args.events, inputs))
            print(f"run {run} drain: " + ", ".join(f"{k}={v:,.2f}" for k, v in drains[-1].items()), flush=True)
            latencies.append(latency(bootstrap, args.rate, args.seconds, inputs))
            print(f"run {run} latency: " + ", ".join(f"{k}={v:.3f}" for k, v in latencies[-1].items()), flush=True)
    finally:
        if broker is not None:
            broker.close()
    print(f"median of {args.runs} runs ({args.events:,} events; {args.rate:g} events/s for {args.seconds:g} s):")
    for name in drains[0]:
        print(f"  {name}: {statistics.median(d[name] for d in drains):,.2f}")
    for name in latencies[0]:
        print(f"  latency {name}: {statistics.median(d[name] for d in latencies):.3f}")
    forwarder = statistics.median(d["forwarder_events_per_s"] for d in drains)
    baseline = statistics.median(d["baseline_events_per_s"] for d in drains)
    print(summary_line("forwarder", forwarder, "events/s", baseline, ">=0.75"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
