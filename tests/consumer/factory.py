"""Test data for the consumer: valid events of every type, poison messages of every kind, Kafka helpers.

Shared by the consumer's tests and `bench/consume.py`.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from omniclaude.envelope import iso_timestamp, uuid7
from omniclaude.topics import dead_letter_topic, event_topics, record_key, topic_for

PLAIN_TYPES = (
    "agent_action",
    "routing_decision",
    "transformation",
    "performance_metric",
    "detection_failure",
    "claude_hook",
    "llm_usage",
)


@dataclass(frozen=True)
class Record:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    reason: str | None = None  # the expected dead-letter reason; None for a good record
    kind: str = "good"
    event_id: str | None = None
    event_type: str | None = None


def context(rng: random.Random, session: str | None = None) -> dict[str, Any]:
    project = rng.choice(["alpha", "beta", "gamma"])
    return {
        "project_path": f"/work/{project}",
        "project_name": project,
        "working_directory": f"/work/{project}/src",
        "claude_session_id": session or str(uuid.UUID(int=rng.getrandbits(128))),
        "terminal_id": "tty:/dev/pts/3",
        "host": "devbox",
        "user": "dev",
        "pid": 4242,
    }


def payload(event_type: str, rng: random.Random, execution_id: str | None = None) -> dict[str, Any]:
    n = rng.randrange(1_000_000)
    if event_type == "agent_action":
        return {
            "agent": f"agent-{n % 7}",
            "action_type": rng.choice(["tool_call", "decision", "error", "success"]),
            "action_name": f"Read#{n}",
            "details": {"file": f"/tmp/f{n}.py", "lines": n % 500, "nested": {"ok": True, "tags": ["a", "b"]}},
            "duration_ms": n % 5000,
            "success": bool(n % 2),
            "correlation_id": f"corr-{n % 100}",
        }
    if event_type == "routing_decision":
        return {
            "selected_agent": f"agent-{n % 7}",
            "confidence": round(rng.random(), 4),
            "strategy": "fuzzy",
            "latency_ms": n % 300,
            "user_request": f"please do task {n} ünïcödé ✓",
            "alternatives": [{"agent": "x", "confidence": 0.1}],
            "reasoning": "best match",
            "context": {"domain": "python"},
            "correlation_id": f"corr-{n % 100}",
        }
    if event_type == "transformation":
        return {
            "from_agent": "router",
            "to_agent": f"agent-{n % 7}",
            "reason": "specialist",
            "confidence": 0.5,
            "duration_ms": n % 100,
            "success": True,
            "correlation_id": f"corr-{n % 100}",
        }
    if event_type == "performance_metric":
        return {
            "query": f"find agent for {n}",
            "duration_ms": (n % 100000) / 7,
            "cache_hit": bool(n % 3),
            "candidates": n % 20,
            "strategy": "trigger",
            "confidence_components": {"trigger": 0.4, "context": 0.3},
        }
    if event_type == "detection_failure":
        return {
            "prompt": f"ambiguous prompt {n}",
            "reason": "nothing matched",
            "status": rng.choice(["no_detection", "low_confidence", "wrong_agent", "timeout", "error"]),
            "candidates_evaluated": n % 10,
            "detected_agent": None,
            "confidence": 0.1,
            "trigger_matches": ["a", "b"],
            "capability_scores": {"x": 0.2},
            "metadata": {"k": n},
        }
    if event_type == "claude_hook":
        return {
            "hook_event_name": rng.choice(["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop"]),
            "prompt_id": f"p{n}",
            "tool_use_id": f"toolu_{n}",
            "tool_name": "Bash",
            "success": None,
            "duration_ms": n % 1000,
            "input": {"session_id": "s", "tool_input": {"command": f"ls -la {n}"}, "cwd": "/work"},
        }
    if event_type == "llm_usage":
        return {
            "model": rng.choice(["claude-opus-5-5", "claude-haiku-5-5"]),
            "message_id": f"msg_{n}",
            "request_id": f"req_{n}",
            "agent_id": None,
            "agent_type": None,
            "input_tokens": n % 900,
            "output_tokens": n % 700,
            "cache_creation_input_tokens": n % 300,
            "cache_read_input_tokens": n,
            "cache_creation_5m_tokens": n % 300,
            "cache_creation_1h_tokens": 0,
            "cost_usd": n / 1e7,
        }
    assert execution_id is not None
    if event_type == "execution_started":
        return {
            "execution_id": execution_id,
            "agent": "agent-1",
            "description": "do it",
            "user_prompt": "go",
            "metadata": {"attempt": 1},
            "correlation_id": execution_id,
        }
    if event_type == "execution_progress":
        return {"execution_id": execution_id, "stage": f"stage-{n % 5}", "percent": n % 101, "metadata": {}}
    if event_type == "execution_completed":
        return {
            "execution_id": execution_id,
            "status": rng.choice(["success", "error", "cancelled"]),
            "quality_score": 0.75,
            "error_message": None,
            "metadata": {"tokens": n},
        }
    raise ValueError(event_type)


def envelope(
    event_type: str, body: dict[str, Any], rng: random.Random, *, when_ns: int | None = None, session: str | None = None
) -> dict[str, Any]:
    now = time.time_ns() if when_ns is None else when_ns
    return {
        "event_id": uuid7(now),
        "schema_version": 1,
        "event_type": event_type,
        "occurred_at": iso_timestamp(now),
        "source": "skill",
        "context": context(rng, session),
        "payload": body,
    }


def encode(env: dict[str, Any]) -> bytes:
    return json.dumps(env, ensure_ascii=False).encode("utf-8")


def record(
    env: dict[str, Any], prefix: str, *, topic: str | None = None, reason: str | None = None, kind: str = "good"
) -> Record:
    key = record_key(env)
    return Record(
        topic=topic or topic_for(env["event_type"], prefix) or "",
        key=key.encode() if key else None,
        value=encode(env),
        headers=(("event_type", str(env["event_type"]).encode()), ("schema_version", b"1")),
        reason=reason,
        kind=kind,
        event_id=env["event_id"],
        event_type=env["event_type"],
    )


def good_event(rng: random.Random, prefix: str, event_type: str | None = None) -> Record:
    kind = event_type or rng.choice(PLAIN_TYPES)
    return record(envelope(kind, payload(kind, rng), rng), prefix)


def execution_events(rng: random.Random, prefix: str, progress: int = 2) -> list[Record]:
    """One execution's lifecycle, in order: started, `progress` progress events, completed."""
    execution_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    base = time.time_ns()
    kinds = ["execution_started", *["execution_progress"] * progress, "execution_completed"]
    return [
        record(envelope(kind, payload(kind, rng, execution_id), rng, when_ns=base + i * 1_000_000), prefix)
        for i, kind in enumerate(kinds)
    ]


def good_stream(count: int, prefix: str, seed: int = 1, execution_share: float = 0.2) -> Iterator[Record]:
    """`count` valid records: plain events and whole execution lifecycles (4 events each)."""
    rng = random.Random(seed)
    made = 0
    while made < count:
        if rng.random() < execution_share and count - made >= 4:
            batch = execution_events(rng, prefix)
        else:
            batch = [good_event(rng, prefix)]
        yield from batch
        made += len(batch)


def poison(prefix: str, rng: random.Random, *, max_bytes: int) -> list[Record]:
    """One poison record of every kind (plus a duplicate, which is not poison), with the expected reason."""
    actions = topic_for("agent_action", prefix) or ""
    routing = topic_for("routing_decision", prefix) or ""
    metrics = topic_for("performance_metric", prefix) or ""
    out: list[Record] = []

    def raw(kind: str, value: bytes | None, reason: str, topic: str = actions) -> None:
        out.append(Record(topic, b"poison-key", value, (("origin", b"test"),), reason, kind))

    def env_of(event_type: str = "agent_action") -> dict[str, Any]:
        return envelope(event_type, payload(event_type, rng), rng)

    raw("not_json", b"{this is not json", "not_json")
    raw("not_utf8", b'{"event_id": "\xff\xfe"}', "not_utf8")
    raw("empty", b"", "empty")
    raw("tombstone", None, "tombstone")
    raw("not_object", b"[1, 2, 3]", "not_object")
    raw("json_string", b'"just a string"', "not_object")
    raw("wrong_shape", json.dumps({"event_type": "agent_action", "hello": "world"}).encode(), "invalid")
    env = env_of()
    env["schema_version"] = 2
    out.append(record(env, prefix, reason="schema_version", kind="schema_version"))
    env = env_of()
    env["event_type"] = "bogus_type"
    out.append(record(env, prefix, topic=actions, reason="unknown_event_type", kind="unknown_event_type"))
    env = env_of("routing_decision")
    env["payload"]["confidence"] = 7
    out.append(record(env, prefix, reason="invalid", kind="confidence_7"))
    env = env_of()
    env["payload"]["action_type"] = "dance"
    out.append(record(env, prefix, reason="invalid", kind="bad_enum"))
    env = env_of()
    env["payload"]["duration_ms"] = 10**12
    out.append(record(env, prefix, reason="invalid", kind="int_too_big"))
    env = env_of()
    env["payload"]["agent"] = "nul\u0000agent"
    out.append(record(env, prefix, reason="db_rejected", kind="nul_text"))
    env = env_of()
    env["payload"]["details"] = {"note": "nul \u0000 in jsonb"}
    out.append(record(env, prefix, reason="db_rejected", kind="nul_jsonb"))
    env = env_of("performance_metric")
    env["payload"]["duration_ms"] = 1e11  # pydantic allows up to 1e12; NUMERIC(12, 3) holds < 1e9
    out.append(record(env, prefix, reason="db_rejected", kind="numeric_overflow", topic=metrics))
    env = env_of()
    env["payload"]["details"] = {"blob": "x" * (max_bytes + 10)}
    out.append(record(env, prefix, reason="too_large", kind="oversize"))
    env = env_of()
    out.append(record(env, prefix, topic=routing, reason="unexpected_topic", kind="unexpected_topic"))
    env = env_of()
    env["occurred_at"] = "2026-01-01T00:00:00"  # no time zone
    out.append(record(env, prefix, reason="invalid", kind="naive_time"))
    return out


# -- Kafka helpers -----------------------------------------------------------------------------------


def create_topics(bootstrap: str, prefix: str, partitions: int = 3) -> None:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="omniclaude-test-admin")
    try:
        names = [*event_topics(prefix), dead_letter_topic(prefix)]
        admin.create_topics(
            {name: {"num_partitions": partitions, "replication_factor": 1} for name in names}, wait_for_metadata=True
        )
    finally:
        admin.close()


@dataclass
class Producer:
    """A kafka-python producer for tests, acks=all."""

    bootstrap: str
    _producer: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        from kafka import KafkaProducer

        self._producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            linger_ms=20,
            batch_size=256 * 1024,
            max_request_size=4 * 1024 * 1024,
        )

    def send(self, records: Iterable[Record]) -> int:
        futures = [self._producer.send(r.topic, key=r.key, value=r.value, headers=list(r.headers)) for r in records]
        self._producer.flush(timeout=120)
        for future in futures:
            future.get(timeout=60)
        return len(futures)

    def close(self) -> None:
        self._producer.close(timeout=10)


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> list[Any]:
    """Every record of `topic` (reads until `expected` records or the timeout)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=2000,
    )
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                out.extend(batch)
    finally:
        consumer.close()
    return out


def committed_and_end(bootstrap: str, group: str, topics: list[str]) -> tuple[dict[Any, int], dict[Any, int]]:
    """(committed offsets of the group, end offsets), per partition of `topics`."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        found = admin.list_group_offsets(group).get(group, {})
        committed = {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}
        partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        end = dict(consumer.end_offsets(partitions))
    finally:
        admin.close()
        consumer.close()
    return committed, end
