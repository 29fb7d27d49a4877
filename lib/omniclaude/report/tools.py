"""Tools: finished calls, failures and latency per tool.

Figures: over claude_hook_events rows whose hook_event_name is PostToolUse or PostToolUseFailure and
whose occurred_at is in [since, until), one tool at a time (the tools come from claude_tool_daily, the
rows from the partial index claude_hook_events_tool_done_idx, migration 0005): calls = count,
failures = PostToolUseFailure count, failure_rate = failures / calls, p50_ms and p95_ms =
percentile_cont(0.5 / 0.95) of duration_ms (NULL when no call reported a duration).
Most called first.
"""

from __future__ import annotations

from dataclasses import dataclass

from omniclaude.report._db import Connection
from omniclaude.report._rows import fetch
from omniclaude.report.filters import Window


@dataclass(frozen=True)
class ToolRow:
    """Calls, failures and latency of one tool."""

    tool_name: str
    calls: int
    failures: int
    failure_rate: float
    p50_ms: float | None
    p95_ms: float | None


_TOOLS_SQL = """
SELECT t.tool_name, x.calls, x.failures,
       round(x.failures::numeric / x.calls, 4)::float8 AS failure_rate, x.p[1] AS p50_ms, x.p[2] AS p95_ms
FROM (
    SELECT DISTINCT d.tool_name FROM claude_tool_daily AS d
    WHERE d.day >= (%(since)s AT TIME ZONE 'UTC')::date AND d.day <= (%(until)s AT TIME ZONE 'UTC')::date
      AND (%(project)s::text IS NULL OR d.project_name = %(project)s)
) AS t
CROSS JOIN LATERAL (
    SELECT count(*) AS calls,
           count(*) FILTER (WHERE e.hook_event_name = 'PostToolUseFailure') AS failures,
           percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY e.duration_ms) AS p
    FROM claude_hook_events AS e
    WHERE e.tool_name = t.tool_name
      AND e.hook_event_name IN ('PostToolUse', 'PostToolUseFailure')
      AND e.occurred_at >= %(since)s AND e.occurred_at < %(until)s
      AND (%(project)s::text IS NULL OR e.project_name = %(project)s)
) AS x
WHERE x.calls > 0
ORDER BY x.calls DESC, t.tool_name
LIMIT %(limit)s
"""


def tools(conn: Connection, window: Window) -> list[ToolRow]:
    """Per tool: finished calls, failures, failure rate, p50/p95 latency in ms."""
    return fetch(conn, ToolRow, _TOOLS_SQL, {**window.params, "limit": window.limit})
