"""Retention: delete event rows older than a given age, in bounded batches.

Contract:
- The age of a row is its `occurred_at`; for `agent_execution_logs`, `started_at`, or `created_at` when no
  start event arrived. The cutoff is computed once, from the database clock, when `prune` starts.
- Rows are deleted at most `batch_size` per statement, each statement in its own transaction, so locks
  stay short and the consumer keeps writing meanwhile. A failure leaves earlier batches deleted.
- Tables that do not exist (a schema behind the code) are skipped and absent from the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias

import psycopg
from psycopg import sql

__all__ = ["DEFAULT_BATCH_SIZE", "PRUNE_TARGETS", "PruneTarget", "parse_duration", "prune"]

Connection: TypeAlias = "psycopg.Connection[Any]"

DEFAULT_BATCH_SIZE = 5000


@dataclass(frozen=True)
class PruneTarget:
    """A table, its row key, and the SQL expression giving a row's age timestamp."""

    table: str
    key: str
    age: sql.Composable


PRUNE_TARGETS: tuple[PruneTarget, ...] = (
    PruneTarget("claude_hook_events", "id", sql.Identifier("occurred_at")),
    PruneTarget("agent_actions", "id", sql.Identifier("occurred_at")),
    PruneTarget("agent_routing_decisions", "id", sql.Identifier("occurred_at")),
    PruneTarget("agent_transformation_events", "id", sql.Identifier("occurred_at")),
    PruneTarget("router_performance_metrics", "id", sql.Identifier("occurred_at")),
    PruneTarget("agent_detection_failures", "id", sql.Identifier("occurred_at")),
    PruneTarget("llm_usage", "event_id", sql.Identifier("occurred_at")),
    # Matches the expression index agent_execution_logs_retention_idx.
    PruneTarget("agent_execution_logs", "execution_id", sql.SQL("COALESCE(started_at, created_at)")),
)

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """Parses `<N><unit>` with unit s, m, h, d or w (`30d`, `12h`, `90m`); raises ValueError otherwise.

    The duration must be positive: `0d` would delete everything and is refused.
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: want a number and a unit s, m, h, d or w (30d)")
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: must be greater than zero")
    return timedelta(seconds=seconds)


def prune(conn: Connection, older_than: timedelta, *, batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, int]:
    """Deletes rows older than `older_than` from every event table; returns rows deleted per table.

    Raises ValueError for a non-positive `older_than` or `batch_size`, psycopg.Error on database errors.
    """
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    with conn.transaction():
        row = conn.execute("SELECT now() - %s::interval", (older_than,)).fetchone()
        assert row is not None
        cutoff = row[0]
        present = {
            target.table
            for target in PRUNE_TARGETS
            if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (target.table,)).fetchone() == (True,)
        }
    deleted: dict[str, int] = {}
    for target in PRUNE_TARGETS:
        if target.table in present:
            deleted[target.table] = _prune_table(conn, target, cutoff, batch_size)
    return deleted


def _prune_table(conn: Connection, target: PruneTarget, cutoff: object, batch_size: int) -> int:
    statement = sql.SQL(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {age} < %s LIMIT %s)"
    ).format(table=sql.Identifier(target.table), key=sql.Identifier(target.key), age=target.age)
    total = 0
    while True:
        with conn.transaction():
            count = conn.execute(statement, (cutoff, batch_size)).rowcount
        total += count
        if count < batch_size:
            return total
