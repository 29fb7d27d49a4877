"""Up, down and up again through the runner: same schema, nothing left behind, idempotent steps,
each version verified (sqitch-style), and rows surviving the project-context round trip."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from omniclaude.db.migrations import (
    applied_migrations,
    current_version,
    downgrade,
    latest_version,
    load_migrations,
    upgrade,
)

Connect = Callable[[str], psycopg.Connection[Any]]

# What the runner itself leaves in an empty database: its bookkeeping table.
RUNNER_OBJECTS = {
    "relation r schema_migrations",
    "relation i schema_migrations_pkey",
    "type schema_migrations",
    "type _schema_migrations",
}
EVENT_TABLES = (
    "agent_actions",
    "agent_routing_decisions",
    "agent_transformation_events",
    "router_performance_metrics",
    "agent_detection_failures",
)


def _columns(conn: psycopg.Connection[Any], table: str) -> set[str]:
    with conn.transaction():
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
            (table,),
        ).fetchall()
    return {row[0] for row in rows}


def _exists(conn: psycopg.Connection[Any], name: str) -> bool:
    with conn.transaction():
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def _has_function(conn: psycopg.Connection[Any], name: str) -> bool:
    with conn.transaction():
        row = conn.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", (name,)).fetchone()
    return bool(row and row[0])


def test_up_down_up_gives_the_same_schema_and_down_leaves_nothing_of_ours(
    fresh_url: str,
    connect: Connect,
    dump_schema: Callable[[str], str],
    public_objects: Callable[[psycopg.Connection[Any]], set[str]],
) -> None:
    conn = connect(fresh_url)
    assert public_objects(conn) == set()

    versions = [m.version for m in load_migrations()]
    assert [m.version for m in upgrade(conn)] == versions
    first = dump_schema(fresh_url)
    assert "CREATE TABLE public.claude_hook_events" in first

    assert [m.version for m in downgrade(conn, to=0)] == versions[::-1]
    assert public_objects(conn) == RUNNER_OBJECTS
    assert applied_migrations(conn) == []

    upgrade(conn)
    assert dump_schema(fresh_url) == first


def test_downgrade_to_each_version_equals_upgrading_only_that_far(
    new_database: Callable[[], str], connect: Connect, dump_schema: Callable[[str], str]
) -> None:
    for version in range(latest_version()):
        reference = new_database()
        upgrade(connect(reference), to=version)  # to=0: only the runner's schema_migrations
        rolled_back = new_database()
        conn = connect(rolled_back)
        upgrade(conn)
        downgrade(conn, to=version)
        assert current_version(conn) == version
        assert dump_schema(rolled_back) == dump_schema(reference), f"down to {version:04d} left a different schema"


def test_every_down_script_run_twice_is_harmless(
    fresh_url: str, connect: Connect, dump_schema: Callable[[str], str]
) -> None:
    conn = connect(fresh_url)
    upgrade(conn)
    for migration in reversed(load_migrations()):
        downgrade(conn, to=migration.version - 1)
        after_first = dump_schema(fresh_url)
        with conn.transaction():
            conn.execute(migration.down_sql.encode())
        assert dump_schema(fresh_url) == after_first, migration.label


def test_upgrade_twice_is_a_no_op(fresh_url: str, connect: Connect, dump_schema: Callable[[str], str]) -> None:
    conn = connect(fresh_url)
    upgrade(conn)
    schema, rows = dump_schema(fresh_url), applied_migrations(conn)
    assert upgrade(conn) == []
    assert dump_schema(fresh_url) == schema
    assert applied_migrations(conn) == rows


def test_each_version_verified_up_then_down(fresh_url: str, connect: Connect) -> None:
    conn = connect(fresh_url)

    def verify_0001() -> None:
        for table in (*EVENT_TABLES, "agent_execution_logs"):
            assert _exists(conn, table), table
        assert "project_name" not in _columns(conn, "agent_actions")

    def verify_0002() -> None:
        for table in EVENT_TABLES:
            assert {"project_path", "project_name", "claude_session_id"} <= _columns(conn, table), table
            assert _exists(conn, f"{table}_project_name_occurred_at_idx"), table
        assert "working_directory" in _columns(conn, "agent_actions")
        assert {"project_path", "project_name", "claude_session_id", "terminal_id"} <= _columns(
            conn, "agent_execution_logs"
        )
        assert _exists(conn, "agent_execution_logs_project_name_started_at_idx")
        assert _exists(conn, "agent_activity_realtime")
        assert _has_function(conn, "extract_project_name")
        assert not _exists(conn, "claude_hook_events")

    def verify_0003() -> None:
        assert _exists(conn, "claude_hook_events")
        assert _exists(conn, "claude_sessions")
        assert _exists(conn, "claude_hook_events_session_occurred_at_idx")
        assert _exists(conn, "claude_hook_events_project_name_occurred_at_idx")

    def verify_0004() -> None:
        assert {
            "event_id",
            "claude_session_id",
            "agent_id",
            "agent_type",
            "model",
            "message_id",
            "request_id",
            "occurred_at",
            "project_name",
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "cache_creation_5m_tokens",
            "cache_creation_1h_tokens",
            "cost_usd",
        } == _columns(conn, "llm_usage")
        for view in ("session_usage", "daily_usage", "agent_usage"):
            assert _exists(conn, view), view
        assert {"lines_added", "lines_removed", "commit_sha", "commit_branch", "pr_url"} <= _columns(
            conn, "claude_hook_events"
        )

    upgrade(conn, to=1)
    verify_0001()
    upgrade(conn, to=2)
    verify_0002()
    upgrade(conn, to=3)
    verify_0003()
    upgrade(conn, to=4)
    verify_0004()
    assert [m.version for m in downgrade(conn, steps=1)] == [4]
    verify_0003()
    assert not _exists(conn, "llm_usage") and not _exists(conn, "session_usage")
    assert "lines_added" not in _columns(conn, "claude_hook_events")
    assert [m.version for m in downgrade(conn, steps=1)] == [3]
    verify_0002()
    assert not _exists(conn, "claude_hook_events")
    assert not _exists(conn, "claude_sessions")
    downgrade(conn, steps=1)
    verify_0001()
    assert not _exists(conn, "agent_activity_realtime")
    assert not _has_function(conn, "extract_project_name")
    for table in EVENT_TABLES:
        assert not _exists(conn, f"{table}_project_name_occurred_at_idx"), table
    assert {"terminal_id", "project_name"}.isdisjoint(_columns(conn, "agent_execution_logs"))
    downgrade(conn, steps=1)
    assert current_version(conn) == 0
    assert not _exists(conn, "agent_actions")


def _seed_before_project_context(conn: psycopg.Connection[Any]) -> dict[str, uuid.UUID]:
    ids = {table: uuid.uuid4() for table in (*EVENT_TABLES, "agent_execution_logs")}
    with conn.transaction():
        conn.execute(
            "INSERT INTO agent_actions (event_id, occurred_at, agent_name, action_type, action_name) "
            "VALUES (%s, now(), 'coder', 'tool_call', 'Read')",
            (ids["agent_actions"],),
        )
        conn.execute(
            "INSERT INTO agent_routing_decisions (event_id, occurred_at, selected_agent, confidence_score, "
            "routing_strategy, latency_ms) VALUES (%s, now(), 'coder', 0.9, 'fuzzy', 12)",
            (ids["agent_routing_decisions"],),
        )
        conn.execute(
            "INSERT INTO agent_transformation_events (event_id, occurred_at, source_agent, target_agent) "
            "VALUES (%s, now(), 'router', 'coder')",
            (ids["agent_transformation_events"],),
        )
        conn.execute(
            "INSERT INTO router_performance_metrics (event_id, occurred_at, query_text, routing_duration_ms) "
            "VALUES (%s, now(), 'fix the bug', 3.5)",
            (ids["router_performance_metrics"],),
        )
        conn.execute(
            "INSERT INTO agent_detection_failures (event_id, occurred_at, user_prompt, failure_reason, "
            "detection_status) VALUES (%s, now(), 'do it', 'no match', 'no_detection')",
            (ids["agent_detection_failures"],),
        )
        conn.execute(
            "INSERT INTO agent_execution_logs (execution_id, event_id, agent_name, started_at) "
            "VALUES (gen_random_uuid(), %s, 'coder', now())",
            (ids["agent_execution_logs"],),
        )
    return ids


def _event_ids(conn: psycopg.Connection[Any], table: str) -> list[uuid.UUID]:
    with conn.transaction():
        return [row[0] for row in conn.execute(f"SELECT event_id FROM {table}").fetchall()]


def test_rows_survive_the_project_context_round_trip(fresh_url: str, connect: Connect) -> None:
    conn = connect(fresh_url)
    upgrade(conn, to=1)
    ids = _seed_before_project_context(conn)

    upgrade(conn, to=2)
    for table, event_id in ids.items():
        assert _event_ids(conn, table) == [event_id], table
        with conn.transaction():
            row = conn.execute(f"SELECT project_path, project_name, claude_session_id FROM {table}").fetchone()
            assert row == (None, None, None), table
            conn.execute(f"UPDATE {table} SET project_path = '/w/demo', project_name = 'demo'")

    downgrade(conn, to=1)
    for table, event_id in ids.items():
        assert _event_ids(conn, table) == [event_id], table
        assert "project_name" not in _columns(conn, table)

    upgrade(conn, to=2)
    for table, event_id in ids.items():
        assert _event_ids(conn, table) == [event_id], table
        with conn.transaction():
            row = conn.execute(f"SELECT project_path, project_name, claude_session_id FROM {table}").fetchone()
        assert row == (None, None, None), f"{table}: new columns must be NULL after the round trip"
