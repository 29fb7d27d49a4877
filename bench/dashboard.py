"""Dashboard and report benchmark: page render time and `omniclaude report` wall time on a large database.

Usage: python bench/dashboard.py [--events N] [--usage N] [--sessions N] [--runs K]

Seeds a fresh database (the migration runner's schema) by COPY with N hook events (default 1,000,000)
over S sessions (default 5,000) and 100,000 llm_usage rows spread over 30 days, then VACUUM ANALYZE.
Uses OMNICLAUDE_TEST_DATABASE_URL (a superuser: it creates a database), else a PostgreSQL cluster
started with the test harness.

For every page (HTML and its JSON twin) it prints the median of K server-side renders (in-process
ASGI request, database included) next to the bare `omniclaude.report` call the page makes, and their
ratio; for every `omniclaude report` command the median wall and CPU time of K runs next to a bare
interpreter start (`python -c pass`). On a shared machine the wall times carry its load; the load
average is printed with them. Targets: a page in 300 ms or less, a report command in 1 s or less.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lib"), str(ROOT)]

import psycopg  # noqa: E402
from omniclaude import report  # noqa: E402
from omniclaude.db import migrations  # noqa: E402

PAGE_TARGET_MS = 300
REPORT_TARGET_MS = 1000


@contextlib.contextmanager
def database() -> Iterator[str]:
    """A fresh database URL on the external server or a harness-owned cluster; dropped afterwards."""
    from tests.harness.postgres import ExternalPostgres, PostgresCluster, database_name

    with contextlib.ExitStack() as stack:
        url = os.environ.get("OMNICLAUDE_TEST_DATABASE_URL")
        if url:
            server: Any = ExternalPostgres(url)
        else:
            server = stack.enter_context(PostgresCluster())
        db = server.create_database()
        try:
            yield db
        finally:
            server.drop_database(database_name(db))


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def seed(url: str, events: int, usage: int, sessions: int) -> None:
    from tests.omniclaude.report.scenario import seed_bulk

    with psycopg.connect(url) as conn:
        migrations.upgrade(conn)
        start = time.perf_counter()
        seed_bulk(conn, sessions=sessions, events=events, usage=usage)
        print(
            f"seeded {events:,} hook events, {usage:,} usage rows, {sessions:,} sessions by COPY "
            f"(rollup trigger included) in {time.perf_counter() - start:.1f} s"
        )
    with psycopg.connect(url, autocommit=True) as conn:
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE in {time.perf_counter() - start:.1f} s")


def bench_pages(url: str, runs: int) -> list[float]:
    from omniclaude.dashboard import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's nudge from httpx towards httpx2
        from starlette.testclient import TestClient

    with report.connect(url) as conn:
        sid = report.sessions(conn, report.Window())[0].claude_session_id
    week = report.Window()
    fortnight = report.Window(since=week.since - timedelta(days=7))
    pages: list[tuple[str, Callable[[Any], object]]] = [
        ("/", lambda c: (report.overview(c, fortnight), report.has_sessions(c))),
        ("/sessions", lambda c: report.sessions(c, week)),
        (f"/sessions/{sid}", lambda c: report.session_detail(c, sid)),
        ("/tools", lambda c: report.tools(c, week)),
        ("/agents", lambda c: (report.agents(c, week), report.routing_decisions(c, week))),
        ("/projects", lambda c: report.projects(c, week)),
    ]
    worst: list[float] = []
    print(f"\n{'page':<34} {'html ms':>8} {'json ms':>8} {'report ms':>10} {'html/report':>12}")
    with TestClient(create_app(url)) as client, report.connect(url) as conn:
        for path, call in pages:
            for suffix in ("", ".json"):  # warm the pool and the caches
                client.get((path.rstrip("/") or "/overview") + suffix if suffix else path)
            html = median_ms(lambda p=path: client.get(p).raise_for_status(), runs)
            twin = (path.rstrip("/") or "/overview") + ".json"
            as_json = median_ms(lambda p=twin: client.get(p).raise_for_status(), runs)
            bare = median_ms(lambda f=call: f(conn), runs)
            worst.append(max(html, as_json))
            label = path if len(path) < 34 else path[:31] + "..."
            print(f"{label:<34} {html:>8.1f} {as_json:>8.1f} {bare:>10.1f} {html / bare:>11.2f}x")
    return worst


def children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def run_timed(command: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall ms and median CPU ms (the child's user + system time) of `runs` runs."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = children_cpu_ms(), time.perf_counter()
        subprocess.run(command, check=True, env=env, capture_output=True)
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append(children_cpu_ms() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def bench_reports(url: str, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    bare_wall, bare_cpu = run_timed([sys.executable, "-c", "pass"], runs, env)
    print(f"\n{'command':<30} {'wall ms':>8} {'cpu ms':>7} {'python -c pass wall/cpu':>24} {'wall ratio':>10}")
    worst = []
    commands = [["sessions"], ["usage"], ["usage", "--by", "model"], ["tools"], ["agents"], ["failures"]]
    for argv in commands:
        command = [sys.executable, "-m", "omniclaude", "report", *argv, "--database-url", url]
        wall, cpu = run_timed(command, runs, env)
        worst.append(wall)
        print(
            f"{'report ' + ' '.join(argv):<30} {wall:>8.1f} {cpu:>7.1f} {bare_wall:>15.1f} / {bare_cpu:>6.1f}"
            f" {wall / bare_wall:>9.2f}x"
        )
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--usage", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with database() as url:
        seed(url, args.events, args.usage, args.sessions)
        pages = bench_pages(url, args.runs)
        reports = bench_reports(url, max(3, args.runs // 2))
    print(f"\nload average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(
        f"slowest page {max(pages):.0f} ms (target {PAGE_TARGET_MS}); "
        f"slowest report command {max(reports):.0f} ms (target {REPORT_TARGET_MS})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
