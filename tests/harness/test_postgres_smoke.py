"""The PostgreSQL harness runs a real server: COPY, restarts that keep data, no leftover processes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.harness.postgres import ExternalPostgres, PostgresCluster, database_name

ROWS = 10_000


def test_copy_rows_and_count(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE smoke (id integer PRIMARY KEY, label text NOT NULL)")
        with conn.cursor() as cur, cur.copy("COPY smoke (id, label) FROM STDIN") as copy:
            for i in range(ROWS):
                copy.write_row((i, f"row {i}"))
        row = conn.execute("SELECT count(*), sum(id) FROM smoke").fetchone()
    assert row == (ROWS, ROWS * (ROWS - 1) // 2)


def test_stop_start_and_restart_keep_committed_data(postgres_controllable: PostgresCluster) -> None:
    url = postgres_controllable.create_database()
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('before stop')")
    port = postgres_controllable.port

    postgres_controllable.stop()
    assert not postgres_controllable.running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    postgres_controllable.start()
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO kept VALUES ('after start')")
    postgres_controllable.restart()

    assert postgres_controllable.port == port
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT value FROM kept ORDER BY value").fetchall()
    assert rows == [("after start",), ("before stop",)]


def test_external_server_creates_and_drops_databases(postgres: PostgresCluster | ExternalPostgres) -> None:
    external = ExternalPostgres(postgres.url)
    url = external.create_database("harness_named_db")
    assert database_name(url) == "harness_named_db"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("harness_named_db",)
    external.drop_database("harness_named_db")
    with psycopg.connect(postgres.url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'harness_named_db'").fetchone()
    assert row == (0,)


_OWNER = """
import sys, time
from tests.harness.postgres import PostgresCluster
cluster = PostgresCluster()
cluster.start()
print(cluster.pid, cluster.run_dir, flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@pytest.mark.postgres
def test_server_dies_with_a_killed_owner() -> None:
    """The parent-death signal stops the server even when its owner is SIGKILLed (no cleanup runs)."""
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    run_dir: Path | None = None
    try:
        assert owner.stdout is not None
        fields = owner.stdout.readline().split()
        assert fields, "the owner process did not start a cluster"
        pid, run_dir = int(fields[0]), Path(fields[1])
        assert not _gone(pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(pid)
    finally:
        owner.kill()
        owner.wait()
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
