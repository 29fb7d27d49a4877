"""Every read query of omniclaude, once: typed rows for `omniclaude report` and the dashboard.

Open a read-only session with `connect(url)`, check it with `require_schema(conn)`, then call a report
with a `Window`. Each module's docstring documents the SQL its figures come from.
"""

from __future__ import annotations

from omniclaude.report._db import (
    DatabaseUnreachableError,
    Features,
    ReportError,
    SchemaBehindError,
    connect,
    connect_kwargs,
    features,
    require_schema,
)
from omniclaude.report.agents import AgentRow, RoutingRow, agents, routing_decisions
from omniclaude.report.failures import FailureRow, failures
from omniclaude.report.filters import Window, parse_when
from omniclaude.report.overview import DayRow, Overview, ProjectRow, overview, projects
from omniclaude.report.sessions import (
    EventRow,
    SessionDetail,
    SessionRow,
    SubagentBlock,
    SubagentRow,
    active_sessions,
    events_after,
    has_sessions,
    session,
    session_detail,
    sessions,
)
from omniclaude.report.tools import ToolRow, tools
from omniclaude.report.usage import GROUPS, DailyModelCost, UsageRow, usage

__all__ = [
    "GROUPS",
    "AgentRow",
    "DailyModelCost",
    "DatabaseUnreachableError",
    "DayRow",
    "EventRow",
    "FailureRow",
    "Features",
    "Overview",
    "ProjectRow",
    "ReportError",
    "RoutingRow",
    "SchemaBehindError",
    "SessionDetail",
    "SessionRow",
    "SubagentBlock",
    "SubagentRow",
    "ToolRow",
    "UsageRow",
    "Window",
    "active_sessions",
    "agents",
    "connect",
    "connect_kwargs",
    "events_after",
    "failures",
    "features",
    "has_sessions",
    "overview",
    "parse_when",
    "projects",
    "require_schema",
    "routing_decisions",
    "session",
    "session_detail",
    "sessions",
    "tools",
    "usage",
]
