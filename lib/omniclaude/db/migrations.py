"""Schema migrations: load the versioned SQL files, apply and revert them, report the schema's state.

Contract:
- A migration is a pair `NNNN_name.up.sql` / `NNNN_name.down.sql` in the package `omniclaude_migrations`
  (`sql/migrations` in a checkout, package data in an installed wheel). Versions start at 1 and are
  contiguous; the version alone is a migration's identity. Its checksum is the sha256 of the up file's
  bytes, recorded in `schema_migrations` when applied, so an applied file edited later is detected.
- Each migration runs in its own transaction. The runner wraps it (the files hold no BEGIN/COMMIT) and
  first takes a transaction-level advisory lock, then re-reads `schema_migrations`: concurrent runners
  serialise on the lock and each migration is applied exactly once.
- The runner refuses, raising before it changes anything, when an applied migration's up file changed
  (`ModifiedMigrationError`) or when the database has versions with no file (`DatabaseAheadError`). It
  never edits `schema_migrations` to "fix" either; `schema_status` reports both.
- Functions take an open psycopg 3 connection. They leave it outside any transaction they started, or, if
  the caller already had one open, inside it (their work then runs in savepoints).
- `source` overrides where the files come from (a directory path or an importlib Traversable); tests use it.

Errors:
    MigrationError
    |-- MigrationSourceError    the files are malformed: a bad name, an up without its down, a gap
    |-- UnknownVersionError     a requested target version has no migration file
    |-- ModifiedMigrationError  an applied migration's up file changed since it was applied
    |-- DatabaseAheadError      the database has applied versions that this code has no file for
    |-- SchemaNotCurrentError   `require_current`: the schema is not exactly the code's
    `-- MigrationFailedError    a migration's SQL failed; its transaction was rolled back
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import psycopg

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:
    from importlib.abc import Traversable

Connection: TypeAlias = "psycopg.Connection[Any]"

__all__ = [
    "LOCK_KEY",
    "AppliedMigration",
    "DatabaseAheadError",
    "Migration",
    "MigrationError",
    "MigrationFailedError",
    "MigrationSource",
    "MigrationSourceError",
    "ModifiedMigrationError",
    "SchemaNotCurrentError",
    "SchemaStatus",
    "UnknownVersionError",
    "applied_migrations",
    "current_version",
    "downgrade",
    "downgrade_script",
    "latest_version",
    "load_migrations",
    "pending",
    "require_current",
    "schema_status",
    "upgrade",
    "upgrade_script",
]

MigrationSource: TypeAlias = "Traversable | str | os.PathLike[str] | None"

PACKAGE = "omniclaude_migrations"
FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.(?P<direction>up|down)\.sql$")

# Key of the advisory lock that serialises runners; advisory locks are scoped to one database.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"omniclaude.schema_migrations").digest()[:8], "big", signed=True)

_LOCK_SQL = f"SELECT pg_advisory_xact_lock({LOCK_KEY})"
_CREATE_TABLE_SQL = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""


class MigrationError(Exception):
    """Base of every error the runner raises on purpose."""


class MigrationSourceError(MigrationError):
    """The migration files are malformed or cannot be found."""


class UnknownVersionError(MigrationError):
    """A requested target version is neither 0 nor the version of a migration file."""


class ModifiedMigrationError(MigrationError):
    """An applied migration's up file no longer has the checksum recorded when it was applied."""

    def __init__(self, migration: Migration, recorded_checksum: str) -> None:
        self.migration = migration
        self.recorded_checksum = recorded_checksum
        super().__init__(
            f"migration {migration.filename('up')} was edited after it was applied "
            f"(recorded sha256 {recorded_checksum[:12]}..., file now {migration.checksum[:12]}...); "
            "restore the file and put the change in a new migration"
        )


class DatabaseAheadError(MigrationError):
    """The database has applied versions that these migration files do not contain."""

    def __init__(self, unknown: Sequence[AppliedMigration], latest: int) -> None:
        self.unknown = tuple(unknown)
        self.latest = latest
        names = ", ".join(f"{a.version:04d}_{a.name}" for a in self.unknown)
        super().__init__(
            f"the database is ahead of this code: it has {names} applied, but the latest migration here is "
            f"{latest:04d}; upgrade omniclaude (the runner does not touch a newer schema)"
        )


class SchemaNotCurrentError(MigrationError):
    """Raised by `require_current` when the schema is not exactly the one this code expects."""

    def __init__(self, status: SchemaStatus) -> None:
        self.status = status
        super().__init__(status.describe())


class MigrationFailedError(MigrationError):
    """A migration's SQL failed; its transaction was rolled back and the schema is unchanged by it."""

    def __init__(self, migration: Migration, direction: str, cause: BaseException) -> None:
        self.migration = migration
        self.direction = direction
        super().__init__(f"migration {migration.filename(direction)} failed and was rolled back: {cause}")


@dataclass(frozen=True)
class Migration:
    """One migration as found in the files."""

    version: int
    name: str
    up_sql: str
    down_sql: str
    checksum: str  # sha256 hex digest of the up file's bytes

    @property
    def label(self) -> str:
        """`NNNN_name`, as in the file names."""
        return f"{self.version:04d}_{self.name}"

    def filename(self, direction: str) -> str:
        """The file name for `direction` ("up" or "down")."""
        return f"{self.label}.{direction}.sql"


@dataclass(frozen=True)
class AppliedMigration:
    """One row of `schema_migrations`."""

    version: int
    name: str
    checksum: str
    applied_at: datetime


@dataclass(frozen=True)
class SchemaStatus:
    """The database's schema compared with the migration files.

    `behind` counts migrations in the files not yet applied (upgrade would apply them); `ahead` counts
    versions applied in the database that have no file (this code is older than the database);
    `modified` lists applied migrations whose up file changed since. `is_current` holds when all three
    are empty: the schema is exactly the one this code was written for.
    """

    current: int
    latest: int
    applied: tuple[AppliedMigration, ...]
    pending: tuple[Migration, ...]
    unknown: tuple[AppliedMigration, ...]
    modified: tuple[Migration, ...]

    @property
    def behind(self) -> int:
        """Number of migrations not yet applied."""
        return len(self.pending)

    @property
    def ahead(self) -> int:
        """Number of applied versions this code has no file for."""
        return len(self.unknown)

    @property
    def is_current(self) -> bool:
        """True when every migration is applied, unedited, and nothing else is."""
        return not self.pending and not self.unknown and not self.modified

    def describe(self) -> str:
        """One line for humans (`omniclaude doctor`, `omniclaude db status`)."""
        parts = [f"schema version {self.current:04d}, code expects {self.latest:04d}"]
        if self.is_current:
            parts.append("up to date")
        if self.pending:
            labels = ", ".join(m.label for m in self.pending)
            parts.append(f"behind by {self.behind} ({labels}): run `omniclaude db upgrade`")
        if self.unknown:
            labels = ", ".join(f"{a.version:04d}_{a.name}" for a in self.unknown)
            parts.append(f"ahead by {self.ahead} ({labels}): this omniclaude is older than the database")
        if self.modified:
            labels = ", ".join(m.filename("up") for m in self.modified)
            parts.append(f"edited after being applied: {labels}")
        return "; ".join(parts)


# -- loading the files -------------------------------------------------------------------------------


def _default_source() -> Traversable:
    try:
        return importlib.resources.files(PACKAGE)
    except (ModuleNotFoundError, NotADirectoryError):
        # ModuleNotFoundError: not installed, running from a checkout with lib/ on sys.path.
        # NotADirectoryError: an editable install made while sql/migrations had no __init__.py maps it as
        # a namespace package, which importlib.resources cannot read before Python 3.12.
        checkout = Path(__file__).resolve().parents[3] / "sql" / "migrations"
        if checkout.is_dir():
            return checkout
        raise MigrationSourceError(
            f"migration files not found: package {PACKAGE!r} is not installed and {checkout} does not exist"
        ) from None


def _as_traversable(source: MigrationSource) -> Traversable:
    if source is None:
        return _default_source()
    if isinstance(source, (str, os.PathLike)):
        return Path(source)
    return source


def load_migrations(source: MigrationSource = None) -> list[Migration]:
    """Returns the migrations in version order.

    Raises MigrationSourceError for a `.sql` file whose name does not match `NNNN_name.(up|down).sql`,
    an up without its down (or the reverse), two names for one version, or versions that do not run
    1, 2, 3... without a gap. Other files (`__init__.py`, `__pycache__`) are ignored.
    """
    root = _as_traversable(source)
    found: dict[int, dict[str, tuple[str, bytes]]] = {}
    for entry in root.iterdir():
        if not entry.name.endswith(".sql") or not entry.is_file():
            continue
        match = FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationSourceError(f"{entry.name}: not a migration name (NNNN_name.up.sql / .down.sql)")
        version, direction = int(match["version"]), match["direction"]
        pair = found.setdefault(version, {})
        if direction in pair:
            raise MigrationSourceError(
                f"version {version:04d} has two {direction} scripts: {pair[direction][0]} and {match['name']}"
            )
        pair[direction] = (match["name"], entry.read_bytes())
    migrations = []
    for version in sorted(found):
        pair = found[version]
        for direction in ("up", "down"):
            if direction not in pair:
                other = next(iter(pair.values()))[0]
                raise MigrationSourceError(f"{version:04d}_{other}: the {direction} script is missing")
        (up_name, up_bytes), (down_name, down_bytes) = pair["up"], pair["down"]
        if up_name != down_name:
            raise MigrationSourceError(f"version {version:04d} has two names: {up_name} (up) and {down_name} (down)")
        migrations.append(
            Migration(
                version=version,
                name=up_name,
                up_sql=up_bytes.decode("utf-8"),
                down_sql=down_bytes.decode("utf-8"),
                checksum=hashlib.sha256(up_bytes).hexdigest(),
            )
        )
    expected = list(range(1, len(migrations) + 1))
    if [m.version for m in migrations] != expected:
        versions = ", ".join(f"{m.version:04d}" for m in migrations)
        raise MigrationSourceError(f"migration versions must run 0001, 0002, ... without a gap; found {versions}")
    return migrations


def latest_version(source: MigrationSource = None) -> int:
    """The highest version among the migration files (0 when there are none)."""
    migrations = load_migrations(source)
    return migrations[-1].version if migrations else 0


# -- reading the database ----------------------------------------------------------------------------


def _read_applied(conn: Connection) -> dict[int, AppliedMigration]:
    """The rows of schema_migrations by version; empty when the table does not exist. No transaction."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if exists is None or not exists[0]:
        return {}
    rows = conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
    return {row[0]: AppliedMigration(row[0], row[1], row[2], row[3]) for row in rows.fetchall()}


def applied_migrations(conn: Connection) -> list[AppliedMigration]:
    """The rows of `schema_migrations` in version order (empty when the table does not exist)."""
    with conn.transaction():
        return list(_read_applied(conn).values())


def current_version(conn: Connection) -> int:
    """The highest applied version, 0 for a database that has none (or no `schema_migrations`)."""
    applied = applied_migrations(conn)
    return applied[-1].version if applied else 0


def _compare(applied: Mapping[int, AppliedMigration], migrations: Sequence[Migration]) -> SchemaStatus:
    by_version = {m.version: m for m in migrations}
    return SchemaStatus(
        current=max(applied, default=0),
        latest=migrations[-1].version if migrations else 0,
        applied=tuple(applied[v] for v in sorted(applied)),
        pending=tuple(m for m in migrations if m.version not in applied),
        unknown=tuple(applied[v] for v in sorted(applied) if v not in by_version),
        modified=tuple(m for m in migrations if m.version in applied and applied[m.version].checksum != m.checksum),
    )


def schema_status(conn: Connection, source: MigrationSource = None) -> SchemaStatus:
    """Compares the database with the migration files; reads only, never raises for the states it reports."""
    return _status(conn, load_migrations(source))


def _status(conn: Connection, migrations: Sequence[Migration]) -> SchemaStatus:
    with conn.transaction():
        return _compare(_read_applied(conn), migrations)


def pending(conn: Connection, source: MigrationSource = None) -> list[Migration]:
    """The migrations in the files that the database has not applied, in version order."""
    return list(schema_status(conn, source).pending)


def require_current(conn: Connection, source: MigrationSource = None) -> SchemaStatus:
    """Returns the status when the schema is current; raises SchemaNotCurrentError otherwise.

    For services (the consumer) that must not start against a schema older or newer than their code.
    """
    status = schema_status(conn, source)
    if not status.is_current:
        raise SchemaNotCurrentError(status)
    return status


# -- planning ----------------------------------------------------------------------------------------


def _refuse_if_unsafe(status: SchemaStatus) -> None:
    if status.unknown:
        raise DatabaseAheadError(status.unknown, status.latest)
    if status.modified:
        migration = status.modified[0]
        recorded = next(a.checksum for a in status.applied if a.version == migration.version)
        raise ModifiedMigrationError(migration, recorded)


def _check_target(to: int | None, migrations: Sequence[Migration]) -> None:
    if to is None or to == 0 or any(m.version == to for m in migrations):
        return
    latest = migrations[-1].version if migrations else 0
    raise UnknownVersionError(f"no migration {to:04d} (versions here: 0 to {latest:04d})")


def _plan_upgrade(status: SchemaStatus, to: int | None) -> list[Migration]:
    _refuse_if_unsafe(status)
    target = status.latest if to is None else to
    return [m for m in status.pending if m.version <= target]


def _plan_downgrade(status: SchemaStatus, migrations: Sequence[Migration], target: int) -> list[Migration]:
    _refuse_if_unsafe(status)
    by_version = {m.version: m for m in migrations}
    return [by_version[a.version] for a in reversed(status.applied) if a.version > target]


def _downgrade_target(status: SchemaStatus, to: int | None, steps: int | None) -> int:
    if (to is None) == (steps is None):
        raise ValueError("give exactly one of `to` and `steps`")
    if to is not None:
        return to
    assert steps is not None
    if steps < 1:
        raise ValueError("`steps` must be at least 1")
    versions = [a.version for a in status.applied]
    return versions[-steps - 1] if steps < len(versions) else 0


# -- running -----------------------------------------------------------------------------------------


def _locked_status(conn: Connection, migrations: Sequence[Migration], *, create_table: bool) -> SchemaStatus:
    """Inside a transaction: take the advisory lock, then read the state (creating the table if asked)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    if create_table:
        conn.execute(_CREATE_TABLE_SQL)
    return _compare(_read_applied(conn), migrations)


def _run_sql(conn: Connection, migration: Migration, direction: str) -> None:
    text = migration.up_sql if direction == "up" else migration.down_sql
    try:
        conn.execute(text.encode("utf-8"))
    except psycopg.Error as exc:
        raise MigrationFailedError(migration, direction, exc) from exc


def upgrade(
    conn: Connection,
    *,
    to: int | None = None,
    source: MigrationSource = None,
    on_applied: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Applies the pending migrations up to version `to` (default: all), each in its own transaction.

    Returns the migrations this call applied, in order (another runner may have applied some of the
    pending ones meanwhile; those are not repeated). `on_applied` is called after each commit. Applying
    nothing is not an error: a target at or below the current version does nothing. Raises
    UnknownVersionError, DatabaseAheadError, ModifiedMigrationError (before applying anything from the
    state that triggered them) and MigrationFailedError (migrations committed before it stay applied).
    """
    migrations = load_migrations(source)
    _check_target(to, migrations)
    done: list[Migration] = []
    while True:
        with conn.transaction():
            plan = _plan_upgrade(_locked_status(conn, migrations, create_table=True), to)
            if not plan:
                return done
            migration = plan[0]
            _run_sql(conn, migration, "up")
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
        done.append(migration)
        if on_applied is not None:
            on_applied(migration)


def downgrade(
    conn: Connection,
    *,
    to: int | None = None,
    steps: int | None = None,
    source: MigrationSource = None,
    on_reverted: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Reverts applied migrations, newest first, each down script in its own transaction.

    Give exactly one of `to` (revert every version above it; 0 reverts everything) and `steps` (revert
    the `steps` newest of the versions applied when this call first takes the lock; runners started
    together each revert their own steps, one after the other). Returns the migrations this call
    reverted. Raises like `upgrade`, and ValueError for a bad combination of `to` and `steps`.
    """
    migrations = load_migrations(source)
    _check_target(to, migrations)
    target: int | None = None
    done: list[Migration] = []
    while True:
        with conn.transaction():
            status = _locked_status(conn, migrations, create_table=False)
            if target is None:
                target = _downgrade_target(status, to, steps)
            plan = _plan_downgrade(status, migrations, target)
            if not plan:
                return done
            migration = plan[0]
            _run_sql(conn, migration, "down")
            conn.execute("DELETE FROM schema_migrations WHERE version = %s", (migration.version,))
        done.append(migration)
        if on_reverted is not None:
            on_reverted(migration)


# -- dry runs ----------------------------------------------------------------------------------------


def _script(header: str, steps: Iterable[tuple[Migration, str, str]]) -> str:
    chunks = [f"-- {header}\n-- dry run: nothing was executed\n"]
    for migration, direction, bookkeeping in steps:
        body = (migration.up_sql if direction == "up" else migration.down_sql).rstrip()
        chunks.append(
            f"\n-- {migration.filename(direction)}\nBEGIN;\n{_LOCK_SQL};\n"
            + (f"{_CREATE_TABLE_SQL};\n" if direction == "up" else "")
            + f"{body}\n{bookkeeping};\nCOMMIT;\n"
        )
    return "".join(chunks)


def upgrade_script(conn: Connection, *, to: int | None = None, source: MigrationSource = None) -> str:
    """The SQL `upgrade` would run now, as one psql-runnable script; reads only, changes nothing.

    Raises exactly what `upgrade` would raise before applying anything.
    """
    migrations = load_migrations(source)
    _check_target(to, migrations)
    status = _status(conn, migrations)
    plan = _plan_upgrade(status, to)
    target = plan[-1].version if plan else status.current
    return _script(
        f"omniclaude db upgrade: {status.current:04d} -> {target:04d} ({len(plan)} migration(s))",
        (
            (
                m,
                "up",
                "INSERT INTO schema_migrations (version, name, checksum) "
                f"VALUES ({m.version}, '{m.name}', '{m.checksum}')",
            )
            for m in plan
        ),
    )


def downgrade_script(
    conn: Connection, *, to: int | None = None, steps: int | None = None, source: MigrationSource = None
) -> str:
    """The SQL `downgrade` would run now, as one psql-runnable script; reads only, changes nothing."""
    migrations = load_migrations(source)
    _check_target(to, migrations)
    status = _status(conn, migrations)
    target = _downgrade_target(status, to, steps)
    plan = _plan_downgrade(status, migrations, target)
    return _script(
        f"omniclaude db downgrade: {status.current:04d} -> "
        f"{min(target, status.current):04d} ({len(plan)} migration(s))",
        ((m, "down", f"DELETE FROM schema_migrations WHERE version = {m.version}") for m in plan),
    )
