"""Fixtures for the schema tests: fresh databases, connections, schema dumps, catalog listings.

The SQL under test is always the product's: tests apply it through `omniclaude.db.migrations`
(or read it from `load_migrations()`), never from a copy of the DDL.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import psycopg
import pytest

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "sql" / "migrations"


class DatabaseFactory(Protocol):
    url: str

    def create_database(self) -> str: ...

    def drop_database(self, name: str) -> None: ...


def _name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


@pytest.fixture
def new_database(postgres: DatabaseFactory) -> Iterator[Callable[[], str]]:
    """Creates fresh empty databases on demand (URL returned); drops them after the test."""
    created: list[str] = []

    def create() -> str:
        url = postgres.create_database()
        created.append(url)
        return url

    yield create
    for url in created:
        postgres.drop_database(_name(url))


@pytest.fixture
def fresh_url(new_database: Callable[[], str]) -> str:
    """The URL of a fresh, empty database for this test."""
    return new_database()


@pytest.fixture
def connect() -> Iterator[Callable[[str], psycopg.Connection[Any]]]:
    """Opens psycopg connections (autocommit off) that are closed after the test."""
    opened: list[psycopg.Connection[Any]] = []

    def open_(url: str) -> psycopg.Connection[Any]:
        conn = psycopg.connect(url)
        opened.append(conn)
        return conn

    yield open_
    for conn in opened:
        conn.close()


@pytest.fixture
def conn(fresh_url: str, connect: Callable[[str], psycopg.Connection[Any]]) -> psycopg.Connection[Any]:
    """A connection to a fresh, empty database."""
    return connect(fresh_url)


def _pg_dump() -> str:
    """pg_dump from the server's bindir (same version as the harness cluster), else from PATH."""
    with contextlib.suppress(Exception):
        from tests.harness.postgres import find_postgres_bindir

        candidate = find_postgres_bindir() / "pg_dump"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("pg_dump")
    if found is None:
        pytest.fail("pg_dump not found: apt-get install postgresql-client", pytrace=False)
    return found


@pytest.fixture(scope="session")
def dump_schema() -> Callable[[str], str]:
    """`pg_dump --schema-only` of a database, without the per-run `\\restrict` key lines."""
    pg_dump = _pg_dump()

    def dump(url: str) -> str:
        result = subprocess.run(
            [pg_dump, "--schema-only", "--no-owner", "--no-privileges", "--dbname", url],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        lines = [line for line in result.stdout.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))]
        return "\n".join(lines)

    return dump


_OBJECTS = """
SELECT 'relation ' || c.relkind::text || ' ' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'function ' || p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'type ' || t.typname
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'
ORDER BY 1
"""


@pytest.fixture(scope="session")
def public_objects() -> Callable[[psycopg.Connection[Any]], set[str]]:
    """Every relation (table, view, index, sequence), function and type in schema public."""

    def objects(conn: psycopg.Connection[Any]) -> set[str]:
        with conn.transaction():
            return {row[0] for row in conn.execute(_OBJECTS).fetchall()}

    return objects


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    """A copy of the product's migration files that a test may edit (a runner `source` override)."""
    target = tmp_path / "migrations"
    target.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy2(path, target / path.name)
    return target
