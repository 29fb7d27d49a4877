"""`omniclaude status`: a short summary of what waits in the spool, how the forwarder is doing and what the
transcript reader found; `--json` prints every number for scripts."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from omniclaude.config import Settings, load_settings
from omniclaude.logger import spool_safety
from omniclaude.spool import SpoolReader


def spool_status(directory: str) -> dict[str, Any]:
    """The spool's location and `SpoolReader.stats()`; never raises (an unreadable spool is reported)."""
    status: dict[str, Any] = {"spool": directory, "exists": os.path.isdir(directory)}
    empty = {
        "pending_events": 0,
        "pending_bytes": 0,
        "oldest_pending_age_s": None,
        "dropped_events": 0,
        "unreadable_lines": 0,
        "quarantined_lines": 0,
    }
    if not status["exists"]:
        return {**status, **empty}
    try:
        return {**status, **SpoolReader(directory).stats()}
    except OSError as exc:
        return {**status, **empty, "error": f"cannot read the spool: {exc.strerror or exc}"}


def collect(settings: Settings) -> dict[str, Any]:
    """Everything `status` reports, as plain data."""
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
    return status


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def _duration(seconds: float) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def render(status: dict[str, Any]) -> list[str]:
    """The human summary: a few lines, nothing that is merely None."""
    events, size = status["pending_events"], status["pending_bytes"]
    line = f"spool      {events} event(s) pending ({_size(size)})"
    if status.get("oldest_pending_age_s") is not None:
        line += f", oldest {_duration(status['oldest_pending_age_s'])} old"
    lines = [line + f"  [{status['spool']}]"]
    if status.get("error"):
        lines.append(f"           {status['error']}")
    losses = [
        f"{status[k]} {what}"
        for k, what in (
            ("dropped_events", "dropped by the cap"),
            ("unreadable_lines", "unreadable line(s) skipped"),
            ("quarantined_lines", "kept in quarantine.jsonl"),
        )
        if status[k]
    ]
    if status.get("dropped_no_safe_spool"):
        losses.append(f"{status['dropped_no_safe_spool']} dropped with no safe spool folder")
    if losses:
        lines.append(f"           {', '.join(losses)}")
    lines += [f"unsafe     {reason}" for reason in status.get("unsafe") or []]
    fallback = status.get("fallback_spool")
    if fallback and "(0 event(s) pending)" not in fallback:
        lines.append(f"fallback   {fallback}")
    lines.append(f"kafka      {status['kafka']}")
    forwarder = status.get("forwarder")
    if forwarder is not None:
        if forwarder.get("running"):
            state = f"running (pid {forwarder.get('pid')})"
        elif forwarder.get("stopped_at"):
            state = f"idle since {forwarder['stopped_at']} ({forwarder.get('exit_reason') or 'stopped'})"
        else:
            state = "not started yet"
        if forwarder.get("delivered_total"):
            state += f"; {forwarder['delivered_total']} delivered, last at {forwarder.get('last_delivery_at')}"
        lines.append(f"forwarder  {state}")
        if forwarder.get("last_error"):
            lines.append(f"last error {forwarder['last_error']} (at {forwarder.get('last_error_at')})")
    usage = status.get("usage")
    if usage:
        quiet = {"transcripts", "unknown_models", "last_problem", "last_problem_at"}
        counts = [f"{key}: {value}" for key, value in usage.items() if key not in quiet and value]
        lines.append("usage      " + "; ".join([f"{usage.get('transcripts', 0)} transcript(s) followed", *counts]))
        if usage.get("last_problem"):
            lines.append(f"           last problem: {usage['last_problem']} (at {usage.get('last_problem_at')})")
    return lines


def _run(args: argparse.Namespace) -> int:
    status = collect(load_settings())
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        print("\n".join(render(status)))
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `status`."""
    parser = subparsers.add_parser("status", help="show what waits in the spool and how the forwarder is doing")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every number")
    parser.set_defaults(handler=_run)
