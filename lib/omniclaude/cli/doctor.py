"""`omniclaude doctor`: checks the installation, one line per check (ok, warn or fail) with its fix.

Checks, in order: config (the settings files), interpreter (the Python the hooks run), spool (where
events wait, writable, how many), usage (the price table, transcripts missing, unreadable or
malformed, models without a price), plugin (registered with Claude Code), hook (latency of the real hook
command, into a throw-away folder), kafka, database (reachable, schema current) and consumer (its
health URL); the last three only say "not configured" when their setting is unset.

Exit status: 0 when no check failed (warnings allowed), 1 when one did, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os

from omniclaude.config import SettingsError, load_settings, load_settings_or_defaults
from omniclaude.doctor import FAIL, format_check, run_checks


class DoctorArgs(argparse.Namespace):
    """The parsed arguments of `omniclaude doctor`."""

    plugin_root: str | None
    json: bool


def _run(args: argparse.Namespace) -> int:
    error: SettingsError | None = None
    try:
        settings = load_settings()
    except SettingsError as exc:
        settings, error = load_settings_or_defaults(), exc
    root = os.path.abspath(args.plugin_root) if args.plugin_root else None
    checks = []
    for check in run_checks(settings, settings_error=error, plugin_root=root):
        checks.append(check)
        if not args.json:
            print(format_check(check), flush=True)
    if args.json:
        print(json.dumps([check.as_dict() for check in checks], indent=2))
    return 1 if any(check.status == FAIL for check in checks) else 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `doctor`."""
    parser = subparsers.add_parser(
        "doctor",
        help="check the installation: interpreter, spool, plugin, hook latency, Kafka, database, consumer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--plugin-root",
        metavar="DIR",
        help="the plugin's folder (default: CLAUDE_PLUGIN_ROOT, this checkout, or where "
        "Claude Code loads omniclaude from)",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as one JSON array")
    parser.set_defaults(handler=_run)
