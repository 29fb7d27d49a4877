"""Every report against the seeded scenario: exact figures, and the same numbers by plain SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from omniclaude import report


@pytest.fixture
def conn(seeded_url: str) -> Iterator[psycopg.Connection[Any]]:
    with report.connect(seeded_url) as connection:
        yield connection


@pytest.fixture
def window(now: datetime) -> report.Window:
    return report.Window(since=now - timedelta(days=7))


def test_the_session_is_read_only(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM claude_hook_events")


def test_sessions_match_the_claude_sessions_view(conn: psycopg.Connection[Any], window: report.Window) -> None:
    rows = {r.claude_session_id: r for r in report.sessions(conn, window)}
    view = {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT claude_session_id, project_name, terminal_id, first_event_at, last_event_at, ended_at,"
            " event_count, prompt_count, tool_call_count, failure_count, subagent_count FROM claude_sessions"
        ).fetchall()
    }
    assert set(rows) == set(view) == {"sess-alpha", "sess-beta"}
    for sid, row in rows.items():
        assert (
            row.project_name,
            row.terminal_id,
            row.first_event_at,
            row.last_event_at,
            row.ended_at,
            row.events,
            row.prompts,
            row.tool_calls,
            row.failures,
            row.subagents,
        ) == view[sid]
    alpha, beta = rows["sess-alpha"], rows["sess-beta"]
    assert (alpha.prompts, alpha.tool_calls, alpha.failures, alpha.subagents, alpha.open) == (1, 4, 1, 1, False)
    assert alpha.duration_s == 13.0
    assert alpha.cost_usd == Decimal("0.013300")
    assert (alpha.lines_added, alpha.lines_removed) == (12, 3)
    assert (beta.prompts, beta.tool_calls, beta.failures, beta.subagents, beta.open) == (1, 1, 0, 0, True)
    assert beta.cost_usd == Decimal("0.002100")
    assert list(rows) == ["sess-beta", "sess-alpha"]  # most recently active first


def test_sessions_filter_by_project_and_window(conn: psycopg.Connection[Any], now: datetime) -> None:
    only = report.sessions(conn, report.Window(since=now - timedelta(days=7), project="demo-app"))
    assert [r.claude_session_id for r in only] == ["sess-alpha"]
    recent = report.sessions(conn, report.Window(since=now - timedelta(hours=1)))
    assert [r.claude_session_id for r in recent] == ["sess-beta"]
    assert (
        report.sessions(conn, report.Window(since=now - timedelta(days=7), limit=1))[0].claude_session_id == "sess-beta"
    )


def test_usage_by_model_matches_sql(conn: psycopg.Connection[Any], window: report.Window) -> None:
    rows = report.usage(conn, window, "model")
    assert [
        (r.key, r.requests, r.input_tokens, r.output_tokens, r.cache_read_input_tokens, r.cost_usd) for r in rows
    ] == [
        ("claude-sonnet-4-5", 2, 1300, 230, 4100, Decimal("0.014400")),
        ("claude-haiku-4-5", 1, 500, 50, 0, Decimal("0.001000")),
    ]
    total = conn.execute("SELECT sum(cost_usd), sum(input_tokens) FROM llm_usage").fetchone()
    assert total == (sum(r.cost_usd for r in rows), sum(r.input_tokens for r in rows))


def test_usage_by_agent_project_and_day(conn: psycopg.Connection[Any], window: report.Window, now: datetime) -> None:
    assert {r.key: r.cost_usd for r in report.usage(conn, window, "agent")} == {
        "main": Decimal("0.014400"),
        "general-purpose": Decimal("0.001000"),
    }
    assert {r.key: r.requests for r in report.usage(conn, window, "project")} == {"demo-app": 2, "other-proj": 1}
    days = report.usage(conn, window, "day")
    assert sum(r.requests for r in days) == 3
    with pytest.raises(ValueError, match="--by must be one of"):
        report.usage(conn, window, "colour")


def test_tools_match_sql(conn: psycopg.Connection[Any], window: report.Window) -> None:
    rows = {r.tool_name: r for r in report.tools(conn, window)}
    assert (rows["Bash"].calls, rows["Bash"].failures, rows["Bash"].failure_rate) == (2, 1, 0.5)
    assert (rows["Bash"].p50_ms, rows["Bash"].p95_ms) == (22.0, pytest.approx(30.1))
    assert (rows["Write"].calls, rows["Write"].failures, rows["Write"].p50_ms) == (1, 0, 18.0)
    assert set(rows) == {"Bash", "Write", "Agent", "Read"}
    by_sql = dict(
        conn.execute(
            "SELECT tool_name, count(*) FROM claude_hook_events"
            " WHERE hook_event_name IN ('PostToolUse', 'PostToolUseFailure') GROUP BY 1"
        ).fetchall()
    )
    assert {name: row.calls for name, row in rows.items()} == by_sql


def test_agents(conn: psycopg.Connection[Any], window: report.Window) -> None:
    rows = {(r.kind, r.name): r for r in report.agents(conn, window)}
    assert set(rows) == {("subagent", "general-purpose"), ("execution", "coder"), ("routing", "coder")}
    sub = rows[("subagent", "general-purpose")]
    assert (sub.runs, sub.successes, sub.failures, sub.avg_duration_ms) == (1, 1, 0, 4000.0)
    run = rows[("execution", "coder")]
    assert (run.runs, run.successes, run.failures, run.avg_duration_ms) == (2, 1, 1, 1200.0)
    route = rows[("routing", "coder")]
    assert (route.runs, route.avg_confidence, route.avg_duration_ms) == (1, 0.9, 12.0)
    decisions = report.routing_decisions(conn, window)
    assert [(d.selected_agent, d.confidence_score) for d in decisions] == [("coder", 0.9)]


def test_failures_newest_first_with_their_session(conn: psycopg.Connection[Any], window: report.Window) -> None:
    rows = report.failures(conn, window)
    assert [(r.kind, r.what, r.claude_session_id) for r in rows] == [
        ("detection", "no_detection", "sess-alpha"),
        ("execution", "coder", "sess-alpha"),
        ("tool", "Bash", "sess-alpha"),
    ]
    assert rows[1].detail == "Timeout: gave up"
    assert rows[2].detail == "Exit code 1"


def test_session_detail_nests_the_subagent(conn: psycopg.Connection[Any]) -> None:
    detail = report.session_detail(conn, "sess-alpha")
    assert detail is not None
    kinds = [item.kind for item in detail.timeline]
    assert kinds.count("subagent") == 1
    block = next(item for item in detail.timeline if isinstance(item, report.SubagentBlock))
    assert (block.agent_id, block.agent_type) == ("ag-1", "general-purpose")
    assert [e.hook_event_name for e in block.events] == ["SubagentStart", "PostToolUse", "SubagentStop"]
    top = [item.hook_event_name for item in detail.timeline if isinstance(item, report.EventRow)]
    assert "PreToolUse" not in top  # every call completed: shown once, by its completion
    failed = [item for item in detail.timeline if isinstance(item, report.EventRow) and item.success is False]
    assert [(e.tool_name, e.duration_ms) for e in failed] == [("Bash", 31)]
    assert next(p.text for p in detail.prompts).startswith("add a changelog <script>")
    assert [u.key for u in detail.usage] == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    assert report.session_detail(conn, "no-such-session") is None


def test_events_after_returns_only_newer_events(conn: psycopg.Connection[Any]) -> None:
    events = report.events_after(conn, "sess-beta")
    assert [e.hook_event_name for e in events] == ["SessionStart", "UserPromptSubmit", "PostToolUse"]
    assert report.events_after(conn, "sess-beta", events[-1].id) == []


def test_overview_and_projects(conn: psycopg.Connection[Any], now: datetime) -> None:
    window = report.Window(since=now - timedelta(days=14))
    data = report.overview(conn, window)
    assert len(data.days) in (15, 16)
    assert (data.sessions, data.finished_calls, data.failures) == (2, 5, 1)
    assert data.cost_usd == Decimal("0.015400")
    assert [s.claude_session_id for s in data.active] == ["sess-beta"]
    projects = {p.project_name: p for p in report.projects(conn, window)}
    assert (projects["demo-app"].sessions, projects["demo-app"].failures) == (1, 1)
    assert projects["demo-app"].cost_usd == Decimal("0.013300")


def test_usage_matches_the_usage_views(conn: psycopg.Connection[Any], window: report.Window) -> None:
    by_model = {
        r.key: (r.requests, r.input_tokens, r.output_tokens, r.cost_usd) for r in report.usage(conn, window, "model")
    }
    view = conn.execute(
        "SELECT model, sum(responses), sum(input_tokens), sum(output_tokens), sum(cost_usd) FROM daily_usage GROUP BY 1"
    ).fetchall()
    assert by_model == {m: (n, i, o, c) for m, n, i, o, c in view}
    by_agent = {r.key: (r.requests, r.cost_usd) for r in report.usage(conn, window, "agent")}
    assert by_agent == dict(
        (a, (n, c)) for a, n, c in conn.execute("SELECT agent_type, responses, cost_usd FROM agent_usage").fetchall()
    )
    sessions = {r.claude_session_id: r for r in report.sessions(conn, window)}
    for sid, lines_added, lines_removed in conn.execute(
        "SELECT claude_session_id, max(lines_added), max(lines_removed) FROM session_usage GROUP BY 1"
    ).fetchall():
        assert (sessions[sid].lines_added, sessions[sid].lines_removed) == (lines_added, lines_removed)
