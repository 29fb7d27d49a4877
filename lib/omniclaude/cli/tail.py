"""`omniclaude tail`: the newest events in the spool, shipped or not yet."""

from __future__ import annotations

import argparse
import json
import os

from omniclaude.config import load_settings
from omniclaude.spool import SpoolReader


def newest_lines(directory: str, count: int) -> list[str]:
    """The last `count` complete lines of the spool, oldest first; [] for a missing spool."""
    return SpoolReader(directory).tail(count) if os.path.isdir(directory) else []


def summary(line: str) -> str:
    """Returns a one-line human summary of a spool line (the line itself if it does not parse)."""
    try:
        event = json.loads(line)
        payload = event.get("payload") or {}
        context = event.get("context") or {}
        what = payload.get("hook_event_name") or payload.get("action_name") or payload.get("stage") or ""
        tool = payload.get("tool_name") or payload.get("agent") or payload.get("selected_agent") or ""
        return (
            f"{event['occurred_at']}  {event['event_type']:<20} {what:<18} {tool:<14} "
            f"{context.get('project_name') or '-'}  {context.get('claude_session_id') or '-'}"
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return line


def _run(args: argparse.Namespace) -> int:
    directory = load_settings().dirs.spool
    if not os.path.isdir(directory):
        print(f"no spool yet at {directory}")
        return 0
    for line in newest_lines(directory, args.n):
        print(line if args.json else summary(line))
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `tail`."""
    parser = subparsers.add_parser("tail", help="show the newest events in the spool")
    parser.add_argument("-n", type=int, default=10, help="how many events (default 10)")
    parser.add_argument("--json", action="store_true", help="print the raw JSON lines")
    parser.set_defaults(handler=_run)
