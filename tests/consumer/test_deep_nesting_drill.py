"""Drill: a 200,000-deep `[[[[...` message on a live topic, ahead of good events, with the real consumer
process. It stays up, dead-letters the message (`too_deep`), ingests the events behind it, and after a
restart neither dies on the message again nor dead-letters it twice."""

from __future__ import annotations

import random
import signal
from collections.abc import Callable
from typing import Any

from omniclaude.topics import dead_letter_topic, topic_for

from tests.consumer import factory
from tests.consumer.conftest import ConsumerProcess, event_ids, http_get, settings_for, wait_until
from tests.harness import free_port

GOOD = 40


def test_a_deep_nesting_message_is_dead_lettered_and_the_events_behind_it_land(
    kafka: Any, topics: str, migrated_url: str, consumer_process: Callable[..., ConsumerProcess]
) -> None:
    prefix = topics
    actions = topic_for("agent_action", prefix) or ""
    rng = random.Random(3)
    poison = [
        factory.Record(actions, b"session-1", b"[" * 200_000, kind="deep-array"),
        factory.Record(actions, b"session-1", b'{"a":' * 5_000 + b"1" + b"}" * 5_000, kind="deep-object"),
    ]
    first = [factory.good_event(rng, prefix, "agent_action") for _ in range(GOOD)]
    later = [factory.good_event(rng, prefix, "agent_action") for _ in range(GOOD)]
    producer = factory.Producer(kafka.bootstrap)
    port = free_port()
    process = consumer_process(settings_for(kafka.bootstrap, migrated_url, prefix, consumer_health_port=port))
    try:
        producer.send([*poison, *first])
        process.start()
        wait_until(lambda: len(event_ids(migrated_url)["agent_actions"]) == GOOD, 90, "the events behind it")
        letters = factory.read_topic(kafka.bootstrap, dead_letter_topic(prefix), len(poison), timeout=30)
        reasons = sorted(dict(letter.headers)["dlq.error.reason"].decode() for letter in letters)
        assert reasons == ["too_deep", "too_deep"]
        assert http_get(port, "/ready")[0] == 200

        process.signal(signal.SIGTERM)
        assert process.wait(30) == 0, process.log_tail()
        producer.send(later)
        process.start()
        wait_until(lambda: len(event_ids(migrated_url)["agent_actions"]) == 2 * GOOD, 90, "events after a restart")
        assert http_get(port, "/ready")[0] == 200
        letters = factory.read_topic(kafka.bootstrap, dead_letter_topic(prefix), len(poison) + 1, timeout=5)
        assert len(letters) == len(poison)  # committed past: not dead-lettered again
        process.signal(signal.SIGTERM)
        assert process.wait(30) == 0, process.log_tail()
    finally:
        producer.close()
    log = process.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "RecursionError" not in log
    assert {str(r.event_id) for r in [*first, *later]} == event_ids(migrated_url)["agent_actions"]
