"""Sessions: the list (`sessions`), one session in detail (`session_detail`), and its newest events
(`events_after`, what the dashboard polls).

Figures (documented SQL: `claude_session_rollup` and `claude_subagent_rollup`, migration 0005, which
hold the claude_sessions view's counts; cost is SUM(llm_usage.cost_usd) of the session; lines changed
come from the usage work's `session_usage` view when it has them):
- duration_s: (ended_at, else last_event_at) - first_event_at; open: no SessionEnd yet;
- prompts: UserPromptSubmit; tool_calls: PreToolUse; failures: PostToolUseFailure; subagents: distinct
  agent_id.
A session is in the window when it has events in [since, until): first_event_at < until and
last_event_at >= since.

The timeline of a session lists its events in order, a tool call once (its PostToolUse or
PostToolUseFailure, with duration and outcome; a PreToolUse only while no completion arrived), and the
events of each subagent nested in one block where the subagent first appears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from psycopg import sql

from omniclaude.report._db import Connection, features
from omniclaude.report._rows import fetch, fetch_one
from omniclaude.report.filters import Window
from omniclaude.report.usage import UsageRow, session_usage

EVENT_LIMIT = 2000
TEXT_PREVIEW = 2000


@dataclass(frozen=True)
class SessionRow:
    """One Claude session."""

    claude_session_id: str
    project_name: str | None
    terminal_id: str | None
    host: str | None
    first_event_at: datetime
    last_event_at: datetime
    ended_at: datetime | None
    duration_s: float
    open: bool
    events: int
    prompts: int
    tool_calls: int
    failures: int
    subagents: int
    cost_usd: Decimal | None
    lines_added: int | None
    lines_removed: int | None

    @property
    def lines_changed(self) -> str | None:
        """`+added -removed`, or None when the database records no code changes."""
        return None if self.lines_added is None else f"+{self.lines_added} -{self.lines_removed}"


@dataclass(frozen=True)
class EventRow:
    """One hook event of a session, as the timeline shows it."""

    id: int
    occurred_at: datetime
    hook_event_name: str
    tool_name: str | None
    agent_id: str | None
    agent_type: str | None
    success: bool | None
    duration_ms: int | None
    text: str | None
    kind: str = "event"


@dataclass(frozen=True)
class SubagentBlock:
    """The events of one subagent, nested in its session's timeline."""

    agent_id: str
    agent_type: str | None
    events: list[EventRow] = field(default_factory=list)
    kind: str = "subagent"


@dataclass(frozen=True)
class SubagentRow:
    """A subagent of a session: its type, time span and counts."""

    agent_id: str
    agent_type: str | None
    first_event_at: datetime
    last_event_at: datetime
    events: int
    tool_calls: int
    failures: int


@dataclass(frozen=True)
class SessionDetail:
    """One session: its figures, timeline, subagents, prompts and usage."""

    session: SessionRow
    timeline: list[EventRow | SubagentBlock]
    subagents: list[SubagentRow]
    prompts: list[EventRow]
    usage: list[UsageRow]
    last_event_id: int
    truncated: bool


def _session_sql(conn: Connection, where: str, tail: str) -> sql.Composed:
    have = features(conn)
    cost = "(SELECT sum(u.cost_usd) FROM llm_usage AS u WHERE u.claude_session_id = s.claude_session_id)"
    # session_usage repeats the session's line counts on each of its model rows: max, not sum.
    lines = "(SELECT max(v.{0})::bigint FROM session_usage AS v WHERE v.claude_session_id = s.claude_session_id)"
    return sql.SQL(
        """
SELECT s.claude_session_id, s.project_name, s.terminal_id, s.host, s.first_event_at, s.last_event_at,
       s.ended_at,
       extract(epoch FROM COALESCE(s.ended_at, s.last_event_at) - s.first_event_at)::float8 AS duration_s,
       s.ended_at IS NULL AS open,
       s.event_count AS events, s.prompt_count AS prompts, s.tool_call_count AS tool_calls,
       s.failure_count AS failures,
       (SELECT count(*) FROM claude_subagent_rollup AS a WHERE a.claude_session_id = s.claude_session_id)
           AS subagents,
       {cost} AS cost_usd, {added} AS lines_added, {removed} AS lines_removed
FROM claude_session_rollup AS s
WHERE {where}
{tail}"""
    ).format(
        cost=sql.SQL(cost if have.llm_usage else "NULL::numeric"),
        added=sql.SQL(lines.format("lines_added") if have.session_usage_lines else "NULL::bigint"),
        removed=sql.SQL(lines.format("lines_removed") if have.session_usage_lines else "NULL::bigint"),
        where=sql.SQL(where),
        tail=sql.SQL(tail),
    )


_OF_PROJECT = " AND (%(project)s::text IS NULL OR s.project_name = %(project)s)"
_NEWEST_FIRST = "ORDER BY s.last_event_at DESC, s.claude_session_id LIMIT %(limit)s"


def _newest(conn: Connection, where: str, window: Window, **params: object) -> list[SessionRow]:
    query = _session_sql(conn, where + _OF_PROJECT, _NEWEST_FIRST)
    return fetch(conn, SessionRow, query, {**window.params, "limit": window.limit, **params})


def sessions(conn: Connection, window: Window) -> list[SessionRow]:
    """The sessions active in the window, most recently active first."""
    return _newest(conn, "s.last_event_at >= %(since)s AND s.first_event_at < %(until)s", window)


def session(conn: Connection, claude_session_id: str) -> SessionRow | None:
    """One session's figures, or None when the database has no event of it."""
    query = _session_sql(conn, "s.claude_session_id = %(id)s", "")
    return fetch_one(conn, SessionRow, query, {"id": claude_session_id})


_EVENTS_SQL = """
WITH s AS MATERIALIZED (
    SELECT h.id, h.occurred_at, h.hook_event_name, h.tool_name, h.tool_use_id, h.agent_id, h.agent_type,
           h.success, h.duration_ms
    FROM claude_hook_events AS h
    WHERE h.claude_session_id = %(id)s
), done AS (
    SELECT DISTINCT s.tool_use_id FROM s
    WHERE s.hook_event_name IN ('PostToolUse', 'PostToolUseFailure') AND s.tool_use_id IS NOT NULL
), shown AS (
    SELECT s.* FROM s
    WHERE s.id > %(after)s AND s.hook_event_name <> 'PostToolBatch'
      AND NOT (s.hook_event_name = 'PreToolUse' AND s.tool_use_id IN (SELECT d.tool_use_id FROM done AS d))
    ORDER BY s.occurred_at, s.id
    LIMIT %(limit)s
)
SELECT shown.id, shown.occurred_at, shown.hook_event_name, shown.tool_name, shown.agent_id, shown.agent_type,
       shown.success, shown.duration_ms,
       left(COALESCE(
           e.payload->>'prompt',
           e.payload->>'error',
           e.payload->'tool_input'->>'command',
           e.payload->'tool_input'->>'file_path',
           e.payload->'tool_input'->>'description',
           e.payload->'tool_input'->>'pattern',
           e.payload->'tool_input'->>'skill',
           e.payload->'tool_input'->>'url',
           e.payload->>'last_assistant_message',
           e.payload->>'message',
           e.payload->>'source',
           e.payload->>'reason'), %(preview)s) AS text
FROM shown
JOIN claude_hook_events AS e ON e.id = shown.id
ORDER BY shown.occurred_at, shown.id
"""


def events_after(
    conn: Connection, claude_session_id: str, after_id: int = 0, limit: int = EVENT_LIMIT
) -> list[EventRow]:
    """The session's timeline events with an id above `after_id`, in order (tool calls once each)."""
    return fetch(
        conn,
        EventRow,
        _EVENTS_SQL,
        {"id": claude_session_id, "after": after_id, "limit": limit, "preview": TEXT_PREVIEW},
    )


_PROMPTS_SQL = """
SELECT e.id, e.occurred_at, e.hook_event_name, e.tool_name, e.agent_id, e.agent_type, e.success,
       e.duration_ms, left(e.payload->>'prompt', %(preview)s) AS text
FROM claude_hook_events AS e
WHERE e.claude_session_id = %(id)s AND e.hook_event_name = 'UserPromptSubmit'
ORDER BY e.occurred_at, e.id
LIMIT 500
"""

_SUBAGENTS_SQL = """
SELECT a.agent_id, a.agent_type, a.first_event_at, a.last_event_at, a.event_count AS events,
       a.tool_call_count AS tool_calls, a.failure_count AS failures
FROM claude_subagent_rollup AS a
WHERE a.claude_session_id = %(id)s
ORDER BY a.first_event_at, a.agent_id
"""


def nest(events: list[EventRow]) -> list[EventRow | SubagentBlock]:
    """The timeline: events in order, each subagent's events in one block where it first appears."""
    timeline: list[EventRow | SubagentBlock] = []
    blocks: dict[str, SubagentBlock] = {}
    for event in events:
        if event.agent_id is None:
            timeline.append(event)
            continue
        block = blocks.get(event.agent_id)
        if block is None:
            block = blocks[event.agent_id] = SubagentBlock(event.agent_id, event.agent_type)
            timeline.append(block)
        block.events.append(event)
    return timeline


def session_detail(conn: Connection, claude_session_id: str) -> SessionDetail | None:
    """Everything the session page shows, or None for an unknown session."""
    row = session(conn, claude_session_id)
    if row is None:
        return None
    events = events_after(conn, claude_session_id)
    return SessionDetail(
        session=row,
        timeline=nest(events),
        subagents=fetch(conn, SubagentRow, _SUBAGENTS_SQL, {"id": claude_session_id}),
        prompts=fetch(conn, EventRow, _PROMPTS_SQL, {"id": claude_session_id, "preview": TEXT_PREVIEW}),
        usage=session_usage(conn, claude_session_id),
        last_event_id=max((e.id for e in events), default=0),
        truncated=len(events) >= EVENT_LIMIT,
    )


ACTIVE_MINUTES = 15


def active_sessions(conn: Connection, window: Window) -> list[SessionRow]:
    """Open sessions (no SessionEnd) with an event in the last 15 minutes, newest first."""
    where = "s.ended_at IS NULL AND s.last_event_at >= now() - make_interval(mins => %(minutes)s)"
    return _newest(conn, where, window, minutes=ACTIVE_MINUTES)


def has_sessions(conn: Connection) -> bool:
    """True once the database holds any Claude session."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM claude_session_rollup)").fetchone()
    return bool(row and row[0])
