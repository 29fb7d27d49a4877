"""`omniclaude status`: where the spool is, what waits in it, and what the transcript reader found."""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime
from typing import Any

from omniclaude.config import load_settings
from omniclaude.logger import spool_safety
from omniclaude.spool import SpoolReader


def _counted(path: str, column: int) -> int:
    total = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) > column and parts[column].isdigit():
                    total += int(parts[column])
                elif len(parts) > column:
                    total += 1
    except OSError:
        pass
    return total


def spool_status(directory: str) -> dict[str, Any]:
    """Returns the spool's location, pending events and bytes, dropped and skipped counts, and the age
    of the oldest pending event (seconds, or None). Never raises: an unreadable spool is reported."""
    status: dict[str, Any] = {"spool": directory, "exists": os.path.isdir(directory)}
    if not status["exists"]:
        status.update(
            pending_events=0, pending_bytes=0, dropped_events=0, unreadable_lines=0, oldest_pending_age_s=None
        )
        return status
    try:
        events, size, first = SpoolReader(directory).pending()
    except OSError as exc:
        status["error"] = f"cannot read the spool: {exc.strerror or exc}"
        events, size, first = 0, 0, None
    age = None
    if first:
        try:
            occurred = json.loads(first)["occurred_at"]
            age = round(time.time() - datetime.fromisoformat(occurred.replace("Z", "+00:00")).timestamp(), 3)
        except (ValueError, KeyError, TypeError):
            age = None
    status.update(
        pending_events=events,
        pending_bytes=size,
        dropped_events=_counted(os.path.join(directory, "dropped.log"), 1),
        unreadable_lines=_counted(os.path.join(directory, "errors.log"), 99),
        oldest_pending_age_s=age,
    )
    return status


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    status = spool_status(settings.dirs.spool)
    status.update(spool_safety(settings).as_dict())
    status["kafka"] = settings.kafka_bootstrap_servers or "not configured (events wait in the spool)"
    try:
        from omniclaude.forwarder.state import forwarder_status
    except ImportError:
        pass
    else:
        status["forwarder"] = forwarder_status(settings.dirs.spool)
    from omniclaude.usage.state import summary

    status["usage"] = summary(settings.dirs.state)
    if args.json:
        print(json.dumps(status, indent=2, default=str))
        return 0
    for key, value in status.items():
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                print(f"{key}.{sub_key}: {sub_value}")
        else:
            print(f"{key}: {value}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `status`."""
    parser = subparsers.add_parser("status", help="show the spool and the forwarder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_run)
