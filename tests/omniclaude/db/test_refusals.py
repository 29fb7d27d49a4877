"""What the runner refuses and reports: an edited applied migration, a database ahead of the code,
a schema behind it, an unknown target, and a failing migration (rolled back)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from omniclaude.db.migrations import (
    DatabaseAheadError,
    MigrationFailedError,
    ModifiedMigrationError,
    SchemaNotCurrentError,
    UnknownVersionError,
    applied_migrations,
    current_version,
    downgrade,
    downgrade_script,
    latest_version,
    load_migrations,
    pending,
    require_current,
    schema_status,
    upgrade,
    upgrade_script,
)

Connect = Callable[[str], psycopg.Connection[Any]]

NEXT = latest_version() + 1  # the version a newer omniclaude would add


def _exists(conn: psycopg.Connection[Any], name: str) -> bool:
    with conn.transaction():
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def test_an_edited_applied_migration_is_refused(conn: psycopg.Connection[Any], migrations_copy: Path) -> None:
    upgrade(conn, source=migrations_copy)
    edited = migrations_copy / "0002_project_context.up.sql"
    edited.write_text(edited.read_text() + "\n-- a later edit\n")

    status = schema_status(conn, source=migrations_copy)
    assert [m.label for m in status.modified] == ["0002_project_context"]
    assert not status.is_current
    assert "0002_project_context.up.sql" in status.describe()
    for attempt in (
        lambda: upgrade(conn, source=migrations_copy),
        lambda: upgrade_script(conn, source=migrations_copy),
        lambda: downgrade(conn, steps=1, source=migrations_copy),
        lambda: downgrade_script(conn, to=0, source=migrations_copy),
    ):
        with pytest.raises(ModifiedMigrationError, match=r"0002_project_context\.up\.sql was edited"):
            attempt()
    assert current_version(conn) == latest_version()  # nothing was reverted


def test_editing_a_pending_migration_is_fine(conn: psycopg.Connection[Any], migrations_copy: Path) -> None:
    upgrade(conn, to=1, source=migrations_copy)
    later = migrations_copy / "0003_claude_hook_events.up.sql"
    later.write_text(later.read_text() + "\n-- edited before anyone applied it\n")
    assert [m.version for m in upgrade(conn, source=migrations_copy)] == list(range(2, latest_version() + 1))


def _add_future_migration(source: Path) -> None:
    (source / f"{NEXT:04d}_future.up.sql").write_text("CREATE TABLE future_things (id INTEGER);\n")
    (source / f"{NEXT:04d}_future.down.sql").write_text("DROP TABLE IF EXISTS future_things;\n")


def test_a_database_ahead_of_the_code_is_reported_never_fixed(
    conn: psycopg.Connection[Any], migrations_copy: Path
) -> None:
    _add_future_migration(migrations_copy)
    upgrade(conn, source=migrations_copy)  # a newer omniclaude migrated this database
    rows_before = applied_migrations(conn)

    status = schema_status(conn)  # this (older) code
    assert status.ahead == 1
    assert status.behind == 0
    assert not status.is_current
    assert [(a.version, a.name) for a in status.unknown] == [(NEXT, "future")]
    assert status.current == NEXT and status.latest == latest_version()
    assert f"ahead by 1 ({NEXT:04d}_future)" in status.describe()
    with pytest.raises(SchemaNotCurrentError, match="ahead"):
        require_current(conn)
    for attempt in (
        lambda: upgrade(conn),
        lambda: upgrade_script(conn),
        lambda: downgrade(conn, steps=1),
        lambda: downgrade(conn, to=0),
    ):
        with pytest.raises(DatabaseAheadError, match=f"{NEXT:04d}_future"):
            attempt()
    assert applied_migrations(conn) == rows_before
    assert _exists(conn, "future_things")


def test_a_schema_behind_the_code_is_reported(conn: psycopg.Connection[Any]) -> None:
    upgrade(conn, to=1)
    status = schema_status(conn)
    latest = latest_version()
    assert (status.current, status.latest, status.behind, status.ahead) == (1, latest, latest - 1, 0)
    assert not status.is_current
    assert [m.label for m in pending(conn)] == [m.label for m in load_migrations()[1:]]
    with pytest.raises(SchemaNotCurrentError, match=f"behind by {latest - 1}"):
        require_current(conn)
    upgrade(conn)
    assert require_current(conn).is_current
    assert pending(conn) == []


def test_an_empty_database_is_at_version_0_and_status_creates_nothing(conn: psycopg.Connection[Any]) -> None:
    assert current_version(conn) == 0
    status = schema_status(conn)
    assert (status.current, status.behind, status.ahead) == (0, len(load_migrations()), 0)
    assert not _exists(conn, "schema_migrations")


def test_an_unknown_target_version_is_refused(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(UnknownVersionError, match="no migration 0009"):
        upgrade(conn, to=9)
    with pytest.raises(UnknownVersionError):
        downgrade(conn, to=9)
    assert current_version(conn) == 0


def test_upgrade_to_a_version_below_the_current_one_does_nothing(conn: psycopg.Connection[Any]) -> None:
    upgrade(conn)
    assert upgrade(conn, to=1) == []
    assert current_version(conn) == latest_version()


def test_downgrade_needs_exactly_one_of_to_and_steps(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        downgrade(conn)
    with pytest.raises(ValueError, match="exactly one"):
        downgrade(conn, to=0, steps=1)


def test_a_failing_migration_is_rolled_back_whole(conn: psycopg.Connection[Any], migrations_copy: Path) -> None:
    (migrations_copy / f"{NEXT:04d}_broken.up.sql").write_text("CREATE TABLE half_done (id INTEGER);\nSELECT 1 / 0;\n")
    (migrations_copy / f"{NEXT:04d}_broken.down.sql").write_text("DROP TABLE IF EXISTS half_done;\n")
    applied: list[int] = []
    with pytest.raises(MigrationFailedError, match=rf"{NEXT:04d}_broken\.up\.sql failed and was rolled back"):
        upgrade(conn, source=migrations_copy, on_applied=lambda m: applied.append(m.version))
    assert applied == list(range(1, latest_version() + 1))  # committed before the failure, and kept
    assert current_version(conn) == latest_version()
    assert not _exists(conn, "half_done")
