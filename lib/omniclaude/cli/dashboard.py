"""`omniclaude dashboard`: the live web dashboard, at http://127.0.0.1:8090 by default.

Usage:
    omniclaude dashboard [--host H] [--port P] [--token T] [--database-url URL]

The database is --database-url, else the `database_url` setting (OMNICLAUDE_DATABASE_URL); it is read
through read-only sessions. A host other than loopback needs a token (--token, or the
`dashboard_token` setting, OMNICLAUDE_DASHBOARD_TOKEN): open the dashboard once with ?token=T, or send
`Authorization: Bearer T`.

Exit status: 0 stopped; 1 the database is unreachable or behind on migrations; 2 usage (also a
non-loopback host without a token). Each refusal is one line on stderr.
"""

from __future__ import annotations

import argparse
import sys


def _run(args: argparse.Namespace) -> int:
    from omniclaude.config import SettingsError, load_settings
    from omniclaude.dashboard import BindRefusedError, serve
    from omniclaude.report import ReportError

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"omniclaude dashboard: cannot read the settings: {exc}", file=sys.stderr)
        return 2
    token = args.token or settings.dashboard_token
    url = args.database_url or settings.database_url
    try:
        serve(url, host=args.host, port=args.port, token=token)
    except BindRefusedError as exc:
        print(f"omniclaude dashboard: {exc}", file=sys.stderr)
        return 2
    except ReportError as exc:
        print(f"omniclaude dashboard: {exc}", file=sys.stderr)
        return 1
    return 0


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `dashboard`."""
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the live web dashboard (default http://127.0.0.1:8090)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8090, help="port (default 8090)")
    parser.add_argument("--token", help="access token; required for a non-loopback host")
    parser.add_argument("--database-url", metavar="URL", help="PostgreSQL URL (default: the database_url setting)")
    parser.set_defaults(handler=_run)
