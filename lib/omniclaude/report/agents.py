"""Agents: subagent types, skill-recorded executions and routing decisions, one row per name.

Figures, each over rows in [since, until):
- kind `subagent` (claude_subagent_rollup by first_event_at): runs = subagents of that agent_type,
  failures = subagents with a failing tool call, avg_duration_ms = mean of last - first event,
  successes = runs - failures;
- kind `execution` (agent_execution_logs by started_at, per agent_name): runs, successes = status
  'success', failures = status 'error', avg_duration_ms = mean duration_ms;
- kind `routing` (agent_routing_decisions by occurred_at, per selected_agent): runs = decisions,
  avg_confidence = mean confidence_score, avg_duration_ms = mean latency_ms.
Ordered by kind, then most runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from omniclaude.report._db import Connection
from omniclaude.report._rows import fetch
from omniclaude.report.filters import Window


@dataclass(frozen=True)
class AgentRow:
    """One subagent type, executing agent or routing target."""

    kind: str
    name: str
    runs: int
    successes: int | None
    failures: int | None
    avg_duration_ms: float | None
    avg_confidence: float | None


_AGENTS_SQL = """
(SELECT 'subagent' AS kind, COALESCE(a.agent_type, '') AS name, count(*) AS runs,
        count(*) FILTER (WHERE a.failure_count = 0) AS successes,
        count(*) FILTER (WHERE a.failure_count > 0) AS failures,
        round(avg(extract(epoch FROM a.last_event_at - a.first_event_at) * 1000), 1)::float8 AS avg_duration_ms,
        NULL::float8 AS avg_confidence
   FROM claude_subagent_rollup AS a
   LEFT JOIN claude_session_rollup AS s ON s.claude_session_id = a.claude_session_id
  WHERE a.first_event_at >= %(since)s AND a.first_event_at < %(until)s
    AND (%(project)s::text IS NULL OR s.project_name = %(project)s)
  GROUP BY 2 ORDER BY runs DESC, name LIMIT %(limit)s)
UNION ALL
(SELECT 'execution', COALESCE(x.agent_name, ''), count(*),
        count(*) FILTER (WHERE x.status = 'success'),
        count(*) FILTER (WHERE x.status = 'error'),
        round(avg(x.duration_ms), 1)::float8,
        NULL::float8
   FROM agent_execution_logs AS x
  WHERE x.started_at >= %(since)s AND x.started_at < %(until)s
    AND (%(project)s::text IS NULL OR x.project_name = %(project)s)
  GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT %(limit)s)
UNION ALL
(SELECT 'routing', r.selected_agent, count(*), NULL::bigint, NULL::bigint,
        round(avg(r.latency_ms), 1)::float8,
        round(avg(r.confidence_score), 4)::float8
   FROM agent_routing_decisions AS r
  WHERE r.occurred_at >= %(since)s AND r.occurred_at < %(until)s
    AND (%(project)s::text IS NULL OR r.project_name = %(project)s)
  GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT %(limit)s)
"""


@dataclass(frozen=True)
class RoutingRow:
    """One routing decision."""

    occurred_at: object
    selected_agent: str
    confidence_score: float
    routing_strategy: str
    latency_ms: int
    user_request: str | None
    reasoning: str | None


_ROUTING_SQL = """
SELECT r.occurred_at, r.selected_agent, r.confidence_score::float8 AS confidence_score, r.routing_strategy,
       r.latency_ms, left(r.user_request, 500) AS user_request, left(r.reasoning, 500) AS reasoning
FROM agent_routing_decisions AS r
WHERE r.occurred_at >= %(since)s AND r.occurred_at < %(until)s
  AND (%(project)s::text IS NULL OR r.project_name = %(project)s)
ORDER BY r.occurred_at DESC
LIMIT %(limit)s
"""


def agents(conn: Connection, window: Window) -> list[AgentRow]:
    """Subagent types, executing agents and routing targets in the window (at most `limit` of each)."""
    return fetch(conn, AgentRow, _AGENTS_SQL, {**window.params, "limit": window.limit})


def routing_decisions(conn: Connection, window: Window) -> list[RoutingRow]:
    """The newest routing decisions in the window, with their confidence."""
    return fetch(conn, RoutingRow, _ROUTING_SQL, {**window.params, "limit": window.limit})
