"""A broker address that accepts connections and never answers: errors are reported, nothing wedges,
and the hook is as fast as without Kafka."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from omniclaude.forwarder.state import read_state
from omniclaude.launcher import forwarder_running
from omniclaude.spool import SpoolReader

from tests.omniclaude.forwarder.helpers import wait_until, write_events

ROOT = Path(__file__).resolve().parents[3]
HOOKS_JSON = json.loads((ROOT / "hooks" / "hooks.json").read_text())
FIXTURE = [json.loads(line) for line in (ROOT / "tests" / "fixtures" / "claude-code-2.1.328-session.jsonl").open()]


@pytest.fixture
def black_hole() -> Iterator[str]:
    """`127.0.0.1:PORT` of a listener that accepts every connection and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for connection in held:
        connection.close()


def env_for(home: Path, bootstrap: str | None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "OMNICLAUDE_HOME": str(home)}
    if bootstrap:
        env["OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    return env


def stop_forwarder(spool: Path) -> None:
    """Stops a forwarder a hook started for `spool` (its pid is in the state file), and waits for it."""
    if not forwarder_running(str(spool)):
        return
    pid = read_state(str(spool)).get("pid")
    if isinstance(pid, int):
        os.kill(pid, signal.SIGTERM)
    assert wait_until(lambda: not forwarder_running(str(spool)), timeout=20)


def test_forwarder_reports_the_error_and_gives_up_in_bounded_time(black_hole: str, tmp_path: Path) -> None:
    spools = [tmp_path / "a" / "spool", tmp_path / "b" / "spool"]
    for spool in spools:
        write_events(spool, 20)
    env = env_for(tmp_path, black_hole)
    python = [sys.executable, "-m", "omniclaude", "forward", "--spool"]
    detached = subprocess.Popen([*python, str(spools[0]), "--idle-seconds", "1", "--max-failure-seconds", "3"], env=env)
    follow = subprocess.Popen([*python, str(spools[1]), "--follow"], env=env, stderr=subprocess.PIPE)
    try:
        started = time.monotonic()
        assert wait_until(lambda: read_state(str(spools[1])).get("last_error"), timeout=30)
        assert follow.poll() is None
        follow.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        assert follow.wait(timeout=15) == 0
        assert time.monotonic() - asked < 10
        assert detached.wait(timeout=60) == 1
        assert time.monotonic() - started < 60
    finally:
        for process in (detached, follow):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert follow.stderr is not None
    log_text = follow.stderr.read().decode()
    assert "stay in the spool" in log_text
    for spool, reason in zip(spools, ("failure-limit", "stopped"), strict=True):
        state = read_state(str(spool))
        assert state["exit_reason"] == reason
        assert "Kafka" in state["last_error"] or "kafka" in state["last_error"].lower()
        assert state["delivered_total"] == 0
        assert SpoolReader(str(spool)).pending()[0] == 20
        assert not forwarder_running(str(spool))
    assert "stay in the spool" in (spools[0] / "forwarder.log").read_text()


def hook_seconds(command: str, stdin: bytes, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(["sh", "-c", command], input=stdin, env=env, capture_output=True, timeout=30)
    elapsed = time.perf_counter() - started
    assert (result.returncode, result.stdout) == (0, b"")
    return elapsed


def test_hook_latency_is_unchanged_by_an_unanswering_broker(black_hole: str, tmp_path: Path) -> None:
    record = next(row for row in FIXTURE if row["stdin"]["hook_event_name"] == "PreToolUse")
    [group] = HOOKS_JSON["hooks"]["PreToolUse"]
    command = group["hooks"][0]["command"].replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT))
    stdin = json.dumps(record["stdin"]).encode()
    homes = {"plain": tmp_path / "plain", "hole": tmp_path / "hole"}
    envs = {
        name: {
            **record["env"],
            **env_for(home, black_hole if name == "hole" else None),
            "OMNICLAUDE_PYTHON": sys.executable,
        }
        for name, home in homes.items()
    }
    times: dict[str, list[float]] = {"plain": [], "hole": []}
    try:
        for name in times:  # warm-up; the first configured run starts the forwarder
            hook_seconds(command, stdin, envs[name])
        for _run in range(9):
            for name, seconds in times.items():
                seconds.append(hook_seconds(command, stdin, envs[name]))
        # The forwarder the first run started may still be starting up on a busy machine.
        assert wait_until(lambda: forwarder_running(str(homes["hole"] / "state" / "spool")), timeout=30)
        assert not (homes["plain"] / "state" / "spool" / "forwarder.state").exists()
    finally:
        stop_forwarder(homes["hole"] / "state" / "spool")
    plain, hole = statistics.median(times["plain"]), statistics.median(times["hole"])
    assert hole <= 2 * plain + 0.020, (plain, hole)
