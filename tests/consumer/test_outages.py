"""PostgreSQL restarted mid-stream: nothing lost, nothing dead-lettered, /ready false during the outage."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from omniclaude.topics import dead_letter_topic, event_topics

from tests.consumer import factory
from tests.consumer.conftest import RunningConsumer, event_ids, expected_ids, migrate, settings_for, wait_until


def test_postgres_restart_mid_stream(
    kafka: Any, topics: str, postgres_controllable: Any, run_consumer: Callable[..., RunningConsumer]
) -> None:
    prefix = topics
    url = migrate(postgres_controllable.create_database())
    records = list(factory.good_stream(9000, prefix, seed=21))
    first, second, third = records[:3000], records[3000:6000], records[6000:]
    producer = factory.Producer(kafka.bootstrap)
    consumer = run_consumer(settings_for(kafka.bootstrap, url, prefix))
    try:
        producer.send(first)
        wait_until(lambda: consumer.state.snapshot().consumed >= len(first), 60, "the first part consumed")
        wait_until(lambda: consumer.get("/ready")[0] == 200, 30, "/ready before the outage")

        # the outage: events keep arriving while the database is down
        readiness: list[int] = []
        watching = threading.Event()

        def watch() -> None:
            while not watching.is_set():
                readiness.append(consumer.get("/ready")[0])
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        postgres_controllable.stop()
        watcher.start()
        producer.send(second)
        wait_until(lambda: consumer.get("/ready")[0] == 503, 30, "/ready to fail during the outage")
        status, body = consumer.get("/ready")
        assert status == 503 and body["backing_off"] is True, body
        assert consumer.get("/health")[0] == 200  # alive: it is waiting, not stalled
        time.sleep(2)
        assert consumer.state.snapshot().retries >= 1
        postgres_controllable.start()
        producer.send(third)
        wait_until(lambda: consumer.state.snapshot().consumed >= len(records), 90, "everything consumed")
        wait_until(lambda: consumer.get("/ready")[0] == 200, 30, "/ready after the outage")
        watching.set()
        watcher.join()
        assert 503 in readiness and readiness[-1] == 200
    finally:
        producer.close()
        consumer.stop()

    assert event_ids(url) == expected_ids(records)
    snap = consumer.state.snapshot()
    assert sum(snap.dead_lettered.values()) == 0
    committed, end = factory.committed_and_end(kafka.bootstrap, f"{prefix}-group", event_topics(prefix))
    assert committed == end
    _, dead_end = factory.committed_and_end(kafka.bootstrap, "nobody", [dead_letter_topic(prefix)])
    assert sum(dead_end.values()) == 0  # nothing dead-lettered


def test_postgres_down_while_idle_makes_ready_false(
    kafka: Any, topics: str, postgres_controllable: Any, run_consumer: Callable[..., RunningConsumer]
) -> None:
    url = migrate(postgres_controllable.create_database())
    consumer = run_consumer(settings_for(kafka.bootstrap, url, topics))
    producer = factory.Producer(kafka.bootstrap)
    try:
        producer.send([factory.good_event(random.Random(1), topics)])
    finally:
        producer.close()
    wait_until(lambda: consumer.get("/ready")[0] == 200, 30, "/ready")
    postgres_controllable.stop()
    try:
        wait_until(lambda: consumer.get("/ready")[0] == 503, 20, "/ready to notice the idle outage")
    finally:
        postgres_controllable.start()
    wait_until(lambda: consumer.get("/ready")[0] == 200, 20, "/ready after the outage")
