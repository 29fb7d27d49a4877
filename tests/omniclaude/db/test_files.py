"""The migration files: one naming convention, every up with its down, contiguous versions, no
transaction control inside, and the runner finds the same files as the checkout holds."""

from __future__ import annotations

import hashlib
import importlib.resources
import re
import shutil
from pathlib import Path

import pytest
from omniclaude.db.migrations import MigrationSourceError, load_migrations

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "sql" / "migrations"
NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.(up|down)\.sql$")
# Files that may sit beside the migrations: the package marker and Python's byte-code cache.
NOT_MIGRATIONS = {"__init__.py", "__pycache__"}
TRANSACTION_CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|END|START\s+TRANSACTION|SAVEPOINT|RELEASE)\b", re.IGNORECASE | re.MULTILINE
)


def _files() -> list[str]:
    return sorted(p.name for p in MIGRATIONS_DIR.iterdir() if p.name not in NOT_MIGRATIONS)


def _stems(direction: str) -> set[str]:
    suffix = f".{direction}.sql"
    return {name[: -len(suffix)] for name in _files() if name.endswith(suffix)}


def test_there_are_migrations() -> None:
    assert _stems("up"), f"no migrations in {MIGRATIONS_DIR}"


def test_every_file_follows_the_naming_convention() -> None:
    assert [name for name in _files() if not NAME.match(name)] == []


def test_every_up_has_its_down() -> None:
    assert sorted(_stems("up") - _stems("down")) == []


def test_every_down_has_its_up() -> None:
    assert sorted(_stems("down") - _stems("up")) == []


def test_versions_are_contiguous_from_0001() -> None:
    versions = sorted(int(stem[:4]) for stem in _stems("up"))
    assert versions == list(range(1, len(versions) + 1))
    assert len({stem[:4] for stem in _stems("up")}) == len(_stems("up")), "two names share a version"


@pytest.mark.parametrize("name", [n for n in _files() if n.endswith(".sql")])
def test_files_hold_no_transaction_control(name: str) -> None:
    text = (MIGRATIONS_DIR / name).read_text(encoding="utf-8")
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    assert TRANSACTION_CONTROL.findall(code) == [], "the runner wraps each migration in its transaction"


def test_the_runner_loads_exactly_the_checkout_files() -> None:
    migrations = load_migrations()
    assert {m.label for m in migrations} == _stems("up")
    for m in migrations:
        up = MIGRATIONS_DIR / m.filename("up")
        assert m.checksum == hashlib.sha256(up.read_bytes()).hexdigest()
        assert m.up_sql == up.read_text(encoding="utf-8")
        assert m.down_sql == (MIGRATIONS_DIR / m.filename("down")).read_text(encoding="utf-8")


def test_the_installed_package_resolves_to_the_files() -> None:
    root = importlib.resources.files("omniclaude_migrations")
    names = {entry.name for entry in root.iterdir() if entry.name.endswith(".sql")}
    assert names == {n for n in _files() if n.endswith(".sql")}


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    target.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy2(path, target / path.name)
    return target


def test_the_runner_refuses_an_up_without_its_down(tmp_path: Path) -> None:
    source = _copy(tmp_path)
    (source / "0002_project_context.down.sql").unlink()
    with pytest.raises(MigrationSourceError, match="0002_project_context: the down script is missing"):
        load_migrations(source)


def test_the_runner_refuses_a_down_without_its_up(tmp_path: Path) -> None:
    source = _copy(tmp_path)
    (source / "0003_claude_hook_events.up.sql").unlink()
    with pytest.raises(MigrationSourceError, match="0003_claude_hook_events: the up script is missing"):
        load_migrations(source)


def test_the_runner_refuses_a_gap(tmp_path: Path) -> None:
    source = _copy(tmp_path)
    (source / "0009_later.up.sql").write_text("SELECT 1;\n")
    (source / "0009_later.down.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationSourceError, match="without a gap"):
        load_migrations(source)


def test_the_runner_refuses_a_badly_named_sql_file(tmp_path: Path) -> None:
    source = _copy(tmp_path)
    (source / "4_Oops.up.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationSourceError, match=r"4_Oops\.up\.sql"):
        load_migrations(source)


def test_the_runner_refuses_two_names_for_one_version(tmp_path: Path) -> None:
    source = _copy(tmp_path)
    (source / "0003_claude_hook_events.down.sql").rename(source / "0003_other.down.sql")
    with pytest.raises(MigrationSourceError, match="two names"):
        load_migrations(source)


def test_the_runner_refuses_two_up_scripts_for_one_version(tmp_path: Path) -> None:
    source = _copy(tmp_path)
    (source / "0003_again.up.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationSourceError, match="two up scripts"):
        load_migrations(source)
