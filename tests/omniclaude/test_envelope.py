import json
import time
import uuid

import pytest
from omniclaude import envelope


def test_uuid7_is_version_7_and_time_ordered() -> None:
    first = uuid.UUID(envelope.uuid7(1_700_000_000_000_000_000))
    second = uuid.UUID(envelope.uuid7(1_700_000_000_001_000_000))
    assert first.version == 7 and first.variant == uuid.RFC_4122
    assert first < second
    assert int(first.hex[:12], 16) == 1_700_000_000_000


def test_uuid7_is_unique() -> None:
    assert len({envelope.uuid7() for _ in range(10_000)}) == 10_000


def test_iso_timestamp_has_microseconds_and_z() -> None:
    assert envelope.iso_timestamp(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456Z"


def test_new_envelope_shape() -> None:
    before = time.time()
    event = envelope.new_envelope("agent_action", {"a": 1}, "skill", {"host": "h"})
    assert list(event) == ["event_id", "schema_version", "event_type", "occurred_at", "source", "context", "payload"]
    assert event["schema_version"] == 1
    occurred = time.mktime(time.strptime(str(event["occurred_at"])[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert abs(occurred - before) < 5


def test_encode_fits_the_cap_by_cutting_the_longest_strings() -> None:
    event = envelope.new_envelope(
        "claude_hook",
        {"hook_event_name": "PostToolUse", "input": {"big": "x" * 300_000, "small": "keep me", "other": "é" * 1000}},
        "hook",
        {"host": "h"},
    )
    line = envelope.encode(event, 16 * 1024)
    assert len(line) <= 16 * 1024 and line.endswith(b"\n")
    decoded = json.loads(line)
    assert decoded["payload"]["input"]["small"] == "keep me"
    assert decoded["payload"]["hook_event_name"] == "PostToolUse"
    assert decoded["payload"]["input"]["big"].endswith("bytes]")
    assert "truncated" in decoded["payload"]["input"]["big"]
    assert decoded["event_id"] == event["event_id"]


def test_encode_leaves_small_events_alone() -> None:
    event = envelope.new_envelope("x", {"a": "b"}, "logger", {})
    assert json.loads(envelope.encode(event, 1024)) == event


def test_encode_raises_when_nothing_can_be_cut() -> None:
    event = envelope.new_envelope("x", {"many": ["short"] * 10_000}, "logger", {})
    with pytest.raises(ValueError):
        envelope.encode(event, 4096)


def test_lone_surrogates_do_not_break_encoding() -> None:
    event = envelope.new_envelope("x", {"bad": "\ud800"}, "logger", {})
    json.loads(envelope.encode(event, 4096))
