"""The schema's behaviour on seeded data: extract_project_name, agent_activity_realtime,
claude_sessions, the CHECK constraints and idempotent inserts. One database for the module, migrated
by the runner; each test works inside a transaction that is rolled back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from omniclaude.db.migrations import upgrade
from psycopg.rows import dict_row

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "claude-code-2.1.328-session.jsonl"


@pytest.fixture(scope="module")
def migrated(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        upgrade(conn)
    return database_url


@pytest.fixture
def db(migrated: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """A connection inside a transaction that is rolled back after the test."""
    with psycopg.connect(migrated, row_factory=dict_row) as conn:
        yield conn
        conn.rollback()


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/a/b", "b"),
        ("/a/b/", "b"),
        ("b", "b"),
        ("b/", "b"),
        ("/home/dev/projects/demo-app", "demo-app"),
        ("/", None),
        ("", None),
        (None, None),
        ("/a/b//", None),
    ],
)
def test_extract_project_name(db: psycopg.Connection[dict[str, Any]], path: str | None, name: str | None) -> None:
    row = db.execute("SELECT extract_project_name(%s::text) AS name", (path,)).fetchone()
    assert row == {"name": name}


def test_extract_project_name_is_immutable(db: psycopg.Connection[dict[str, Any]]) -> None:
    row = db.execute("SELECT provolatile FROM pg_proc WHERE proname = 'extract_project_name'").fetchone()
    assert row == {"provolatile": "i"}


def _execution(
    db: psycopg.Connection[Any], *, agent: str, started: datetime, correlation_id: str | None, **extra: Any
) -> uuid.UUID:
    execution_id = uuid.uuid4()
    db.execute(
        "INSERT INTO agent_execution_logs (execution_id, event_id, agent_name, started_at, correlation_id, "
        "status, project_name, project_path, claude_session_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            execution_id,
            uuid.uuid4(),
            agent,
            started,
            correlation_id,
            extra.get("status", "in_progress"),
            extra.get("project_name"),
            extra.get("project_path"),
            extra.get("claude_session_id"),
        ),
    )
    return execution_id


def _action(db: psycopg.Connection[Any], correlation_id: str, action_type: str, occurred: datetime) -> None:
    db.execute(
        "INSERT INTO agent_actions (event_id, occurred_at, agent_name, action_type, action_name, "
        "correlation_id) VALUES (%s, %s, 'coder', %s, 'act', %s)",
        (uuid.uuid4(), occurred, action_type, correlation_id),
    )


def test_agent_activity_realtime(db: psycopg.Connection[dict[str, Any]]) -> None:
    now = datetime.now(timezone.utc)
    by_correlation = _execution(
        db,
        agent="coder",
        started=now - timedelta(minutes=10),
        correlation_id="corr-a",
        project_name="demo",
        project_path="/w/demo",
        claude_session_id="session-1",
    )
    for minutes, action_type in ((9, "tool_call"), (8, "tool_call"), (7, "decision")):
        _action(db, "corr-a", action_type, now - timedelta(minutes=minutes))
    by_execution_id = _execution(
        db, agent="reviewer", started=now - timedelta(minutes=5), correlation_id="corr-b", status="error"
    )
    _action(db, str(by_execution_id), "error", now - timedelta(minutes=4))
    _action(db, str(by_execution_id), "success", now - timedelta(minutes=3))
    without_actions = _execution(db, agent="idle", started=now - timedelta(minutes=1), correlation_id=None)
    too_old = _execution(db, agent="old", started=now - timedelta(hours=2), correlation_id="corr-old")
    _action(db, "corr-old", "tool_call", now - timedelta(minutes=2))
    _action(db, "unrelated", "tool_call", now - timedelta(minutes=2))

    rows = {row["execution_id"]: row for row in db.execute("SELECT * FROM agent_activity_realtime").fetchall()}

    assert set(rows) == {by_correlation, by_execution_id, without_actions}
    assert too_old not in rows
    a = rows[by_correlation]
    assert (a["project_name"], a["project_path"], a["claude_session_id"], a["agent_name"], a["status"]) == (
        "demo",
        "/w/demo",
        "session-1",
        "coder",
        "in_progress",
    )
    assert (
        a["action_count"],
        a["tool_call_count"],
        a["decision_count"],
        a["error_count"],
        a["success_count"],
    ) == (
        3,
        2,
        1,
        0,
        0,
    )
    assert a["action_types"] == ["decision", "tool_call"]
    assert abs((a["last_action_at"] - (now - timedelta(minutes=7))).total_seconds()) < 1e-3
    b = rows[by_execution_id]
    assert (b["action_count"], b["error_count"], b["success_count"], b["status"]) == (2, 1, 1, "error")
    assert b["action_types"] == ["error", "success"]
    c = rows[without_actions]
    assert (
        c["action_count"],
        c["tool_call_count"],
        c["decision_count"],
        c["error_count"],
        c["success_count"],
    ) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert c["action_types"] == []
    assert c["last_action_at"] is None


def _seed_fixture_session(db: psycopg.Connection[Any]) -> tuple[str, list[datetime]]:
    """Inserts the recorded Claude Code session (tests/fixtures) as hook-event rows, as the consumer would."""
    times: list[datetime] = []
    session = ""
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        hook = record["stdin"]
        occurred = datetime.fromtimestamp(record["received_at"], timezone.utc)
        times.append(occurred)
        session = hook["session_id"]
        name = hook["hook_event_name"]
        success = {"PostToolUse": True, "PostToolUseFailure": False}.get(name)
        project = record["env"].get("CLAUDE_PROJECT_DIR")
        db.execute(
            "INSERT INTO claude_hook_events (event_id, hook_event_name, occurred_at, claude_session_id, "
            "prompt_id, tool_use_id, tool_name, agent_id, agent_type, success, duration_ms, project_path, "
            "project_name, working_directory, terminal_id, host, payload) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, extract_project_name(%s), "
            "%s, %s, %s, %s)",
            (
                uuid.uuid4(),
                name,
                occurred,
                session,
                hook.get("prompt_id"),
                hook.get("tool_use_id"),
                hook.get("tool_name"),
                hook.get("agent_id"),
                hook.get("agent_type"),
                success,
                hook.get("duration_ms"),
                project,
                project,
                hook.get("cwd"),
                "tty-1",
                "devbox",
                json.dumps(hook),
            ),
        )
    return session, times


def test_claude_sessions(db: psycopg.Connection[dict[str, Any]]) -> None:
    session, times = _seed_fixture_session(db)
    quiet = datetime(2026, 1, 1, tzinfo=timezone.utc)
    db.execute(
        "INSERT INTO claude_hook_events (event_id, hook_event_name, occurred_at, claude_session_id, payload) "
        "VALUES (%s, 'SessionStart', %s, 'quiet-session', '{}')",
        (uuid.uuid4(), quiet),
    )
    db.execute(
        "INSERT INTO claude_hook_events (event_id, hook_event_name, occurred_at, payload) "
        "VALUES (%s, 'Notification', %s, '{}')",
        (uuid.uuid4(), quiet),
    )  # no session: not in the view

    rows = {row["claude_session_id"]: row for row in db.execute("SELECT * FROM claude_sessions").fetchall()}

    assert set(rows) == {session, "quiet-session"}
    s = rows[session]
    assert (s["project_name"], s["project_path"], s["terminal_id"], s["host"]) == (
        "demo-app",
        "/home/dev/projects/demo-app",
        "tty-1",
        "devbox",
    )
    assert (s["first_event_at"], s["last_event_at"], s["ended_at"]) == (min(times), max(times), times[-1])
    assert (
        s["event_count"],
        s["prompt_count"],
        s["tool_call_count"],
        s["failure_count"],
        s["subagent_count"],
    ) == (
        29,
        2,
        7,
        1,
        1,
    )
    q = rows["quiet-session"]
    assert (
        q["event_count"],
        q["prompt_count"],
        q["tool_call_count"],
        q["failure_count"],
        q["subagent_count"],
    ) == (
        1,
        0,
        0,
        0,
        0,
    )
    assert (q["project_name"], q["ended_at"], q["first_event_at"]) == (None, None, quiet)


def test_session_in_order_uses_its_index(db: psycopg.Connection[dict[str, Any]]) -> None:
    db.execute("SET LOCAL enable_seqscan = off")
    plan = db.execute(
        "EXPLAIN SELECT * FROM claude_hook_events WHERE claude_session_id = 's' ORDER BY occurred_at"
    ).fetchall()
    assert "claude_hook_events_session_occurred_at_idx" in " ".join(r["QUERY PLAN"] for r in plan)
    plan = db.execute(
        "EXPLAIN SELECT * FROM claude_hook_events WHERE project_name = 'p' ORDER BY occurred_at DESC LIMIT 10"
    ).fetchall()
    assert "claude_hook_events_project_name_occurred_at_idx" in " ".join(r["QUERY PLAN"] for r in plan)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO agent_actions (event_id, occurred_at, agent_name, action_type, action_name) "
        "VALUES (gen_random_uuid(), now(), 'a', 'guess', 'x')",
        "INSERT INTO agent_actions (event_id, occurred_at, agent_name, action_type, action_name, "
        "duration_ms) VALUES (gen_random_uuid(), now(), 'a', 'decision', 'x', -1)",
        "INSERT INTO agent_routing_decisions (event_id, occurred_at, selected_agent, confidence_score, "
        "routing_strategy, latency_ms) VALUES (gen_random_uuid(), now(), 'a', 1.5, 's', 1)",
        "INSERT INTO agent_routing_decisions (event_id, occurred_at, selected_agent, confidence_score, "
        "routing_strategy, latency_ms) VALUES (gen_random_uuid(), now(), 'a', -0.1, 's', 1)",
        "INSERT INTO agent_transformation_events (event_id, occurred_at, source_agent, target_agent, "
        "confidence_score) VALUES (gen_random_uuid(), now(), 'a', 'b', 1.0001)",
        "INSERT INTO router_performance_metrics (event_id, occurred_at, query_text, routing_duration_ms) "
        "VALUES (gen_random_uuid(), now(), 'q', -1)",
        "INSERT INTO agent_detection_failures (event_id, occurred_at, user_prompt, failure_reason, "
        "detection_status) VALUES (gen_random_uuid(), now(), 'p', 'r', 'confused')",
        "INSERT INTO agent_detection_failures (event_id, occurred_at, user_prompt, failure_reason, "
        "detection_status, detected_confidence) VALUES (gen_random_uuid(), now(), 'p', 'r', 'timeout', 2)",
        "INSERT INTO agent_execution_logs (execution_id, event_id, status) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), 'done')",
        "INSERT INTO agent_execution_logs (execution_id, event_id, quality_score) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), 1.2)",
        "INSERT INTO agent_execution_logs (execution_id, event_id, progress_percent) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), 101)",
    ],
)
def test_checks_reject_out_of_range_values(db: psycopg.Connection[dict[str, Any]], statement: str) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(statement.encode())


def test_in_range_values_are_accepted(db: psycopg.Connection[dict[str, Any]]) -> None:
    for action_type in ("tool_call", "decision", "error", "success"):
        db.execute(
            "INSERT INTO agent_actions (event_id, occurred_at, agent_name, action_type, action_name) "
            "VALUES (gen_random_uuid(), now(), 'a', %s, 'x')",
            (action_type,),
        )
    for status in ("no_detection", "low_confidence", "wrong_agent", "timeout", "error"):
        db.execute(
            "INSERT INTO agent_detection_failures (event_id, occurred_at, user_prompt, failure_reason, "
            "detection_status, detected_confidence) VALUES (gen_random_uuid(), now(), 'p', 'r', %s, 1)",
            (status,),
        )
    for status in ("in_progress", "success", "error", "cancelled"):
        db.execute(
            "INSERT INTO agent_execution_logs (execution_id, event_id, status, quality_score, "
            "progress_percent) VALUES (gen_random_uuid(), gen_random_uuid(), %s, 0, 100)",
            (status,),
        )
    row = db.execute("SELECT status, metadata FROM agent_execution_logs LIMIT 1").fetchone()
    assert row is not None and row["metadata"] == {}


def test_the_same_event_inserted_twice_is_stored_once(db: psycopg.Connection[dict[str, Any]]) -> None:
    event_id = uuid.uuid4()
    for _ in range(2):
        db.execute(
            "INSERT INTO agent_actions (event_id, occurred_at, agent_name, action_type, action_name) "
            "VALUES (%s, now(), 'a', 'success', 'x') ON CONFLICT (event_id) DO NOTHING",
            (event_id,),
        )
    row = db.execute("SELECT count(*) AS n FROM agent_actions WHERE event_id = %s", (event_id,)).fetchone()
    assert row == {"n": 1}
