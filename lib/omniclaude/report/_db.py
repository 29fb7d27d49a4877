"""Read-only database sessions for the reports, and what the connected schema offers.

Contract:
- `connect(url)` opens an autocommit connection whose every transaction is read-only
  (`default_transaction_read_only=on`) and whose statements stop after `statement_timeout_ms`. Nothing
  reached through it can write.
- `require_schema(conn)` raises `SchemaBehindError` while migrations are pending, so a report never
  runs against tables it does not know; a database ahead of this code is read as it is.
- `features(conn)` says which optional relations exist (the usage work's `llm_usage` table and its
  `session_usage` view), so every query degrades to "not recorded" instead of failing.

Errors (each message is one line that says what to do, and never holds the URL's password):
    ReportError
    |-- DatabaseUnreachableError   cannot connect, or no URL configured
    `-- SchemaBehindError          migrations pending: run `omniclaude db upgrade`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import psycopg

from omniclaude.masking import mask_url, url_passwords

Connection: TypeAlias = "psycopg.Connection[Any]"

STATEMENT_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 5
WORK_MEM = "32MB"  # the percentiles sort a week of tool calls in memory


class ReportError(Exception):
    """Base of the errors a report raises on purpose; the message is one line for a person."""


class DatabaseUnreachableError(ReportError):
    """The database cannot be reached (or none is configured)."""


class SchemaBehindError(ReportError):
    """The database's schema lacks migrations this code reads."""


def _scrub(text: str, url: str) -> str:
    """The first line of an error message, every form of the URL's password replaced by `***`."""
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    for secret in url_passwords(url):
        first = first.replace(secret, "***")
    return mask_url(first)


def connect_kwargs(statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> dict[str, Any]:
    """psycopg.connect keyword arguments of a read-only, autocommit session with a statement timeout."""
    return {
        "autocommit": True,
        "connect_timeout": CONNECT_TIMEOUT_S,
        "options": (
            f"-c default_transaction_read_only=on -c statement_timeout={int(statement_timeout_ms)}"
            f" -c TimeZone=UTC -c work_mem={WORK_MEM}"
        ),
    }


def connect(url: str | None, *, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Connection:
    """An autocommit, read-only connection with a statement timeout. Raises DatabaseUnreachableError."""
    if not url:
        raise DatabaseUnreachableError("no database URL: set OMNICLAUDE_DATABASE_URL (or pass --database-url)")
    try:
        return psycopg.connect(url, **connect_kwargs(statement_timeout_ms))
    except psycopg.Error as exc:
        raise DatabaseUnreachableError(
            f"cannot connect to {mask_url(url)}: {_scrub(str(exc), url)}; is PostgreSQL running there?"
        ) from None


def require_schema(conn: Connection) -> None:
    """Raises SchemaBehindError when migrations are pending (the schema is older than this code)."""
    from omniclaude.db.migrations import schema_status

    status = schema_status(conn)
    if status.pending:
        raise SchemaBehindError(
            f"the database schema is at {status.current:04d} but this omniclaude reads {status.latest:04d}: "
            "run `omniclaude db upgrade`"
        )


@dataclass(frozen=True)
class Features:
    """Optional relations present in the connected database."""

    llm_usage: bool
    session_usage_lines: bool


_FEATURES_SQL = """
SELECT to_regclass('llm_usage') IS NOT NULL,
       (SELECT count(*) = 2 FROM pg_attribute
         WHERE attrelid = to_regclass('session_usage') AND attname IN ('lines_added', 'lines_removed')
           AND NOT attisdropped)
"""


def features(conn: Connection) -> Features:
    """Which optional relations exist: `llm_usage`, and `session_usage` with lines_added/lines_removed."""
    row = conn.execute(_FEATURES_SQL).fetchone()
    assert row is not None
    return Features(llm_usage=bool(row[0]), session_usage_lines=bool(row[1]))
