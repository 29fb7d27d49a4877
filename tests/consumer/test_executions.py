"""The execution upsert against PostgreSQL: any order, any repetition, any batching -> the same row."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest
from omniclaude.events import Envelope
from omniclaude_consumer.rows import EXECUTION_LOGS, to_row
from omniclaude_consumer.writer import Pending, Writer

from tests.consumer import factory

IGNORED = ("created_at", "updated_at")


def _rows(records: Sequence[factory.Record]) -> list[Pending[int]]:
    out = []
    for index, record in enumerate(records):
        assert record.value is not None
        out.append(Pending(index, to_row(Envelope.parse_json(record.value)).values))
    return out


def _write(writer: Writer[int], rows: Sequence[Pending[int]], batches: Sequence[int]) -> None:
    start = 0
    for size in batches:
        result = writer.write({EXECUTION_LOGS: list(rows[start : start + size])})
        assert not result.rejected
        start += size
    assert start == len(rows)


def _state(url: str) -> dict[str, dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM agent_execution_logs ORDER BY execution_id")
        names = [d.name for d in cur.description or ()]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return {str(r["execution_id"]): {k: v for k, v in r.items() if k not in IGNORED} for r in rows}


def _truncate(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE agent_execution_logs")


@pytest.fixture
def writer(migrated_url: str) -> Any:
    w: Writer[int] = Writer.for_url(migrated_url)
    yield w
    w.close()


def test_once_in_order_gives_the_full_row(migrated_url: str, writer: Writer[int]) -> None:
    records = factory.execution_events(random.Random(1), "p", progress=2)
    _write(writer, _rows(records), [1, 1, 1, 1])
    (row,) = _state(migrated_url).values()
    assert row["agent_name"] == "agent-1" and row["status"] in ("success", "error", "cancelled")
    assert str(row["event_id"]) == records[0].event_id  # the start's
    assert row["started_at"] < row["progress_at"] < row["completed_at"]
    assert row["duration_ms"] == 3  # the factory spaces the events 1 ms apart
    assert row["progress_stage"] is not None and row["quality_score"] is not None
    assert set(row["metadata"]) == {"started", "progress", "completed"}
    assert row["claude_session_id"] is not None and row["terminal_id"] == "tty:/dev/pts/3"


def test_out_of_order_and_twice_ends_in_the_same_row_as_once_in_order(migrated_url: str, writer: Writer[int]) -> None:
    rng = random.Random(7)
    executions = [factory.execution_events(rng, "p", progress=2) for _ in range(6)]
    in_order = [r for records in executions for r in records]
    _write(writer, _rows(in_order), [len(in_order)])
    expected = _state(migrated_url)
    assert len(expected) == 6

    for attempt in range(6):
        _truncate(migrated_url)
        shuffled = in_order * 2
        rng.shuffle(shuffled)
        rows = _rows(shuffled)
        cuts = sorted(rng.sample(range(1, len(rows)), attempt))  # 0 to 5 cuts: 1 to 6 batches
        sizes = [b - a for a, b in itertools.pairwise([0, *cuts, len(rows)])]
        _write(writer, rows, sizes)
        assert _state(migrated_url) == expected, f"attempt {attempt}: batches {sizes}"


def test_every_order_of_one_lifecycle_gives_the_same_row(migrated_url: str, writer: Writer[int]) -> None:
    records = factory.execution_events(random.Random(3), "p", progress=2)
    _write(writer, _rows(records), [len(records)])
    expected = _state(migrated_url)
    for order in itertools.permutations(records):
        _truncate(migrated_url)
        _write(writer, _rows(order), [1] * len(order))
        assert _state(migrated_url) == expected


def test_a_replay_changes_nothing_not_even_updated_at(migrated_url: str, writer: Writer[int]) -> None:
    records = factory.execution_events(random.Random(5), "p", progress=1)
    rows = _rows(records)
    _write(writer, rows, [len(rows)])
    with psycopg.connect(migrated_url) as conn:
        before = conn.execute("SELECT agent_execution_logs.*::text FROM agent_execution_logs").fetchall()
    result = writer.write({EXECUTION_LOGS: rows + rows})
    assert result.written[EXECUTION_LOGS] == 0 and result.unchanged[EXECUTION_LOGS] == 2 * len(rows)
    with psycopg.connect(migrated_url) as conn:
        after = conn.execute("SELECT agent_execution_logs.*::text FROM agent_execution_logs").fetchall()
    assert before == after


def test_a_completion_before_its_start(migrated_url: str, writer: Writer[int]) -> None:
    started, progress, completed = factory.execution_events(random.Random(8), "p", progress=1)
    rows = _rows([completed])
    _write(writer, rows, [1])
    (row,) = _state(migrated_url).values()
    assert row["status"] != "in_progress" and row["started_at"] is None and row["duration_ms"] is None
    assert row["agent_name"] is None and str(row["event_id"]) == completed.event_id
    _write(writer, _rows([progress, started]), [1, 1])
    (row,) = _state(migrated_url).values()
    assert row["status"] != "in_progress"  # a terminal status is never overwritten
    assert row["agent_name"] == "agent-1" and str(row["event_id"]) == started.event_id
    assert row["duration_ms"] == 2


def test_plain_tables_ignore_duplicates(migrated_url: str, postgres: Any) -> None:
    rng = random.Random(4)
    records = [factory.good_event(rng, "p", kind) for kind in factory.PLAIN_TYPES for _ in range(3)]
    rows = []
    for record in records:
        assert record.value is not None
        row = to_row(Envelope.parse_json(record.value))
        rows.append((row.table, Pending(0, row.values)))
    batch: dict[str, list[Pending[int]]] = {}
    for table, pending in rows + rows:  # every event twice in one batch
        batch.setdefault(table, []).append(pending)
    w: Writer[int] = Writer.for_url(migrated_url)
    try:
        first = w.write(batch)
        again = w.write(batch)
    finally:
        w.close()
    assert sum(first.written.values()) == len(records) and sum(first.unchanged.values()) == len(records)
    assert sum(again.written.values()) == 0
