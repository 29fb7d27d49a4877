"""Retention: `prune` deletes rows older than the cutoff from every event table, in batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from omniclaude.db.migrations import upgrade
from omniclaude.db.prune import PRUNE_TARGETS, parse_duration, prune

OLD, NEW = "now() - interval '40 days'", "now() - interval '1 day'"
# One INSERT per event table, `{t}` being the occurred_at expression.
INSERTS = {
    "claude_hook_events": "INSERT INTO claude_hook_events (event_id, hook_event_name, occurred_at, payload) "
    "VALUES (gen_random_uuid(), 'Stop', {t}, '{{}}')",
    "agent_actions": "INSERT INTO agent_actions (event_id, occurred_at, agent_name, action_type, "
    "action_name) VALUES (gen_random_uuid(), {t}, 'a', 'success', 'x')",
    "agent_routing_decisions": "INSERT INTO agent_routing_decisions (event_id, occurred_at, selected_agent, "
    "confidence_score, routing_strategy, latency_ms) VALUES (gen_random_uuid(), {t}, 'a', 0.5, 's', 1)",
    "agent_transformation_events": "INSERT INTO agent_transformation_events (event_id, occurred_at, "
    "source_agent, target_agent) VALUES (gen_random_uuid(), {t}, 'a', 'b')",
    "router_performance_metrics": "INSERT INTO router_performance_metrics (event_id, occurred_at, "
    "query_text, routing_duration_ms) VALUES (gen_random_uuid(), {t}, 'q', 1)",
    "agent_detection_failures": "INSERT INTO agent_detection_failures (event_id, occurred_at, user_prompt, "
    "failure_reason, detection_status) VALUES (gen_random_uuid(), {t}, 'p', 'r', 'timeout')",
    "llm_usage": "INSERT INTO llm_usage (event_id, model, message_id, occurred_at) "
    "VALUES (gen_random_uuid(), 'm', 'msg', {t})",
}
EXECUTION = (
    "INSERT INTO agent_execution_logs (execution_id, event_id, started_at, created_at) "
    "VALUES (gen_random_uuid(), gen_random_uuid(), {started}, {created})"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        (" 7d ", timedelta(days=7)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-1d", "1.5h", "30 days", "1d12h", "10y"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def _counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    with conn.transaction():
        return {
            t.table: conn.execute(f"SELECT count(*) FROM {t.table}").fetchone()[0]  # type: ignore[index]
            for t in PRUNE_TARGETS
        }


def test_prune_deletes_only_old_rows_in_batches(conn: psycopg.Connection[Any]) -> None:
    upgrade(conn)
    with conn.transaction():
        for statement in INSERTS.values():
            for when in (OLD, OLD, OLD, NEW, NEW):
                conn.execute(statement.format(t=when).encode())
        for started, created in (
            (OLD, NEW),  # old by its start
            ("NULL", OLD),  # never started: old by its creation
            (NEW, OLD),  # started recently: kept
            ("NULL", NEW),  # kept
        ):
            conn.execute(EXECUTION.format(started=started, created=created).encode())

    deleted = prune(conn, timedelta(days=30), batch_size=2)

    assert deleted == {**dict.fromkeys(INSERTS, 3), "agent_execution_logs": 2}
    assert _counts(conn) == {**dict.fromkeys(INSERTS, 2), "agent_execution_logs": 2}
    assert prune(conn, timedelta(days=30), batch_size=2) == dict.fromkeys(deleted, 0)
    assert prune(conn, timedelta(hours=1)) == {**dict.fromkeys(INSERTS, 2), "agent_execution_logs": 2}


def test_prune_skips_tables_a_schema_behind_does_not_have(conn: psycopg.Connection[Any]) -> None:
    upgrade(conn, to=1)
    deleted = prune(conn, timedelta(days=1))
    assert "claude_hook_events" not in deleted and "llm_usage" not in deleted
    assert set(deleted) == {t.table for t in PRUNE_TARGETS} - {"claude_hook_events", "llm_usage"}


def test_prune_refuses_non_positive_arguments(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValueError, match="older_than"):
        prune(conn, timedelta(0))
    with pytest.raises(ValueError, match="batch_size"):
        prune(conn, timedelta(days=1), batch_size=0)
