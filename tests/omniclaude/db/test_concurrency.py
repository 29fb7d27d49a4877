"""Concurrent runners serialise on the advisory lock: every migration is applied (or reverted) once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from omniclaude.db.migrations import LOCK_KEY, Migration, current_version, downgrade, latest_version, upgrade

Connect = Callable[[str], psycopg.Connection[Any]]
RUNNERS = 4


def _race(url: str, connect: Connect, run: Callable[[psycopg.Connection[Any]], list[Migration]]) -> list[int]:
    """Starts RUNNERS runners at the same instant, each on its own connection; returns every version
    any of them reported doing, in the order reported."""
    connections = [connect(url) for _ in range(RUNNERS)]
    barrier = threading.Barrier(RUNNERS)

    def one(conn: psycopg.Connection[Any]) -> list[Migration]:
        barrier.wait(timeout=30)
        return run(conn)

    with ThreadPoolExecutor(RUNNERS) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(one, c) for c in connections]]
    return [m.version for done in results for m in done]


def test_four_runners_apply_each_migration_exactly_once(fresh_url: str, connect: Connect) -> None:
    done = _race(fresh_url, connect, upgrade)
    assert sorted(done) == list(range(1, latest_version() + 1))
    with connect(fresh_url) as conn:
        rows = conn.execute("SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY 1").fetchall()
    assert rows == [(v, 1) for v in range(1, latest_version() + 1)]


def test_four_runners_revert_each_migration_exactly_once(fresh_url: str, connect: Connect) -> None:
    upgrade(connect(fresh_url))
    done = _race(fresh_url, connect, lambda conn: downgrade(conn, to=0))
    assert sorted(done) == list(range(1, latest_version() + 1))
    assert current_version(connect(fresh_url)) == 0


def test_runners_asked_for_one_step_each_revert_a_different_migration(fresh_url: str, connect: Connect) -> None:
    upgrade(connect(fresh_url))
    latest = latest_version()
    done = _race(fresh_url, connect, lambda conn: downgrade(conn, steps=1))
    # Each runner reverts one step from the state it finds under the lock (once none is left, nothing).
    left = max(latest - RUNNERS, 0)
    assert sorted(done) == list(range(left + 1, latest + 1))
    assert current_version(connect(fresh_url)) == left


def test_a_runner_waits_for_the_lock(fresh_url: str, connect: Connect) -> None:
    holder = connect(fresh_url)
    holder.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))  # held until holder commits
    finished = threading.Event()

    def run() -> None:
        upgrade(connect(fresh_url))
        finished.set()

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert not finished.wait(1.0), "upgrade ran while another session held the migration lock"
        assert current_version(connect(fresh_url)) == 0
    finally:
        holder.commit()
        worker.join(60)
    assert finished.is_set()
    assert current_version(connect(fresh_url)) == latest_version()
