"""`omniclaude db` through the real entry point, `omniclaude.cli.main`: exit codes, output, dry runs,
the URL from the settings, and passwords never printed."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from omniclaude.cli import main
from omniclaude.db.migrations import current_version, latest_version, load_migrations, schema_status, upgrade
from omniclaude.masking import mask_url

Connect = Callable[[str], psycopg.Connection[Any]]
PASSWORD = "s3cret-Pw"


def _with_password(url: str) -> tuple[str, str]:
    """`url` with a password, and that password. The test cluster trusts 127.0.0.1, so any password
    works; an external server's URL keeps its own."""
    parts = urlsplit(url)
    if parts.password:
        return url, parts.password
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port}"
    return parts._replace(netloc=netloc).geturl(), PASSWORD


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["db", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_upgrade_status_downgrade(fresh_url: str, connect: Connect, capsys: pytest.CaptureFixture[str]) -> None:
    url, password = _with_password(fresh_url)

    code, out, err = _run(capsys, "status", "--database-url", url)
    assert code == 0, err
    labels = [m.label for m in load_migrations()]
    latest = latest_version()
    assert "0001_base_tables" in out and "pending" in out and f"behind by {latest}" in out

    code, out, err = _run(capsys, "upgrade", "--database-url", url)
    assert (code, err) == (0, "")
    assert out.splitlines() == [*(f"applied {label}" for label in labels), f"schema at {latest:04d}"]
    code, out, _ = _run(capsys, "upgrade", "--database-url", url)
    assert (code, out) == (0, f"nothing to apply: schema at {latest:04d}\n")

    code, out, err = _run(capsys, "status", "--database-url", url)
    assert code == 0, err
    assert "up to date" in out
    assert f"database: {mask_url(url)}" in out and ":***@" in out
    assert password not in out + err

    code, out, err = _run(capsys, "downgrade", "--steps", "2", "--database-url", url)
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"reverted {labels[-1]}", f"reverted {labels[-2]}", f"schema at {latest - 2:04d}"]
    code, out, _ = _run(capsys, "downgrade", "--to", "0", "--database-url", url)
    assert code == 0
    assert out.splitlines() == [*(f"reverted {label}" for label in reversed(labels[:-2])), "schema at 0000"]
    code, out, _ = _run(capsys, "upgrade", "--to", "2", "--database-url", url)
    assert code == 0
    assert current_version(connect(fresh_url)) == 2


def test_upgrade_dry_run_prints_the_sql_and_changes_nothing(
    fresh_url: str, connect: Connect, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "upgrade", "--dry-run", "--database-url", fresh_url)
    assert (code, err) == (0, "")
    assert "CREATE TABLE agent_actions" in out
    assert "CREATE VIEW claude_sessions" in out
    assert out.count("BEGIN;") == out.count("COMMIT;") == latest_version()
    conn = connect(fresh_url)
    row = conn.execute("SELECT to_regclass('schema_migrations'), to_regclass('agent_actions')").fetchone()
    assert row == (None, None)

    conn.rollback()
    upgrade(conn, to=2)
    code, out, _ = _run(capsys, "upgrade", "--dry-run", "--database-url", fresh_url)
    assert code == 0
    assert "0003_claude_hook_events.up.sql" in out and "0001_base_tables" not in out


def test_the_dry_run_script_is_what_the_runner_runs(
    new_database: Callable[[], str],
    connect: Connect,
    dump_schema: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.fail("psql not found: apt-get install postgresql-client", pytrace=False)
    by_runner, by_script = new_database(), new_database()
    upgrade(connect(by_runner))
    code, script, _ = _run(capsys, "upgrade", "--dry-run", "--database-url", by_script)
    assert code == 0
    subprocess.run(
        [psql, "--no-psqlrc", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", by_script],
        input=script,
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert dump_schema(by_script) == dump_schema(by_runner)
    assert schema_status(connect(by_script)).is_current  # same versions, names and checksums recorded


def test_downgrade_dry_run(fresh_url: str, connect: Connect, capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(connect(fresh_url))
    code, out, _ = _run(capsys, "downgrade", "--steps", "1", "--dry-run", "--database-url", fresh_url)
    assert code == 0
    last, before = load_migrations()[-1], load_migrations()[-2]
    assert last.label in out and f"DELETE FROM schema_migrations WHERE version = {last.version}" in out
    assert before.label not in out
    assert current_version(connect(fresh_url)) == last.version


def test_prune(fresh_url: str, connect: Connect, capsys: pytest.CaptureFixture[str]) -> None:
    conn = connect(fresh_url)
    upgrade(conn)
    with conn.transaction():
        conn.execute(
            "INSERT INTO agent_actions (event_id, occurred_at, agent_name, action_type, action_name) "
            "VALUES (gen_random_uuid(), now() - interval '2 hours', 'a', 'success', 'x'), "
            "(gen_random_uuid(), now(), 'a', 'success', 'x')"
        )
    code, out, err = _run(capsys, "prune", "--older-than", "90m", "--database-url", fresh_url)
    assert (code, err) == (0, "")
    lines = [line.split() for line in out.splitlines()[1:]]
    assert ["agent_actions", "1"] in lines
    assert ["claude_hook_events", "0"] in lines
    assert ["total", "1"] in lines


def test_refusals_exit_1_and_name_the_problem(
    fresh_url: str, connect: Connect, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = connect(fresh_url)
    upgrade(conn)
    with conn.transaction():  # as if 0002's file had changed since it was applied
        conn.execute("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 2")
    code, _, err = _run(capsys, "upgrade", "--database-url", fresh_url)
    assert code == 1
    assert "0002_project_context.up.sql was edited after it was applied" in err
    code, out, _ = _run(capsys, "status", "--database-url", fresh_url)
    assert code == 1
    assert "EDITED" in out

    with conn.transaction():  # as if a newer omniclaude had migrated this database
        conn.execute("UPDATE schema_migrations SET checksum = %s WHERE version = 2", (_checksum(2),))
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, 'future', 'x')",
            (latest_version() + 1,),
        )
    for argv in (("upgrade",), ("downgrade", "--steps", "1")):
        code, _, err = _run(capsys, *argv, "--database-url", fresh_url)
        assert code == 1
        assert "ahead" in err and f"{latest_version() + 1:04d}_future" in err
    code, out, _ = _run(capsys, "status", "--database-url", fresh_url)
    assert code == 1
    assert f"{latest_version() + 1:04d}_future" in out and "database ahead" in out
    assert current_version(conn) == latest_version() + 1  # reported, not fixed


def _checksum(version: int) -> str:
    from omniclaude.db.migrations import load_migrations

    return next(m.checksum for m in load_migrations() if m.version == version)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_database_exits_1_without_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://someone:{PASSWORD}@127.0.0.1:{_closed_port()}/nothing"
    for argv in (("status",), ("upgrade",), ("upgrade", "--dry-run"), ("prune", "--older-than", "1d")):
        code, out, err = _run(capsys, *argv, "--database-url", url)
        assert code == 1
        assert "cannot connect to postgresql://someone:***@127.0.0.1" in err
        assert PASSWORD not in out + err


@pytest.mark.parametrize(
    "argv",
    [
        ("downgrade",),
        ("downgrade", "--to", "1", "--steps", "1"),
        ("downgrade", "--steps", "0"),
        ("upgrade", "--to", "two"),
        ("prune",),
        ("prune", "--older-than", "3x"),
        ("prune", "--older-than", "1d", "--batch-size", "0"),
    ],
)
def test_bad_arguments_exit_2(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["db", *argv, "--database-url", "postgresql://unused@127.0.0.1:1/x"])
    assert exited.value.code == 2


def test_db_without_an_action_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db"]) == 2
    assert "upgrade" in capsys.readouterr().err


def test_an_unknown_version_exits_2(fresh_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "upgrade", "--to", "9", "--database-url", fresh_url)
    assert code == 2
    assert "no migration 0009" in err


def test_the_url_comes_from_the_settings(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path))
    monkeypatch.delenv("OMNICLAUDE_DATABASE_URL", raising=False)
    code, _, err = _run(capsys, "status")
    assert code == 2
    assert "no database URL" in err

    url, password = _with_password(fresh_url)
    monkeypatch.setenv("OMNICLAUDE_DATABASE_URL", url)
    code, out, err = _run(capsys, "upgrade")
    assert (code, err) == (0, "")
    code, out, _ = _run(capsys, "status")
    assert code == 0
    assert password not in out
