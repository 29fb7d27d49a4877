"""Fixtures for the consumer's tests against the real broker and database.

* ``migrated_url``: a fresh database with the schema created by the migration runner (never our own DDL).
* ``prefix``: a topic prefix of its own for each test; ``topics`` creates its topics (3 partitions).
* ``run_consumer``: starts the consumer in a thread (the real `Loop`, built like `main()` builds it) and
  stops it at the end of the test.
* ``consumer_process``: starts ``python -m omniclaude_consumer`` as a child process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from omniclaude.db import migrations
from omniclaude_consumer.__main__ import build_loop
from omniclaude_consumer.health import ConsumerState, HealthServer
from omniclaude_consumer.loop import Loop
from omniclaude_consumer.rows import TABLES
from omniclaude_consumer.settings import ConsumerSettings

from tests.consumer import factory
from tests.harness.postgres import database_name

REPO = Path(__file__).resolve().parents[2]


def migrate(url: str) -> str:
    with psycopg.connect(url) as conn:
        migrations.upgrade(conn)
    return url


@pytest.fixture
def migrated_url(postgres: Any) -> Iterator[str]:
    url = migrate(postgres.create_database())
    yield url
    postgres.drop_database(database_name(url))


@pytest.fixture
def prefix() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def topics(kafka: Any, prefix: str) -> str:
    factory.create_topics(kafka.bootstrap, prefix, partitions=3)
    return prefix


def settings_for(bootstrap: str, url: str, prefix: str, **overrides: Any) -> ConsumerSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap,
        "database_url": url,
        "topic_prefix": prefix,
        "consumer_group": f"{prefix}-group",
        "consumer_health_port": 0,
        "consumer_retry_backoff_ms": 100,
        "consumer_retry_backoff_max_ms": 1000,
        "consumer_poll_timeout_ms": 200,
        "consumer_session_timeout_ms": 6000,
    }
    values.update(overrides)
    return ConsumerSettings(**values)


@dataclass
class RunningConsumer:
    loop: Loop
    state: ConsumerState
    server: HealthServer
    thread: threading.Thread
    result: list[int] = field(default_factory=list)
    stopped: bool = False

    @property
    def port(self) -> int:
        return self.server.port

    def get(self, path: str) -> tuple[int, dict[str, Any] | str]:
        return http_get(self.port, path)

    def stop(self) -> int | None:
        if not self.stopped:
            self.stopped = True
            self.loop.request_stop()
            self.thread.join(timeout=30)
            self.loop.close()
            self.server.stop()
        return self.result[0] if self.result else None


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


@pytest.fixture
def run_consumer() -> Iterator[Callable[[ConsumerSettings], RunningConsumer]]:
    started: list[RunningConsumer] = []

    def start(settings: ConsumerSettings) -> RunningConsumer:
        state = ConsumerState(stall_seconds=settings.consumer_stall_seconds)
        server = HealthServer(state, "127.0.0.1", 0, tables=TABLES)
        server.start()
        loop = build_loop(settings, state)
        running = RunningConsumer(loop, state, server, threading.Thread(target=lambda: None))
        running.thread = threading.Thread(target=lambda: running.result.append(loop.run()), daemon=True)
        running.thread.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def consumer_env(settings: ConsumerSettings, home: Path) -> dict[str, str]:
    """The environment for `python -m omniclaude_consumer` with these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNICLAUDE_")}
    env["OMNICLAUDE_HOME"] = str(home)
    for name, value in settings.__dict__.items():
        if value is not None:
            env["OMNICLAUDE_" + name.upper()] = str(value)
    return env


@dataclass
class ConsumerProcess:
    settings: ConsumerSettings
    log_path: Path
    home: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self, **overrides: Any) -> None:
        settings = replace(self.settings, **overrides) if overrides else self.settings
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "omniclaude_consumer"],
                env=consumer_env(settings, self.home),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )

    def signal(self, sig: int) -> None:
        assert self.popen is not None
        self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.popen is not None
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture
def consumer_process(tmp_path: Path) -> Iterator[Callable[[ConsumerSettings], ConsumerProcess]]:
    made: list[ConsumerProcess] = []

    def make(settings: ConsumerSettings) -> ConsumerProcess:
        process = ConsumerProcess(settings, tmp_path / f"consumer-{len(made)}.log", tmp_path / "home")
        made.append(process)
        return process

    yield make
    for process in made:
        process.kill()


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]


def event_ids(url: str) -> dict[str, set[str]]:
    """Every event id in the database by table (executions: every execution id)."""
    out: dict[str, set[str]] = {}
    with psycopg.connect(url) as conn:
        for table in TABLES:
            column = "execution_id" if table == "agent_execution_logs" else "event_id"
            out[table] = {str(r[0]) for r in conn.execute(f"SELECT {column} FROM {table}")}
    return out


def expected_ids(records: list[factory.Record]) -> dict[str, set[str]]:
    """What `event_ids` should find after consuming the good `records`."""
    from omniclaude_consumer.rows import TABLE_OF

    out: dict[str, set[str]] = {table: set() for table in TABLES}
    for record in records:
        assert record.event_type is not None and record.value is not None
        table = TABLE_OF[record.event_type]
        if table == "agent_execution_logs":
            out[table].add(json.loads(record.value)["payload"]["execution_id"])
        else:
            out[table].add(str(record.event_id))
    return out
