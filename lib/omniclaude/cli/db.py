"""`omniclaude db`: apply, revert and inspect the PostgreSQL schema migrations; prune old events.

Usage:
    omniclaude db upgrade [--to V] [--dry-run]
    omniclaude db downgrade (--to V | --steps N) [--dry-run]
    omniclaude db status
    omniclaude db prune --older-than DURATION [--batch-size N]

Every action takes --database-url URL; without it the URL is the `database_url` setting
(OMNICLAUDE_DATABASE_URL, or secrets.env). A password in a URL is printed as ***, never in clear.
--dry-run prints the SQL that would run, as a psql script, and changes nothing.

Exit status: 0 done; 1 refused or failed (an applied migration was edited, the database is ahead of this
code, a migration failed, the database is unreachable; for `status`, also an edited migration or a
database ahead); 2 usage (bad arguments, an unknown version, no database URL).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from omniclaude.masking import mask_url, scrub, url_passwords

if TYPE_CHECKING:
    import psycopg

Action = Callable[["psycopg.Connection[Any]", argparse.Namespace], int]


def _scrub(text: str, url: str) -> str:
    """`text` (an error message) with every form of the URL's credentials replaced by `***`."""
    return scrub(text, url_passwords(url))


def _error(message: object) -> None:
    print(f"omniclaude db: {message}", file=sys.stderr)


def _settings_url() -> str | None:
    from omniclaude.config import load_settings

    return load_settings().database_url


def _run(args: argparse.Namespace, action: Action) -> int:
    """Resolves the URL, connects, runs `action`, and maps errors to exit codes."""
    import psycopg

    from omniclaude.db.migrations import MigrationError, UnknownVersionError

    url: str | None = args.database_url
    if not url:
        try:
            url = _settings_url()
        except ValueError as exc:  # SettingsError: names the key, never the value
            _error(f"cannot read the settings: {exc}")
            return 2
    if not url:
        _error("no database URL: pass --database-url or set OMNICLAUDE_DATABASE_URL")
        return 2
    args.database_url = url
    try:
        conn = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        _error(f"cannot connect to {mask_url(url)}: {_scrub(str(exc).strip(), url)}")
        return 1
    try:
        with conn:
            return action(conn, args)
    except UnknownVersionError as exc:
        _error(exc)
        return 2
    except MigrationError as exc:
        _error(_scrub(str(exc), url))
        return 1
    except psycopg.Error as exc:
        _error(f"database error: {_scrub(str(exc).strip(), url)}")
        return 1


def _upgrade(conn: psycopg.Connection[Any], args: argparse.Namespace) -> int:
    from omniclaude.db.migrations import current_version, upgrade, upgrade_script

    if args.dry_run:
        print(upgrade_script(conn, to=args.to), end="")
        return 0
    applied = upgrade(conn, to=args.to, on_applied=lambda m: print(f"applied {m.label}", flush=True))
    version = current_version(conn)
    print(f"schema at {version:04d}" if applied else f"nothing to apply: schema at {version:04d}")
    return 0


def _downgrade(conn: psycopg.Connection[Any], args: argparse.Namespace) -> int:
    from omniclaude.db.migrations import current_version, downgrade, downgrade_script

    if args.dry_run:
        print(downgrade_script(conn, to=args.to, steps=args.steps), end="")
        return 0
    reverted = downgrade(
        conn, to=args.to, steps=args.steps, on_reverted=lambda m: print(f"reverted {m.label}", flush=True)
    )
    version = current_version(conn)
    print(f"schema at {version:04d}" if reverted else f"nothing to revert: schema at {version:04d}")
    return 0


def _status(conn: psycopg.Connection[Any], args: argparse.Namespace) -> int:
    from omniclaude.db.migrations import load_migrations, schema_status

    status = schema_status(conn)
    applied = {a.version: a for a in status.applied}
    modified = {m.version for m in status.modified}
    print(f"database: {mask_url(args.database_url)}")
    for migration in load_migrations():
        row = applied.get(migration.version)
        if row is None:
            state = "pending"
        elif migration.version in modified:
            state = f"applied {row.applied_at:%Y-%m-%d %H:%M:%S%z}, EDITED since (checksum differs)"
        else:
            state = f"applied {row.applied_at:%Y-%m-%d %H:%M:%S%z}"
        print(f"  {migration.label:<32} {state}")
    for row in status.unknown:
        print(f"  {row.version:04d}_{row.name:<27} applied, no file here (database ahead)")
    print(status.describe())
    return 1 if status.unknown or status.modified else 0


def _prune(conn: psycopg.Connection[Any], args: argparse.Namespace) -> int:
    from omniclaude.db.prune import prune

    deleted = prune(conn, args.older_than, batch_size=args.batch_size)
    print(f"deleted rows older than {args.older_than}:")
    for table, count in deleted.items():
        print(f"  {table:<32} {count}")
    print(f"  {'total':<32} {sum(deleted.values())}")
    return 0


def _version(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a version number: {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text!r}")
    return int(text)


def _duration(text: str) -> timedelta:
    from omniclaude.db.prune import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _handler(action: Action) -> Callable[[argparse.Namespace], int]:
    return lambda args: _run(args, action)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `db` and its actions upgrade, downgrade, status and prune."""
    parser = subparsers.add_parser(
        "db",
        help="migrate, inspect and prune the PostgreSQL schema",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", metavar="URL", help="PostgreSQL URL (default: the database_url setting)")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION")

    up = actions.add_parser("upgrade", parents=[common], help="apply pending migrations")
    up.add_argument("--to", type=_version, metavar="V", help="stop at version V (default: the latest)")
    up.add_argument("--dry-run", action="store_true", help="print the SQL instead of running it")
    up.set_defaults(handler=_handler(_upgrade))

    down = actions.add_parser("downgrade", parents=[common], help="revert applied migrations")
    target = down.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", type=_version, metavar="V", help="revert every version above V (0: all)")
    target.add_argument("--steps", type=_positive, metavar="N", help="revert the N newest versions")
    down.add_argument("--dry-run", action="store_true", help="print the SQL instead of running it")
    down.set_defaults(handler=_handler(_downgrade))

    status = actions.add_parser("status", parents=[common], help="compare the database with the migrations")
    status.set_defaults(handler=_handler(_status))

    prune = actions.add_parser("prune", parents=[common], help="delete events older than a duration")
    prune.add_argument(
        "--older-than",
        type=_duration,
        required=True,
        metavar="DURATION",
        help="e.g. 30d, 12h, 90m (units s m h d w)",
    )
    prune.add_argument("--batch-size", type=_positive, default=5000, metavar="N", help="rows per DELETE (default 5000)")
    prune.set_defaults(handler=_handler(_prune))

    def usage(_: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    parser.set_defaults(handler=usage)
