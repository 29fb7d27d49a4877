"""Fuzz the consumer's decode -> row -> write path with 100,000 seeded hostile messages (`tests/consumer/fuzz`).

In process, every message goes through `decode.decode_row` (what the loop calls): only typed permanent
errors may come out, every valid event becomes a row. A representative subset then goes through the real
loop into the real PostgreSQL, twice: every valid event lands exactly once, every other message is
dead-lettered, and the replay changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest
from omniclaude.backoff import Backoff
from omniclaude_consumer.decode import decode_row
from omniclaude_consumer.dlq import DeadLetterLimit
from omniclaude_consumer.errors import PermanentError, RowRejected
from omniclaude_consumer.health import ConsumerState
from omniclaude_consumer.loop import Loop
from omniclaude_consumer.message import Message
from omniclaude_consumer.rows import EXECUTION_LOGS, TABLES
from omniclaude_consumer.writer import Writer

from tests.consumer.fuzz import Fuzz, corpus
from tests.consumer.test_loop import PREFIX, FakeDeadLetters, FakeSource, Journal

COUNT = 100_000
MAX_BYTES = 1 << 20
SUBSET_EVERY = 50


def as_messages(items: Sequence[Fuzz], start: int = 0) -> list[Message]:
    return [Message(item.topic, 0, start + index, b"k", item.value) for index, item in enumerate(items)]


@pytest.fixture(scope="module")
def items() -> list[Fuzz]:
    return list(corpus(COUNT, PREFIX, seed=12))


def test_100k_hostile_messages_decode_to_a_row_or_a_typed_permanent_error(items: list[Fuzz]) -> None:
    assert len(items) >= COUNT
    outcomes: Counter[str] = Counter()
    escaped: list[tuple[str, str]] = []
    for index, (item, message) in enumerate(zip(items, as_messages(items), strict=True)):
        try:
            row = decode_row(message, topic_prefix=PREFIX, max_bytes=MAX_BYTES)
        except PermanentError as exc:
            outcomes[exc.reason] += 1
            assert item.kind != "good", (index, exc)
            continue
        except BaseException as exc:
            escaped.append((item.kind, f"{type(exc).__name__}: {exc}"[:200]))
            continue
        outcomes["row"] += 1
        assert row.table in TABLES
    assert escaped == []
    kinds = Counter(item.kind.split(":")[0] for item in items)
    assert outcomes["row"] >= kinds["good"]
    for reason in ("too_deep", "not_json", "not_utf8", "invalid", "too_large", "tombstone", "empty"):
        assert outcomes[reason] > 0, (reason, outcomes)
    assert sum(outcomes.values()) == len(items)


def _run(items: Sequence[Fuzz], url: str, start: int) -> tuple[list[Any], FakeDeadLetters, ConsumerState]:
    journal = Journal()
    batches = [as_messages(items[i : i + 500], start + i) for i in range(0, len(items), 500)]
    offered = [m for batch in batches for m in batch]
    state = ConsumerState()
    dead = FakeDeadLetters(journal)
    loop: Loop

    def stop_when_committed() -> None:
        if all(source.committed.get(m.source, -1) > m.offset for m in offered):
            loop.request_stop()

    source = FakeSource(journal, batches, stop_when_committed)
    writer: Writer[Message] = Writer.for_url(url)
    loop = Loop(
        source_factory=lambda: source,
        writer=writer,
        dead_letters=dead,  # type: ignore[arg-type]
        limit=DeadLetterLimit(1000, 1.0),
        state=state,
        topic_prefix=PREFIX,
        message_max_bytes=MAX_BYTES,
        poll_timeout_ms=10,
        backoff=Backoff(0.01, 0.05),
    )
    try:
        assert loop.run() == 0
    finally:
        loop.close()
    return offered, dead, state


def _stored_ids(url: str) -> Counter[str]:
    found: Counter[str] = Counter()
    with psycopg.connect(url) as conn:
        for table in TABLES:
            if table != EXECUTION_LOGS:
                found.update(str(r[0]) for r in conn.execute(f"SELECT event_id FROM {table}"))
    return found


def test_a_subset_through_the_real_loop_lands_exactly_once_or_is_dead_lettered(
    items: list[Fuzz], migrated_url: str
) -> None:
    subset = [*items[:COUNT:SUBSET_EVERY], *items[COUNT:]]  # every 50th, and every fixed extreme
    offered, dead, state = _run(subset, migrated_url, 0)
    lettered = {id(letter.message) for letter in dead.sent}
    assert len(lettered) == len(dead.sent)
    rows = [(item, message) for item, message in zip(subset, offered, strict=True) if id(message) not in lettered]
    assert all(isinstance(letter.error, PermanentError) for letter in dead.sent)
    assert all(item.kind != "good" for item, message in zip(subset, offered, strict=True) if id(message) in lettered)
    rejected = sum(isinstance(letter.error, RowRejected) for letter in dead.sent)
    assert rejected > 0  # NUL characters reach PostgreSQL and are refused there, one message at a time
    snap = state.snapshot()
    assert snap.consumed == len(subset) and sum(snap.dead_lettered.values()) == len(dead.sent)

    stored = _stored_ids(migrated_url)
    assert max(stored.values()) == 1  # exactly once
    decoded = [decode_row(message, topic_prefix=PREFIX, max_bytes=MAX_BYTES) for _item, message in rows]
    expected = {str(row.values["event_id"]) for row in decoded if row.table != EXECUTION_LOGS}
    assert set(stored) == expected

    again, dead_again, _state = _run(subset, migrated_url, len(subset))  # a replay: nothing changes
    assert _stored_ids(migrated_url) == stored
    assert len(dead_again.sent) == len(dead.sent) and len(again) == len(offered)
