from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

import pytest
from omniclaude_consumer import errors
from omniclaude_consumer.dlq import (
    HEADER_ATTEMPTS,
    HEADER_ERROR_CLASS,
    HEADER_FAILED_AT,
    HEADER_MESSAGE,
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REASON,
    HEADER_TOPIC,
    DeadLetter,
    DeadLetterLimit,
    DeadLetterProducer,
    dead_letter_headers,
)
from omniclaude_consumer.message import Message

MESSAGE = Message("p.agent-actions", 2, 41, b"key", b"{bad", (("event_type", b"agent_action"),))


def test_headers_keep_the_originals_and_say_where_and_why() -> None:
    letter = DeadLetter(MESSAGE, errors.NotJson("not JSON: line 1"), attempts=3)
    when = datetime(2026, 11, 27, 7, 0, tzinfo=timezone.utc)
    headers = dead_letter_headers(letter, group="g", failed_at=when)
    assert headers[0] == ("event_type", b"agent_action")
    named = dict(headers)
    assert named[HEADER_TOPIC] == b"p.agent-actions"
    assert named[HEADER_PARTITION] == b"2"
    assert named[HEADER_OFFSET] == b"41"
    assert named[HEADER_ERROR_CLASS] == b"NotJson"
    assert named[HEADER_REASON] == b"not_json"
    assert named[HEADER_MESSAGE] == b"not JSON: line 1"
    assert named[HEADER_ATTEMPTS] == b"3"
    assert named[HEADER_FAILED_AT] == b"2026-11-27T07:00:00.000000Z"


def test_long_error_messages_are_cut() -> None:
    letter = DeadLetter(MESSAGE, errors.InvalidEvent("x" * 10_000))
    assert len(dict(dead_letter_headers(letter, group="g"))[HEADER_MESSAGE]) == 2000


class FakeFuture:
    def __init__(self, log: list[str], fail: bool) -> None:
        self.log, self.fail = log, fail

    def get(self, timeout: float | None = None) -> object:
        self.log.append("get")
        if self.fail:
            raise RuntimeError("not acknowledged")
        return object()


class FakeProducer:
    def __init__(self, fail: bool = False) -> None:
        self.log: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.fail = fail

    def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes | None]] | None = None,
    ) -> FakeFuture:
        self.log.append("send")
        self.sent.append({"topic": topic, "value": value, "key": key, "headers": headers})
        return FakeFuture(self.log, self.fail)

    def flush(self, timeout: float | None = None) -> None:
        self.log.append("flush")

    def close(self, timeout: float | None = None) -> None:
        self.log.append("close")


def test_send_produces_with_original_key_and_value_then_waits_for_every_ack() -> None:
    fake = FakeProducer()
    created = []
    producer = DeadLetterProducer("p.dead-letter", "g", lambda: created.append(1) or fake)  # type: ignore[func-returns-value]
    producer.send([])
    assert not created  # nothing to send: no client created
    tombstone = Message("p.agent-actions", 0, 1, None, None)
    producer.send([DeadLetter(MESSAGE, errors.NotJson("x")), DeadLetter(tombstone, errors.Tombstone("t"))])
    assert fake.log == ["send", "send", "flush", "get", "get"]
    assert fake.sent[0]["key"] == b"key" and fake.sent[0]["value"] == b"{bad"
    assert fake.sent[1]["value"] is None and fake.sent[1]["topic"] == "p.dead-letter"


def test_an_unacknowledged_dead_letter_is_transient() -> None:
    producer = DeadLetterProducer("p.dead-letter", "g", lambda: FakeProducer(fail=True))
    with pytest.raises(errors.BrokerUnavailable):
        producer.send([DeadLetter(MESSAGE, errors.NotJson("x"))])


def test_limit_trips_on_the_share_of_the_window() -> None:
    limit = DeadLetterLimit(window=1000, max_share=0.25)
    limit.record([False] * 900)
    limit.check([True] * 100)  # 100 of 1000
    limit.record([True] * 200)  # the window keeps the last 1000: 800 good, 200 dead
    assert limit.share == pytest.approx(0.2)
    limit.check([True] * 50)  # 250 / 1000 is not more than 25 %
    with pytest.raises(errors.DeadLetterLimitExceeded) as caught:
        limit.check([True] * 51)
    assert "dead-letter" in str(caught.value)
    assert limit.share == pytest.approx(0.2)  # check records nothing


def test_limit_waits_for_a_minimum_sample() -> None:
    limit = DeadLetterLimit(window=1000, max_share=0.1)
    limit.check([True] * 99)  # fewer than 100 seen: not judged yet
    with pytest.raises(errors.DeadLetterLimitExceeded):
        limit.check([True] * 100)
    small = DeadLetterLimit(window=10, max_share=0.5)
    with pytest.raises(errors.DeadLetterLimitExceeded):
        small.check([True] * 6 + [False] * 4)


def test_limit_of_one_never_trips() -> None:
    limit = DeadLetterLimit(window=100, max_share=1.0)
    limit.record([True] * 500)
    limit.check([True] * 500)


def test_limit_sees_a_burst_inside_a_large_batch() -> None:
    limit = DeadLetterLimit(window=1000, max_share=0.25)
    limit.record([False] * 1000)
    with pytest.raises(errors.DeadLetterLimitExceeded):
        limit.check([True] * 300 + [False] * 4700)  # the last 1000 are clean, but 300 of 1000 were not


def _judged_one_at_a_time(window: list[bool], size: int, share: float, outcomes: list[bool]) -> bool:
    """Whether the limit trips, judged after every single outcome (the definition)."""
    trial = list(window)
    for outcome in outcomes:
        trial = [*trial, outcome][-size:]
        if len(trial) >= min(size, 100) and sum(trial) > share * len(trial):
            return True
    return False


def test_limit_on_whole_batches_agrees_with_one_outcome_at_a_time() -> None:
    rng = random.Random(7)
    for _ in range(300):
        size, share = rng.choice([10, 150, 1000]), rng.choice([0.1, 0.25, 0.5])
        limit, window = DeadLetterLimit(size, share), []
        for _ in range(rng.randint(1, 6)):
            rate = rng.choice([0.0, 0.0, 0.05, 0.3, 0.9])
            outcomes = [rng.random() < rate for _ in range(rng.choice([1, 50, 400, 2000]))]
            trips = _judged_one_at_a_time(window, size, share, outcomes)
            try:
                limit.check(outcomes)
            except errors.DeadLetterLimitExceeded:
                assert trips
            else:
                assert not trips
            limit.record(outcomes)  # recorded anyway, as a window that was never judged
            window = [*window, *outcomes][-size:]
            assert limit.share == pytest.approx(sum(window) / len(window))
