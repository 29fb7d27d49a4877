"""`omniclaude report`: what agents did, read from PostgreSQL through a read-only session.

Usage:
    omniclaude report sessions  [--since 7d] [--until T] [--project P] [--limit N] [--format F]
    omniclaude report usage     [--by day|project|model|agent|session] [...]
    omniclaude report tools     [...]
    omniclaude report agents    [...]
    omniclaude report failures  [...]

--since/--until take a duration before now (7d, 12h, 30m) or an ISO date/time (UTC unless it says
otherwise); the window is [since, until). --format table (default, fits 80 columns), json (stable:
{"report": NAME, "rows": [...]}) or csv. The database is --database-url, else the `database_url`
setting (OMNICLAUDE_DATABASE_URL). Each figure's SQL is documented in omniclaude.report.<name>.

Exit status: 0 done (also for no rows); 1 the database is unreachable or behind on migrations (one
line on stderr says what to do); 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omniclaude.report._db import Connection

COLUMNS: dict[str, list[tuple[str, str]]] = {
    "sessions": [
        ("claude_session_id", "session"),
        ("project_name", "project"),
        ("terminal_id", "terminal"),
        ("duration_s", "time"),
        ("prompts", "prompts"),
        ("tool_calls", "tools"),
        ("failures", "fail"),
        ("cost_usd", "$"),
        ("lines_changed", "lines"),
    ],
    "usage": [
        ("key", "group"),
        ("requests", "requests"),
        ("input_tokens", "input"),
        ("output_tokens", "output"),
        ("cache_read_input_tokens", "cache read"),
        ("cache_creation_input_tokens", "cache write"),
        ("cost_usd", "$"),
    ],
    "tools": [
        ("tool_name", "tool"),
        ("calls", "calls"),
        ("failures", "failures"),
        ("failure_rate", "fail %"),
        ("p50_ms", "p50 ms"),
        ("p95_ms", "p95 ms"),
    ],
    "agents": [
        ("kind", "kind"),
        ("name", "name"),
        ("runs", "runs"),
        ("successes", "ok"),
        ("failures", "failed"),
        ("avg_duration_ms", "avg ms"),
        ("avg_confidence", "confidence"),
    ],
    "failures": [
        ("occurred_at", "when"),
        ("kind", "kind"),
        ("what", "what"),
        ("claude_session_id", "session"),
        ("project_name", "project"),
        ("detail", "detail"),
    ],
}

EMPTY = {
    "sessions": "no sessions in this window: is the consumer running (omniclaude doctor)? try --since 30d",
    "usage": "no token usage recorded in this window",
    "tools": "no tool calls in this window",
    "agents": "no subagents, executions or routing decisions in this window",
    "failures": "no failures in this window",
}


def _rows(name: str, conn: Connection, args: argparse.Namespace) -> Sequence[Any]:
    from omniclaude import report

    window = report.Window(since=args.since, until=args.until, project=args.project, limit=args.limit)
    calls: dict[str, Callable[[], Sequence[Any]]] = {
        "sessions": lambda: report.sessions(conn, window),
        "usage": lambda: report.usage(conn, window, args.by),
        "tools": lambda: report.tools(conn, window),
        "agents": lambda: report.agents(conn, window),
        "failures": lambda: report.failures(conn, window),
    }
    return calls[name]()


def _run(args: argparse.Namespace) -> int:
    from omniclaude.report import ReportError, connect, require_schema
    from omniclaude.report.render import to_json, write_csv, write_table

    name: str = args.report
    try:
        url = args.database_url or _settings_url()
        with connect(url) as conn:
            require_schema(conn)
            rows = _rows(name, conn, args)
    except ValueError as exc:
        print(f"omniclaude report: {exc}", file=sys.stderr)
        return 2
    except ReportError as exc:
        print(f"omniclaude report: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(to_json(name, rows))
    elif args.format == "csv":
        write_csv(rows, sys.stdout)
    elif rows:
        title = f"{name} by {args.by}" if name == "usage" else name
        write_table(rows, COLUMNS[name], title, sys.stdout)
    else:
        print(EMPTY[name])
    return 0


def _settings_url() -> str | None:
    from omniclaude.config import load_settings

    return load_settings().database_url


def _when(text: str) -> Any:
    from omniclaude.report.filters import parse_when

    try:
        return parse_when(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise argparse.ArgumentTypeError(f"not a number between 1 and 10000: {text!r}")
    return int(text)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `report` and its five reports."""
    parser = subparsers.add_parser(
        "report",
        help="sessions, usage, tools, agents and failures from the database",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--since", type=_when, default="7d", metavar="T", help="start: 7d, 12h or a date (default 7d)")
    common.add_argument("--until", type=_when, metavar="T", help="end (default: now)")
    common.add_argument("--project", metavar="NAME", help="only this project")
    common.add_argument("--limit", type=_limit, default=50, metavar="N", help="at most N rows (default 50)")
    common.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    common.add_argument("--database-url", metavar="URL", help="PostgreSQL URL (default: the database_url setting)")
    reports = parser.add_subparsers(dest="report", metavar="REPORT")
    helps = {
        "sessions": "sessions: duration, prompts, tool calls, failures, cost, lines changed",
        "usage": "tokens and cost by day, project, model, agent or session",
        "tools": "calls, failure rate and latency p50/p95 per tool",
        "agents": "subagent types, executions and routing decisions",
        "failures": "the newest failing tool calls, executions and detections",
    }
    for name, text in helps.items():
        sub = reports.add_parser(name, parents=[common], help=text, description=text)
        sub.add_argument(
            "--by",
            default="day",
            metavar="GROUP",
            help="usage: day, project, model, agent or session (default day)" if name == "usage" else argparse.SUPPRESS,
        )
        sub.set_defaults(handler=_run)

    def usage(_: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    parser.set_defaults(handler=usage)
