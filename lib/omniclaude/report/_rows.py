"""Running a report's SQL into typed rows."""

from __future__ import annotations

from typing import Any, TypeVar

from psycopg import sql
from psycopg.rows import class_row
from typing_extensions import LiteralString

from omniclaude.report._db import Connection

T = TypeVar("T")


def fetch(conn: Connection, cls: type[T], query: LiteralString | sql.Composed, params: Any = None) -> list[T]:
    """Runs one parameterised query; each row becomes a `cls` built from its column names."""
    with conn.cursor(row_factory=class_row(cls)) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def fetch_one(conn: Connection, cls: type[T], query: LiteralString | sql.Composed, params: Any = None) -> T | None:
    """Like `fetch`, the first row or None."""
    rows = fetch(conn, cls, query, params)
    return rows[0] if rows else None
