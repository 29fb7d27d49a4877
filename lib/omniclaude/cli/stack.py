"""`omniclaude stack`: a local Kafka, PostgreSQL, consumer (and dashboard) for trying omniclaude on one machine.

Usage:
    omniclaude stack up                    start it (idempotent), point the client settings at it
    omniclaude stack down [--purge]        stop it; keep the data (--purge: remove it too)
    omniclaude stack status [--json]       each part: state, port, pid, health, data size, memory
    omniclaude stack logs [PART] [-n N] [-f]   the last lines of a part's log (default: supervisor)

Exit status: 0 done; 1 failed (java or PostgreSQL missing, a part did not start; one line says why);
2 usage error. `status` exits 0 whether or not the stack runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from omniclaude.stack.process import StackError


class StackArgs(argparse.Namespace):
    """The parsed command line."""

    action: str
    purge: bool
    json: bool
    part: str
    lines: int
    follow: bool


def _say(line: str) -> None:
    print(line, flush=True)


def _environ() -> dict[str, str]:
    from omniclaude.config import load_settings_or_defaults

    return dict(load_settings_or_defaults().environ)


def _size(value: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024  # type: ignore[assignment]
    return str(value)


def _up(args: StackArgs) -> int:
    from omniclaude.stack import control
    from omniclaude.stack.parts import dashboard_available

    try:
        record = control.up(_environ(), say=_say)
    except StackError as exc:  # MissingToolError too: one line naming what to install
        print(f"omniclaude stack: {exc}", file=sys.stderr)
        return 1
    ports = record["ports"]
    _say(
        f"ready: Kafka 127.0.0.1:{ports['kafka']}, PostgreSQL 127.0.0.1:{ports['postgres']}, "
        f"consumer health http://127.0.0.1:{ports['consumer']}/health"
    )
    if dashboard_available():
        _say(f"dashboard: http://127.0.0.1:{ports['dashboard']}/")
    return 0


def _down(args: StackArgs) -> int:
    from omniclaude.stack import control

    control.down(_environ(), say=_say, purge=args.purge)
    return 0


def _status(args: StackArgs) -> int:
    from omniclaude.stack import control

    rows = control.status(_environ())
    total = sum(row.rss_bytes for row in rows)
    if args.json:
        document: dict[str, Any] = {"parts": [asdict(row) for row in rows], "rss_bytes": total}
        print(json.dumps(document, indent=2))
        return 0
    print(f"{'part':<11} {'state':<10} {'port':>6} {'pid':>8} {'health':<7} {'data':>9} {'memory':>9} restarts")
    for row in rows:
        port = str(row.port) if row.port else "-"
        pid = str(row.pid) if row.pid else "-"
        print(
            f"{row.name:<11} {row.state:<10} {port:>6} {pid:>8} {row.health:<7} {_size(row.data_bytes):>9} "
            f"{_size(row.rss_bytes):>9} {row.restarts}"
        )
    print(f"memory (RSS) of the whole stack: {_size(total)}")
    return 0


def _logs(args: StackArgs) -> int:
    from omniclaude.stack import control

    return control.logs(_environ(), args.part, lines=args.lines, follow=args.follow, say=_say)


def add_parser(subparsers: Any) -> None:
    """Registers `omniclaude stack`."""
    from omniclaude.stack.layout import PARTS

    parser = subparsers.add_parser(
        "stack",
        help="run a local Kafka + PostgreSQL + consumer on this machine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="start the stack (idempotent)")
    up.set_defaults(handler=_up)
    down = actions.add_parser("down", help="stop the stack, keeping its data")
    down.add_argument("--purge", action="store_true", help="also remove its data and the settings pointing at it")
    down.set_defaults(handler=_down)
    status = actions.add_parser("status", help="each part: state, port, pid, health, data size, memory")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)
    logs = actions.add_parser("logs", help="the last lines of a part's log")
    logs.add_argument("part", nargs="?", default="supervisor", choices=("supervisor", *PARTS))
    logs.add_argument("-n", "--lines", type=int, default=40, help="how many lines (default 40)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing what is appended")
    logs.set_defaults(handler=_logs)
