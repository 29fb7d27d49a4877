"""Helpers for the forwarder tests: settings, spool writers, an in-memory sink, a fake clock, a reader."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from omniclaude import envelope
from omniclaude.config import Settings
from omniclaude.forwarder.errors import DeliveryError
from omniclaude.forwarder.prepare import OutgoingRecord
from omniclaude.spool import Spool


def make_settings(home: Path, bootstrap: str | None = None, prefix: str | None = None, **values: Any) -> Settings:
    """Settings rooted at `home` (as OMNICLAUDE_HOME), nothing read from the process environment."""
    environ = {"OMNICLAUDE_HOME": str(home), "HOME": str(home)}
    return Settings(
        environ,
        home=str(home),
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=prefix or f"t{uuid.uuid4().hex[:12]}",
        **values,
    )


def new_event(
    event_type: str = "agent_action", session: str | None = "s1", payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An envelope as the logger writes it."""
    context: dict[str, object] = {
        "project_path": "/home/dev/demo",
        "project_name": "demo",
        "working_directory": "/home/dev/demo",
        "claude_session_id": session,
        "terminal_id": None,
        "host": "box",
        "user": "dev",
        "pid": 42,
    }
    body = (
        payload
        if payload is not None
        else {
            "agent": "tester",
            "action_type": "tool_call",
            "action_name": "Read",
            "details": {"path": "README.md"},
            "duration_ms": 3,
            "success": True,
            "correlation_id": None,
        }
    )
    return envelope.new_envelope(event_type, body, "logger", context)


def write_events(
    spool_dir: Path | str, count: int, sessions: int = 4, max_bytes: int = 512 * 1024 * 1024
) -> list[tuple[str, str]]:
    """Appends `count` agent_action events, round-robin over `sessions`; returns (event_id, session) in order."""
    spool = Spool(str(spool_dir), max_bytes)
    written = []
    for index in range(count):
        session = f"session-{index % sessions}"
        event = new_event(session=session)
        event["payload"]["details"] = {"index": index}
        spool.append(envelope.encode(event, 256 * 1024))
        written.append((str(event["event_id"]), session))
    return written


def append_raw(spool_dir: Path | str, data: bytes) -> None:
    """Writes raw bytes to the live segment (one must exist), as a writer killed mid-line leaves them."""
    live = sorted(Path(spool_dir).glob("*.jsonl"))[-1]
    with live.open("ab") as handle:
        handle.write(data)


class MemorySink:
    """A sink that keeps what it is given; `fail_next` makes the next deliveries raise DeliveryError."""

    def __init__(self) -> None:
        self.records: list[OutgoingRecord] = []
        self.batches = 0
        self.fail_next = 0
        self.closed = False

    def deliver(self, records: Sequence[OutgoingRecord]) -> None:
        self.batches += 1
        if self.fail_next:
            self.fail_next -= 1
            raise DeliveryError("broker unreachable (test)")
        self.records.extend(records)

    def close(self, timeout: float) -> None:
        self.closed = True

    @property
    def event_ids(self) -> list[str]:
        return [record.event_id for record in self.records]


class FakeClock:
    """A monotonic clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.001)
        return False


def consume(bootstrap: str, topics: Iterable[str], timeout: float = 60.0) -> list[Any]:
    """Reads every record now in `topics` from the beginning (partition by partition, in offset order)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        api_version=(4, 0),
    )
    try:
        partitions = []
        for topic in topics:
            found = consumer.partitions_for_topic(topic) or set()
            partitions += [TopicPartition(topic, partition) for partition in sorted(found)]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(partition) < ends[partition] for partition in partitions):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topics} within {timeout} s")
            for batch in consumer.poll(timeout_ms=200, max_records=50_000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def event_ids(records: Iterable[Any]) -> list[str]:
    """The event_id of each record's JSON value, in order."""
    return [json.loads(record.value)["event_id"] for record in records]


def wait_until(condition: Any, timeout: float, interval: float = 0.05) -> bool:
    """Polls `condition()` until true or `timeout` seconds; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return bool(value)
        time.sleep(interval)
