"""The Kafka source's record conversion (the subscribed consumer itself is exercised against a real broker
by the loop, outage and process tests)."""

from __future__ import annotations

from kafka.consumer.fetcher import ConsumerRecord
from omniclaude_consumer.message import Message, Partition
from omniclaude_consumer.source import _as_messages


def test_records_become_messages_field_by_field() -> None:
    headers = [("event_type", b"claude_hook"), ("schema_version", b"1")]
    records = [
        ConsumerRecord("p.agent-actions", 2, 5, 41, 1_700_000_000_000, 0, b"key", b"{}", headers, None, 3, 2, 30),
        ConsumerRecord("p.agent-actions", 0, 5, 7, None, 0, None, None, [], None, -1, -1, -1),
    ]

    first, second = _as_messages(records)

    assert type(first) is Message
    assert first == Message("p.agent-actions", 2, 41, b"key", b"{}", headers, 1_700_000_000_000)
    assert first.source == Partition("p.agent-actions", 2)
    assert (second.key, second.value, list(second.headers), second.timestamp_ms) == (None, None, [], None)
