"""20,000 good events mixed with poison of every kind, through the real broker into the real database."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from omniclaude.topics import dead_letter_topic, event_topics

from tests.consumer import factory
from tests.consumer.conftest import RunningConsumer, event_ids, expected_ids, settings_for, table_counts, wait_until

GOOD = 20_000
MAX_BYTES = 65_536


def test_good_events_land_once_and_every_poison_message_is_dead_lettered(
    kafka: Any, topics: str, migrated_url: str, run_consumer: Callable[..., RunningConsumer]
) -> None:
    prefix = topics
    rng = random.Random(11)
    good = list(factory.good_stream(GOOD, prefix, seed=11))
    poison = factory.poison(prefix, rng, max_bytes=MAX_BYTES) * 2  # every kind twice
    duplicates = rng.sample(good, 25)  # re-sent good events: ignored, not poison
    stream: list[factory.Record] = [*good, *duplicates]
    for record in poison:  # scatter the poison through the stream
        stream.insert(rng.randrange(len(stream) + 1), record)
    assert len({r.kind for r in poison}) >= 12
    producer = factory.Producer(kafka.bootstrap)
    try:
        producer.send(stream)
    finally:
        producer.close()

    started = time.monotonic()
    consumer = run_consumer(settings_for(kafka.bootstrap, migrated_url, prefix, consumer_message_max_bytes=MAX_BYTES))
    wait_until(lambda: consumer.state.snapshot().consumed >= len(stream), 120, "every message consumed")
    elapsed = time.monotonic() - started
    snap = consumer.state.snapshot()

    # every good row present exactly once
    assert event_ids(migrated_url) == expected_ids(good)
    counts = table_counts(migrated_url)
    expected = expected_ids(good)
    assert counts == {table: len(ids) for table, ids in expected.items()}
    assert sum(snap.unchanged.values()) >= len(duplicates)

    # every poison message in the dead-letter topic, with its reason and where it came from
    letters = factory.read_topic(kafka.bootstrap, dead_letter_topic(prefix), len(poison), timeout=60)
    assert len(letters) == len(poison)
    by_value: Counter[tuple[bytes | None, str]] = Counter()
    for letter in letters:
        headers = dict(letter.headers)
        assert headers["dlq.source.topic"].decode() in event_topics(prefix)
        assert int(headers["dlq.source.partition"]) >= 0 and int(headers["dlq.source.offset"]) >= 0
        assert headers["dlq.error.class"] and headers["dlq.error.message"] and headers["dlq.failed_at"]
        assert int(headers["dlq.attempts"]) >= 1
        if letter.value is not None and letter.value != b"":
            assert headers.get("origin") == b"test" or headers.get("event_type")  # original headers kept
        by_value[(letter.value, headers["dlq.error.reason"].decode())] += 1
    assert by_value == Counter((r.value, r.reason) for r in poison)
    assert snap.dead_lettered["db_rejected"] == sum(r.reason == "db_rejected" for r in poison)
    assert sum(snap.dead_lettered.values()) == len(poison)

    # the consumer never stalled, and its offsets end at the high-water mark
    assert snap.retries == 0 and not snap.backing_off
    committed, end = factory.committed_and_end(kafka.bootstrap, f"{prefix}-group", event_topics(prefix))
    assert committed == end and sum(end.values()) == len(stream)
    status, body = consumer.get("/ready")
    assert status == 200, body
    status, metrics = consumer.get("/metrics")
    assert f"omniclaude_consumer_messages_consumed_total {len(stream)}" in metrics
    print(f"\n{len(stream)} messages consumed in {elapsed:.1f}s ({len(stream) / elapsed:.0f}/s incl. group join)")
    assert consumer.stop() == 0
