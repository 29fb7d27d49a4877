"""The Kafka harness runs a real broker: topics, produce, group consumption with manual commits."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from tests.harness import MissingToolError
from tests.harness.kafka import ExternalKafka, KafkaBroker, find_java

MESSAGES = 1000
FIRST_BATCH = 400


def _create_topic(bootstrap: str, partitions: int) -> str:
    topic = f"harness-smoke-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()
    return topic


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        futures = [producer.send(topic, key=value[-3:], value=value) for value in values]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=10)
    finally:
        producer.close()


def _consumer(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=50,
    )


def _poll_until(consumer: KafkaConsumer, want: int, timeout: float) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            got.extend(record.value for record in records)
    return got


def test_group_resumes_after_commit_without_loss_or_rereads(kafka: KafkaBroker | ExternalKafka) -> None:
    topic = _create_topic(kafka.bootstrap, partitions=3)
    values = [f"message-{i:04d}".encode() for i in range(MESSAGES)]
    _produce(kafka.bootstrap, topic, values)
    group = f"harness-smoke-{uuid.uuid4().hex[:8]}"

    first = _consumer(kafka.bootstrap, topic, group)
    try:
        assert first.partitions_for_topic(topic) == {0, 1, 2}
        consumed = _poll_until(first, FIRST_BATCH, timeout=60)
        assert FIRST_BATCH <= len(consumed) < MESSAGES
        first.commit()
    finally:
        first.close(autocommit=False)

    second = _consumer(kafka.bootstrap, topic, group)
    try:
        rest = _poll_until(second, MESSAGES - len(consumed), timeout=60)
        rest.extend(_poll_until(second, 1, timeout=1))  # anything beyond the expected remainder
        committed = {p: second.committed(TopicPartition(topic, p)) for p in range(3)}
    finally:
        second.close(autocommit=False)

    assert len(set(consumed)) == len(consumed)
    assert len(rest) == MESSAGES - len(consumed)
    assert set(consumed).isdisjoint(rest)
    assert sorted(consumed + rest) == values
    assert sum(offset or 0 for offset in committed.values()) == len(consumed)


def test_stopped_broker_keeps_topics_and_messages(kafka_controllable: KafkaBroker) -> None:
    topic = _create_topic(kafka_controllable.bootstrap, partitions=1)
    _produce(kafka_controllable.bootstrap, topic, [b"before-stop"])
    address = kafka_controllable.bootstrap

    kafka_controllable.stop()
    assert not kafka_controllable.running
    kafka_controllable.start()

    assert kafka_controllable.bootstrap == address
    _produce(kafka_controllable.bootstrap, topic, [b"after-start"])
    consumer = _consumer(kafka_controllable.bootstrap, topic, f"g-{uuid.uuid4().hex[:8]}")
    try:
        assert _poll_until(consumer, 2, timeout=60) == [b"before-stop", b"after-start"]
    finally:
        consumer.close(autocommit=False)


def test_missing_java_fails_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(MissingToolError) as info:
        find_java()
    assert "\n" not in str(info.value)
    assert "apt-get install default-jre-headless" in str(info.value)
