"""Failures: the newest failing tool calls, failed executions and detection failures, newest first.

Figures, each over rows in [since, until):
- kind `tool`: claude_hook_events with hook_event_name PostToolUseFailure; what = tool_name,
  detail = payload->>'error';
- kind `execution`: agent_execution_logs with status 'error' (by started_at); what = agent_name,
  detail = error_type: error_message;
- kind `detection`: agent_detection_failures; what = detection_status, detail = failure_reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omniclaude.report._db import Connection
from omniclaude.report._rows import fetch
from omniclaude.report.filters import Window

DETAIL_PREVIEW = 300


@dataclass(frozen=True)
class FailureRow:
    """One failure and the session it happened in."""

    occurred_at: datetime
    kind: str
    what: str
    detail: str | None
    claude_session_id: str | None
    project_name: str | None


_FAILURES_SQL = """
SELECT * FROM (
  (SELECT e.occurred_at, 'tool' AS kind, COALESCE(e.tool_name, '') AS what,
          left(e.payload->>'error', %(preview)s) AS detail, e.claude_session_id, e.project_name
     FROM claude_hook_events AS e
    WHERE e.hook_event_name = 'PostToolUseFailure'
      AND e.occurred_at >= %(since)s AND e.occurred_at < %(until)s
      AND (%(project)s::text IS NULL OR e.project_name = %(project)s)
    ORDER BY e.occurred_at DESC LIMIT %(limit)s)
  UNION ALL
  (SELECT x.started_at, 'execution', COALESCE(x.agent_name, ''),
          left(concat_ws(': ', x.error_type, x.error_message), %(preview)s), x.claude_session_id, x.project_name
     FROM agent_execution_logs AS x
    WHERE x.status = 'error' AND x.started_at >= %(since)s AND x.started_at < %(until)s
      AND (%(project)s::text IS NULL OR x.project_name = %(project)s)
    ORDER BY x.started_at DESC LIMIT %(limit)s)
  UNION ALL
  (SELECT d.occurred_at, 'detection', d.detection_status, left(d.failure_reason, %(preview)s),
          d.claude_session_id, d.project_name
     FROM agent_detection_failures AS d
    WHERE d.occurred_at >= %(since)s AND d.occurred_at < %(until)s
      AND (%(project)s::text IS NULL OR d.project_name = %(project)s)
    ORDER BY d.occurred_at DESC LIMIT %(limit)s)
) AS f
ORDER BY f.occurred_at DESC, f.kind
LIMIT %(limit)s
"""


def failures(conn: Connection, window: Window) -> list[FailureRow]:
    """The newest failures of every kind in the window, at most `limit`."""
    return fetch(conn, FailureRow, _FAILURES_SQL, {**window.params, "limit": window.limit, "preview": DETAIL_PREVIEW})
