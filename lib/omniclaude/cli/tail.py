"""`omniclaude tail`: the newest events in the spool, shipped or not yet.

Any bytes may sit in a spool line. A line that is not a readable event (not JSON, nested too deeply,
fields of the wrong type) is shown as `unreadable line` with an escaped preview and counted in a last
line on stderr; with `--json` it is left out (and counted). Control characters never reach the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from omniclaude.config import load_settings
from omniclaude.spool import SpoolReader


def newest_lines(directory: str, count: int) -> list[str]:
    """The last `count` complete lines of the spool, oldest first; [] for a missing spool."""
    return SpoolReader(directory).tail(count) if os.path.isdir(directory) else []


PREVIEW_CHARS = 120
# C0 and C1 controls, and the Unicode line and paragraph separators: nothing that moves the cursor.
_SAFE = {codepoint: f"\\u{codepoint:04x}" for codepoint in (*range(32), *range(127, 160), 0x2028, 0x2029)}


def printable(text: str, limit: int = 1000) -> str:
    """`text` cut to `limit` characters with control characters and lone surrogates escaped, fit for a
    terminal line."""
    cut = text[:limit].translate(_SAFE).encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates
    return cut + "..." if len(text) > limit else cut


def _field(value: object) -> str:
    return printable(value, 200) if isinstance(value, str) else ""


def readable(line: str) -> dict[str, object] | None:
    """The event of a spool line, or None when it is not one (never raises)."""
    try:
        event = json.loads(line)
    except Exception:  # not JSON, too deep to parse (RecursionError), MemoryError: unreadable
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event_id"), str) else None


def summary(line: str) -> str:
    """Returns a one-line human summary of a spool line; `unreadable line ...` when it is no event."""
    event = readable(line)
    if event is None:
        return f"unreadable line ({len(line)} characters): {printable(line, PREVIEW_CHARS)}"
    payload = event.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    context = event.get("context")
    context = context if isinstance(context, dict) else {}

    def first(source: dict[str, object], *keys: str) -> str:
        return next((_field(source[key]) for key in keys if _field(source.get(key))), "")

    what = first(payload, "hook_event_name", "action_name", "stage")
    tool = first(payload, "tool_name", "agent", "selected_agent")
    return (
        f"{_field(event.get('occurred_at')) or '-'}  {_field(event.get('event_type')) or '-':<20} {what:<18} "
        f"{tool:<14} {first(context, 'project_name') or '-'}  {first(context, 'claude_session_id') or '-'}"
    )


def _run(args: argparse.Namespace) -> int:
    directory = load_settings().dirs.spool
    if not os.path.isdir(directory):
        print(f"no spool yet at {directory}")
        return 0
    unreadable = 0
    for line in newest_lines(directory, args.n):
        if readable(line) is None:
            unreadable += 1
            if args.json:
                continue
        print(line if args.json else summary(line))
    if unreadable:
        print(f"{unreadable} unreadable line(s) among the newest {args.n}", file=sys.stderr)
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `tail`."""
    parser = subparsers.add_parser("tail", help="show the newest events in the spool")
    parser.add_argument("-n", type=int, default=10, help="how many events (default 10)")
    parser.add_argument("--json", action="store_true", help="print the raw JSON lines")
    parser.set_defaults(handler=_run)
