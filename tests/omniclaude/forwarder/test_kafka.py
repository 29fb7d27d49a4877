"""The forwarder against the real broker: topics, keys, headers, redaction, and a broker that was down."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from omniclaude import envelope
from omniclaude.forwarder.admin import ensure_topics, wanted_topics
from omniclaude.forwarder.run import Forwarder, RunOptions, RunResult
from omniclaude.forwarder.state import read_state
from omniclaude.spool import Spool

from tests.omniclaude.forwarder.helpers import (
    consume,
    event_ids,
    make_settings,
    new_event,
    wait_until,
    write_events,
)

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def test_events_reach_their_topics_keyed_with_headers(kafka: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, kafka.bootstrap, topic_partitions=2)
    spool = Spool(settings.dirs.spool)
    events = [
        new_event(
            session="s-1",
            payload={
                "agent": "a",
                "action_type": "tool_call",
                "action_name": "Bash",
                "details": {"cmd": f"GH_TOKEN={SECRET} gh pr list"},
            },
        ),
        new_event(
            "routing_decision",
            session="s-1",
            payload={
                "selected_agent": "api",
                "confidence": 0.9,
                "strategy": "t",
                "latency_ms": 4,
                "user_request": "hi",
            },
        ),
        new_event(
            "execution_started", session="s-2", payload={"execution_id": "exec-1", "agent": "api", "metadata": {}}
        ),
        new_event(
            "execution_completed",
            session="s-2",
            payload={"execution_id": "exec-1", "status": "success", "metadata": {}},
        ),
        new_event("not_a_known_type", session=None, payload={"whatever": True}),
    ]
    for event in events:
        spool.append(envelope.encode(event, 256 * 1024))
    result = Forwarder([settings.dirs.spool], settings).run(RunOptions(until_empty=True, timeout=60))
    assert (result.reason, result.delivered) == ("drained", 5)

    records = consume(kafka.bootstrap, wanted_topics(settings.topic_prefix))
    by_id = {json.loads(record.value)["event_id"]: record for record in records}
    assert set(by_id) == {event["event_id"] for event in events}
    prefix = settings.topic_prefix
    expected = [
        (f"{prefix}.agent-actions", b"s-1"),
        (f"{prefix}.routing-decisions", b"s-1"),
        (f"{prefix}.execution-lifecycle", b"exec-1"),
        (f"{prefix}.execution-lifecycle", b"exec-1"),
        (f"{prefix}.dead-letter", None),
    ]
    assert [(by_id[e["event_id"]].topic, by_id[e["event_id"]].key) for e in events] == expected
    first = by_id[events[0]["event_id"]]
    assert dict(first.headers) == {"event_type": b"agent_action", "schema_version": b"1"}
    assert SECRET.encode() not in first.value
    assert dict(by_id[events[4]["event_id"]].headers)["reason"] == b"unknown-event-type"

    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap, api_version=(4, 0))
    try:
        assert all(len(consumer.partitions_for_topic(topic) or ()) == 2 for topic in wanted_topics(prefix))
    finally:
        consumer.close()
    assert ensure_topics(settings) == []  # already there: nothing to create, no error


def test_broker_down_then_up_every_event_arrives_once_in_order(kafka_controllable: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, kafka_controllable.bootstrap)
    kafka_controllable.stop()
    written = write_events(settings.dirs.spool, 10_000, sessions=7, max_bytes=16 * 1024 * 1024)
    forwarder = Forwarder([settings.dirs.spool], settings)
    outcome: list[RunResult] = []
    runner = threading.Thread(
        target=lambda: outcome.append(forwarder.run(RunOptions(until_empty=True, timeout=240, failure_limit=240)))
    )
    runner.start()
    try:
        assert wait_until(lambda: read_state(settings.dirs.spool).get("last_error"), timeout=60), "no error recorded"
        assert forwarder.delivered == 0
    finally:
        kafka_controllable.start()
    runner.join(timeout=240)
    assert not runner.is_alive()
    assert outcome[0].reason == "drained", outcome[0]
    assert outcome[0].delivered == 10_000

    records = consume(kafka_controllable.bootstrap, [f"{settings.topic_prefix}.agent-actions"])
    received = event_ids(records)
    assert len(received) == len(set(received)) == 10_000
    assert set(received) == {event_id for event_id, _ in written}
    per_session: dict[str, list[str]] = defaultdict(list)
    for record in records:
        per_session[record.key.decode()].append(json.loads(record.value)["event_id"])
    expected: dict[str, list[str]] = defaultdict(list)
    for event_id, session in written:
        expected[session].append(event_id)
    assert per_session == expected


def test_a_record_kafka_rejects_for_good_becomes_a_dead_letter(kafka: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, kafka.bootstrap)
    spool = Spool(settings.dirs.spool)
    small = new_event(session="s-1")
    huge = new_event(session="s-1")
    huge["payload"]["details"] = {"blob": "x" * 1_500_000}  # over the 1 MiB request limit
    after = new_event(session="s-1")
    for event in (small, huge, after):
        spool.append(envelope.encode(event, 4 * 1024 * 1024))
    result = Forwarder([settings.dirs.spool], settings).run(RunOptions(until_empty=True, timeout=60))
    assert (result.reason, result.delivered) == ("drained", 3)
    prefix = settings.topic_prefix
    delivered = consume(kafka.bootstrap, [f"{prefix}.agent-actions"])
    assert event_ids(delivered) == [small["event_id"], after["event_id"]]
    [stand_in] = consume(kafka.bootstrap, [f"{prefix}.dead-letter"])
    assert dict(stand_in.headers)["reason"] == b"rejected-by-kafka"
    value = json.loads(stand_in.value)
    assert value["event_id"] == huge["event_id"] and "MessageSizeTooLarge" in value["error"]
    assert len(stand_in.value) < 1000
