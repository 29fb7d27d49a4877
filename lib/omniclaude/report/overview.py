"""The overview and the projects: daily series and per-project totals.

Figures, each over [since, until):
- sessions per day: claude_session_rollup rows by the UTC day of first_event_at;
- failure rate per day: claude_tool_daily, failures / (completions + failures) of that day;
- cost per day and model: `usage.cost_per_day_by_model`;
- projects: claude_session_rollup grouped by project_name (sessions active in the window, their
  counts), cost = the project's llm_usage_daily cost over the window's days (see `usage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from psycopg import sql

from omniclaude.report._db import Connection, features
from omniclaude.report._rows import fetch
from omniclaude.report.filters import Window
from omniclaude.report.sessions import SessionRow, active_sessions
from omniclaude.report.usage import DailyModelCost, cost_per_day_by_model


@dataclass(frozen=True)
class DayRow:
    """Sessions started and tool calls finished on one UTC day."""

    day: date
    sessions: int
    finished_calls: int
    failures: int
    failure_rate: float | None


@dataclass(frozen=True)
class Overview:
    """The overview page: daily series, totals and the sessions open now."""

    days: list[DayRow]
    cost_per_day: list[DailyModelCost]
    active: list[SessionRow]
    sessions: int
    finished_calls: int
    failures: int
    cost_usd: Decimal | None


@dataclass(frozen=True)
class ProjectRow:
    """One project's activity in the window."""

    project_name: str
    sessions: int
    events: int
    prompts: int
    tool_calls: int
    failures: int
    last_event_at: datetime
    cost_usd: Decimal | None


_DAYS_SQL = """
WITH started AS (
    SELECT (s.first_event_at AT TIME ZONE 'UTC')::date AS day, count(*) AS sessions
    FROM claude_session_rollup AS s
    WHERE s.first_event_at >= %(since)s AND s.first_event_at < %(until)s
      AND (%(project)s::text IS NULL OR s.project_name = %(project)s)
    GROUP BY 1
), calls AS (
    SELECT t.day, sum(t.completions + t.failures)::bigint AS finished_calls, sum(t.failures)::bigint AS failures
    FROM claude_tool_daily AS t
    WHERE t.day >= (%(since)s AT TIME ZONE 'UTC')::date AND t.day <= (%(until)s AT TIME ZONE 'UTC')::date
      AND (%(project)s::text IS NULL OR t.project_name = %(project)s)
    GROUP BY 1
), days AS (
    SELECT generate_series(
        (%(since)s AT TIME ZONE 'UTC')::date,
        LEAST((%(until)s AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date),
        interval '1 day')::date AS day
)
SELECT d.day, COALESCE(s.sessions, 0) AS sessions, COALESCE(c.finished_calls, 0) AS finished_calls,
       COALESCE(c.failures, 0) AS failures,
       round(c.failures::numeric / NULLIF(c.finished_calls, 0), 4)::float8 AS failure_rate
FROM days AS d
LEFT JOIN started AS s ON s.day = d.day
LEFT JOIN calls AS c ON c.day = d.day
ORDER BY d.day
"""


def overview(conn: Connection, window: Window) -> Overview:
    """The overview of the window: per-day sessions and failure rate, cost by model, open sessions."""
    days = fetch(conn, DayRow, _DAYS_SQL, window.params)
    cost = cost_per_day_by_model(conn, window)
    return Overview(
        days=days,
        cost_per_day=cost,
        active=active_sessions(conn, window),
        sessions=sum(d.sessions for d in days),
        finished_calls=sum(d.finished_calls for d in days),
        failures=sum(d.failures for d in days),
        cost_usd=sum((c.cost_usd for c in cost), Decimal(0)) if features(conn).llm_usage else None,
    )


_PROJECTS_SQL = """
WITH p AS (
    SELECT s.project_name, count(*) AS sessions, sum(s.event_count)::bigint AS events,
           sum(s.prompt_count)::bigint AS prompts, sum(s.tool_call_count)::bigint AS tool_calls,
           sum(s.failure_count)::bigint AS failures, max(s.last_event_at) AS last_event_at
    FROM claude_session_rollup AS s
    WHERE s.last_event_at >= %(since)s AND s.first_event_at < %(until)s
      AND (%(project)s::text IS NULL OR s.project_name = %(project)s)
    GROUP BY 1
    ORDER BY last_event_at DESC
    LIMIT %(limit)s
)
SELECT COALESCE(p.project_name, '') AS project_name, p.sessions, p.events, p.prompts, p.tool_calls,
       p.failures, p.last_event_at, c.cost_usd
FROM p
LEFT JOIN ({cost}) AS c ON c.project_name IS NOT DISTINCT FROM p.project_name
ORDER BY p.last_event_at DESC
"""

_PROJECT_COST = """SELECT NULLIF(u.project_name, '') AS project_name, sum(u.cost_usd) AS cost_usd
    FROM llm_usage_daily AS u
    WHERE u.day >= (%(since)s AT TIME ZONE 'UTC')::date AND u.day <= (%(until)s AT TIME ZONE 'UTC')::date
    GROUP BY 1"""
_NO_COST = "SELECT NULL::text AS project_name, NULL::numeric AS cost_usd WHERE false"


def projects(conn: Connection, window: Window) -> list[ProjectRow]:
    """Projects with sessions active in the window, most recently active first."""
    cost = _PROJECT_COST if features(conn).llm_usage else _NO_COST
    query = sql.SQL(_PROJECTS_SQL).format(cost=sql.SQL(cost))
    return fetch(conn, ProjectRow, query, {**window.params, "limit": window.limit})
