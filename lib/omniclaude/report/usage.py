"""Tokens and cost, grouped by day, project, model, agent or session.

Figures: sums of the usage work's `llm_usage` rows (the same sums as its `daily_usage` and
`agent_usage` views), counted by whole UTC days: from the day of `since` to the day of `until`, both
included. They are read from `llm_usage_daily` (migration 0005, kept by trigger); by session they are
summed from `llm_usage` itself over [since, until). `agent` is the agent_type, `main` for the
session's own turns. Without an `llm_usage` table the reports return no rows and `recorded(conn)` is
False.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from psycopg import sql

from omniclaude.report._db import Connection, features
from omniclaude.report._rows import fetch
from omniclaude.report.filters import Window

GROUPS: dict[str, str] = {
    "day": "to_char(u.day, 'YYYY-MM-DD')",
    "project": "u.project_name",
    "model": "u.model",
    "agent": "COALESCE(NULLIF(u.agent_type, ''), 'main')",
    "session": "COALESCE(u.claude_session_id, '')",
}


@dataclass(frozen=True)
class UsageRow:
    """Tokens and cost of one group."""

    key: str
    requests: int
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True)
class DailyModelCost:
    """Cost of one model on one UTC day."""

    day: date
    model: str
    cost_usd: Decimal


_SUMS = """count(*) AS requests,
       COALESCE(sum(u.input_tokens), 0)::bigint AS input_tokens,
       COALESCE(sum(u.output_tokens), 0)::bigint AS output_tokens,
       COALESCE(sum(u.cache_creation_input_tokens), 0)::bigint AS cache_creation_input_tokens,
       COALESCE(sum(u.cache_read_input_tokens), 0)::bigint AS cache_read_input_tokens,
       COALESCE(sum(u.cost_usd), 0)::numeric(14, 6) AS cost_usd"""

_IN_WINDOW = """u.occurred_at >= %(since)s AND u.occurred_at < %(until)s
  AND (%(project)s::text IS NULL OR u.project_name = %(project)s)"""

_IN_DAYS = """u.day >= (%(since)s AT TIME ZONE 'UTC')::date AND u.day <= (%(until)s AT TIME ZONE 'UTC')::date
  AND (%(project)s::text IS NULL OR u.project_name = %(project)s)"""

_DAILY_SUMS = """sum(u.requests)::bigint AS requests, sum(u.input_tokens)::bigint AS input_tokens,
       sum(u.output_tokens)::bigint AS output_tokens,
       sum(u.cache_creation_input_tokens)::bigint AS cache_creation_input_tokens,
       sum(u.cache_read_input_tokens)::bigint AS cache_read_input_tokens,
       sum(u.cost_usd)::numeric(14, 6) AS cost_usd"""


def recorded(conn: Connection) -> bool:
    """True when the database has the usage work's `llm_usage` table."""
    return features(conn).llm_usage


def usage(conn: Connection, window: Window, by: str = "day") -> list[UsageRow]:
    """Tokens and cost per `by` group (day, project, model, agent, session); days in order, else costliest."""
    if by not in GROUPS:
        raise ValueError(f"--by must be one of {', '.join(GROUPS)}")
    if not recorded(conn):
        return []
    order = "key" if by == "day" else "cost_usd DESC, key"
    daily = by != "session"
    query = sql.SQL(
        "SELECT {key} AS key, {sums} FROM {table} AS u WHERE {where} GROUP BY 1 ORDER BY {order} LIMIT %(limit)s"
    ).format(
        key=sql.SQL(GROUPS[by]),
        sums=sql.SQL(_DAILY_SUMS if daily else _SUMS),
        table=sql.Identifier("llm_usage_daily" if daily else "llm_usage"),
        where=sql.SQL(_IN_DAYS if daily else _IN_WINDOW),
        order=sql.SQL(order),
    )
    return fetch(conn, UsageRow, query, {**window.params, "limit": window.limit})


def session_usage(conn: Connection, claude_session_id: str) -> list[UsageRow]:
    """Tokens and cost of one session per model, costliest first."""
    if not recorded(conn):
        return []
    query = sql.SQL(
        "SELECT COALESCE(u.model, '') AS key, {sums} FROM llm_usage AS u WHERE u.claude_session_id = %(id)s"
        " GROUP BY 1 ORDER BY cost_usd DESC, key"
    ).format(sums=sql.SQL(_SUMS))
    return fetch(conn, UsageRow, query, {"id": claude_session_id})


def cost_per_day_by_model(conn: Connection, window: Window) -> list[DailyModelCost]:
    """Cost per UTC day and model in the window, oldest day first."""
    if not recorded(conn):
        return []
    query = sql.SQL(
        "SELECT u.day, u.model, sum(u.cost_usd)::numeric(14, 6) AS cost_usd"
        " FROM llm_usage_daily AS u WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2"
    ).format(where=sql.SQL(_IN_DAYS))
    return fetch(conn, DailyModelCost, query, window.params)
