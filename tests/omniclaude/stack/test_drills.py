"""`omniclaude stack` for real, one stack for the whole module: concurrent ups, kills, down/up, purge.

The tests run in file order and share the stack: each leaves it as the next expects.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from omniclaude.stack.layout import DEFAULT_PORTS, read_json
from omniclaude.stack.parts import database_url
from omniclaude.stack.process import port_free, port_open

from tests.omniclaude.stack.conftest import StackHome, pids_of, processes_of

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

BATCH = 40
_LOG_EVENTS = """
import sys
from omniclaude.logger import log_event
tag, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    log_event("agent_action", {"agent": f"drill-{tag}", "action_type": "tool_call", "action_name": f"step-{i}",
                               "details": {}, "duration_ms": i, "success": True, "correlation_id": None})
"""


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def status(home: StackHome) -> dict[str, dict[str, Any]]:
    done = home.run("stack", "status", "--json", timeout=60)
    assert done.returncode == 0, done.stderr
    return {part["name"]: part for part in json.loads(done.stdout)["parts"]}


def log_events(home: StackHome, tag: str, count: int = BATCH) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LOG_EVENTS, tag, str(count)],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def stored(home: StackHome) -> tuple[int, int]:
    """(rows, distinct event ids) of the drill's events in the stack's database."""
    with psycopg.connect(database_url(read_json(home.root / "stack.json")), connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM agent_actions WHERE agent_name LIKE 'drill-%'"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def stored_or_none(home: StackHome) -> tuple[int, int] | None:
    try:
        return stored(home)
    except psycopg.Error:
        return None


@contextlib.contextmanager
def occupied(port: int) -> Iterator[None]:
    """Listen on 127.0.0.1:`port` (when it is free) for the duration."""
    sock = socket.socket()
    try:
        with contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            sock.listen()
        yield
    finally:
        sock.close()


def test_two_concurrent_ups_make_one_stack_and_a_busy_default_port_is_named(stack_home: StackHome) -> None:
    with occupied(DEFAULT_PORTS["kafka"]):
        first, second = stack_home.popen("stack", "up"), stack_home.popen("stack", "up")
        outputs = [process.communicate(timeout=300)[0] for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    text = "\n".join(outputs)
    assert text.count("starting the local stack") == 1, text
    assert text.count("the local stack already runs") == 1, text
    assert f"port {DEFAULT_PORTS['kafka']} (default for Kafka) is in use by another program: using" in text
    parts = status(stack_home)
    assert {name: (part["state"], part["health"]) for name, part in parts.items() if name != "supervisor"} == {
        name: ("running", "ok")
        for name in ("postgres", "kafka", "consumer", *(["dashboard"] if "dashboard" in parts else []))
    }
    assert parts["kafka"]["port"] != DEFAULT_PORTS["kafka"]
    assert sum("kafka.Kafka" in line for line in processes_of(stack_home.home)) == 1
    assert sum("omniclaude.stack.supervisor" in line for line in processes_of(stack_home.home)) == 1
    assert parts["supervisor"]["rss_bytes"] > 0 and parts["kafka"]["rss_bytes"] > 0
    config = (stack_home.home / "config" / "config.env").read_text()
    assert f"OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{parts['kafka']['port']}" in config
    secrets = stack_home.home / "config" / "secrets.env"
    assert "OMNICLAUDE_DATABASE_URL=postgresql://postgres:" in secrets.read_text()
    assert secrets.stat().st_mode & 0o777 == 0o600


def test_killed_kafka_and_consumer_are_restarted_and_nothing_is_lost_or_doubled(stack_home: StackHome) -> None:
    log_events(stack_home, "a")
    assert wait_until(lambda: stored_or_none(stack_home) == (BATCH, BATCH), timeout=90), stored_or_none(stack_home)

    before = status(stack_home)
    os.kill(before["kafka"]["pid"], signal.SIGKILL)
    log_events(stack_home, "b")  # they wait in the spool while Kafka is down
    assert wait_until(
        lambda: (p := status(stack_home)["kafka"])["restarts"] >= 1 and p["health"] == "ok", timeout=180
    ), stack_home.run("stack", "logs", "-n", "20").stdout

    os.kill(status(stack_home)["consumer"]["pid"], signal.SIGKILL)
    log_events(stack_home, "c")
    assert wait_until(
        lambda: (p := status(stack_home)["consumer"])["restarts"] >= 1 and p["health"] == "ok", timeout=120
    ), stack_home.run("stack", "logs", "-n", "20").stdout

    assert wait_until(lambda: stored_or_none(stack_home) == (3 * BATCH, 3 * BATCH), timeout=120), stored_or_none(
        stack_home
    )
    time.sleep(2)  # anything doubled would show up now
    assert stored(stack_home) == (3 * BATCH, 3 * BATCH)
    assert status(stack_home)["postgres"]["restarts"] == 0


def test_down_leaves_no_process_nor_port_and_up_brings_the_same_data_back(stack_home: StackHome) -> None:
    ports = read_json(stack_home.root / "stack.json")["ports"]
    down = stack_home.run("stack", "down", timeout=180)
    assert down.returncode == 0, down.stderr
    assert wait_until(lambda: not processes_of(stack_home.home), timeout=15), processes_of(stack_home.home)
    assert not any(port_open(port) for port in ports.values()), ports
    assert all(port_free(port) for port in ports.values()), ports
    assert all(part["state"] == "stopped" for part in status(stack_home).values())

    up = stack_home.run("stack", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "in use" not in up.stdout
    assert read_json(stack_home.root / "stack.json")["ports"] == ports
    assert stored(stack_home) == (3 * BATCH, 3 * BATCH)


def test_a_crash_then_up_brings_the_same_data_back(stack_home: StackHome) -> None:
    """As after a power cut: every process of the stack SIGKILLed, its pid and state files left behind."""
    ports = read_json(stack_home.root / "stack.json")["ports"]
    for pid in pids_of(stack_home.home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not processes_of(stack_home.home), timeout=15), processes_of(stack_home.home)
    assert (stack_home.root / "supervisor.pid").exists()
    assert (stack_home.root / "postgres" / "data" / "postmaster.pid").exists()

    up = stack_home.run("stack", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert read_json(stack_home.root / "stack.json")["ports"] == ports
    assert stored(stack_home) == (3 * BATCH, 3 * BATCH)


def test_down_purge_removes_the_data_and_the_settings_pointing_at_it(stack_home: StackHome) -> None:
    purge = stack_home.run("stack", "down", "--purge", timeout=180)
    assert purge.returncode == 0, purge.stderr
    assert not stack_home.root.exists()
    assert wait_until(lambda: not processes_of(stack_home.home), timeout=15), processes_of(stack_home.home)
    assert "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS" not in (stack_home.home / "config" / "config.env").read_text()
    assert "OMNICLAUDE_DATABASE_URL" not in (stack_home.home / "config" / "secrets.env").read_text()
