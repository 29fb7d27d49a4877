"""Migration 0005's rollups equal the views and sums they stand for, statement after statement,
re-deliveries included; its down removes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
from omniclaude.db.migrations import downgrade, upgrade

from tests.omniclaude.report.scenario import Session, insert_hook_events, seed_scenario

SESSION_FIGURES = (
    "project_name, terminal_id, host, first_event_at, last_event_at, ended_at, event_count, prompt_count,"
    " tool_call_count, failure_count"
)


def _sessions_match(conn: psycopg.Connection[Any]) -> None:
    view = conn.execute(
        f"SELECT claude_session_id, {SESSION_FIGURES}, subagent_count FROM claude_sessions ORDER BY 1"
    ).fetchall()
    rollup = conn.execute(
        f"SELECT s.claude_session_id, {SESSION_FIGURES},"
        " (SELECT count(*) FROM claude_subagent_rollup a WHERE a.claude_session_id = s.claude_session_id)"
        " FROM claude_session_rollup s ORDER BY 1"
    ).fetchall()
    assert rollup == view


def test_rollups_follow_every_insert_and_ignore_redeliveries(conn: psycopg.Connection[Any]) -> None:
    upgrade(conn)
    now = datetime.now(timezone.utc)
    seed_scenario(conn, now)
    _sessions_match(conn)
    late = Session("sess-alpha", "demo-app", now)
    late.tool("Read", "toolu_9", 7, agent=("ag-2", "Explore"))
    insert_hook_events(conn, late.rows)
    insert_hook_events(conn, late.rows)  # a re-delivery: ON CONFLICT DO NOTHING, nothing counted twice
    conn.commit()
    _sessions_match(conn)
    daily = conn.execute("SELECT sum(calls), sum(completions), sum(failures) FROM claude_tool_daily").fetchone()
    raw = conn.execute(
        "SELECT count(*) FILTER (WHERE hook_event_name = 'PreToolUse'),"
        " count(*) FILTER (WHERE hook_event_name = 'PostToolUse'),"
        " count(*) FILTER (WHERE hook_event_name = 'PostToolUseFailure')"
        " FROM claude_hook_events WHERE tool_name IS NOT NULL"
    ).fetchone()
    assert daily == raw == (6, 5, 1)
    usage = conn.execute("SELECT sum(requests), sum(input_tokens), sum(cost_usd) FROM llm_usage_daily").fetchone()
    assert usage == conn.execute("SELECT count(*), sum(input_tokens), sum(cost_usd) FROM llm_usage").fetchone()


def test_the_upgrade_backfills_and_the_down_removes(conn: psycopg.Connection[Any]) -> None:
    upgrade(conn, to=4)
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    session = Session("sess-old", "legacy", start)
    session.event("SessionStart", source="startup")
    session.tool("Bash", "toolu_1", 5, ok=False)
    insert_hook_events(conn, session.rows)
    conn.commit()
    upgrade(conn)
    _sessions_match(conn)
    assert conn.execute("SELECT tool_name, failures FROM claude_tool_daily").fetchall() == [("Bash", 1)]
    conn.commit()
    downgrade(conn, to=4)
    left = conn.execute(
        "SELECT count(*) FROM pg_class WHERE relname IN ('claude_session_rollup', 'claude_subagent_rollup',"
        " 'claude_tool_daily', 'llm_usage_daily', 'claude_hook_events_tool_done_idx')"
    ).fetchone()
    assert left == (0,)
    assert conn.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").fetchone() == (0,)
