"""KafkaSink with a fake producer: acknowledgement rules, dead-lettering of rejected records, abandoning."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, NotLeaderForPartitionError
from kafka.future import Future
from omniclaude.forwarder.errors import DeliveryAbandoned, DeliveryError
from omniclaude.forwarder.prepare import OutgoingRecord
from omniclaude.forwarder.sink import KafkaSink

from tests.omniclaude.forwarder.helpers import make_settings


class FakeProducer:
    """Resolves each send with the next outcome: None (acknowledged), an exception instance (failed),
    "raise:<exc>" (send() raises it), or "pending" (never resolves)."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes
        self.sent: list[tuple[str, bytes]] = []
        self.closed = False
        self._pending = False

    def send(self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> Future:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, tuple) and outcome[0] == "raise":
            raise outcome[1]
        self.sent.append((topic, value))
        future = Future()
        if outcome == "pending":
            self._pending = True
        elif outcome is None:
            future.success("metadata")
        else:
            future.failure(outcome)
        return future

    def flush(self, timeout: float | None = None) -> None:
        if self._pending:
            raise KafkaTimeoutError("Timeout waiting for future")

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


def records(count: int) -> list[OutgoingRecord]:
    return [
        OutgoingRecord("p.agent-actions", b"k", b'{"n":%d}' % n, [("event_type", b"agent_action")], f"id-{n}")
        for n in range(count)
    ]


def sink_with(tmp_path: Path, *producers: FakeProducer, stop: bool = False) -> tuple[KafkaSink, list[str]]:
    made = list(producers)
    topic_checks: list[str] = []
    sink = KafkaSink(
        make_settings(tmp_path, "k:1", prefix="p"),
        should_stop=lambda: stop,
        producer_factory=lambda settings: made.pop(0),
        topics_factory=lambda settings: topic_checks.append("checked"),
    )
    return sink, topic_checks


def test_acknowledged_batch(tmp_path: Path) -> None:
    producer = FakeProducer([])
    sink, checks = sink_with(tmp_path, producer)
    sink.deliver(records(3))
    sink.deliver(records(2))
    assert len(producer.sent) == 5
    assert checks == ["checked"]  # topics once per sink, producer reused
    sink.close(1)
    assert producer.closed


def test_a_failed_record_fails_the_batch_and_replaces_the_producer(tmp_path: Path) -> None:
    first, second = FakeProducer([None, NotLeaderForPartitionError()]), FakeProducer([])
    sink, checks = sink_with(tmp_path, first, second)
    with pytest.raises(DeliveryError, match="NotLeaderForPartition"):
        sink.deliver(records(3))
    assert first.closed
    sink.deliver(records(3))
    assert len(second.sent) == 3
    assert checks == ["checked", "checked"]


def test_send_timing_out_on_metadata_is_a_delivery_error(tmp_path: Path) -> None:
    producer = FakeProducer([("raise", KafkaTimeoutError("Failed to update metadata after 5.0 secs."))])
    sink, _ = sink_with(tmp_path, producer)
    with pytest.raises(DeliveryError, match="Failed to update metadata"):
        sink.deliver(records(2))


def test_a_record_rejected_for_good_is_replaced_by_a_dead_letter(tmp_path: Path) -> None:
    producer = FakeProducer([None, ("raise", MessageSizeTooLargeError("too big")), MessageSizeTooLargeError("big")])
    sink, _ = sink_with(tmp_path, producer)
    sink.deliver(records(3))
    topics = [topic for topic, _value in producer.sent]
    assert topics == ["p.agent-actions", "p.agent-actions", "p.dead-letter", "p.dead-letter"]
    assert b"id-1" in producer.sent[2][1] and b"id-2" in producer.sent[3][1]


def test_stop_while_waiting_abandons_the_batch(tmp_path: Path) -> None:
    producer = FakeProducer(["pending"])
    sink, _ = sink_with(tmp_path, producer, stop=True)
    with pytest.raises(DeliveryAbandoned):
        sink.deliver(records(1))
    assert producer.closed


def test_stop_while_the_topics_are_checked_abandons_the_batch_at_once(tmp_path: Path) -> None:
    stop = threading.Event()
    never = threading.Event()
    sink = KafkaSink(
        make_settings(tmp_path, "k:1", prefix="p"),
        should_stop=stop.is_set,
        producer_factory=lambda settings: FakeProducer([]),
        topics_factory=lambda settings: never.wait(30),  # a broker that accepts and never answers
    )
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(DeliveryAbandoned):
        sink.deliver(records(1))
    assert time.monotonic() - started < 2
    never.set()


def test_a_failing_topic_check_fails_the_batch(tmp_path: Path) -> None:
    def unreachable(settings: object) -> None:
        raise DeliveryError("cannot use Kafka: nothing listens")

    sink = KafkaSink(make_settings(tmp_path, "k:1", prefix="p"), topics_factory=unreachable)
    with pytest.raises(DeliveryError, match="nothing listens"):
        sink.deliver(records(1))


def test_nothing_to_deliver_creates_nothing(tmp_path: Path) -> None:
    sink, checks = sink_with(tmp_path)
    sink.deliver([])
    sink.close(1)
    assert checks == []
