"""`omniclaude forward` and `omniclaude flush` through the real entry point, and `forwarder_status`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from omniclaude.cli import main
from omniclaude.cli.flush import progress_bar
from omniclaude.forwarder.lock import SpoolLock
from omniclaude.forwarder.state import StateFile, forwarder_status
from omniclaude.launcher import forwarder_running
from omniclaude.spool import SpoolReader

from tests.omniclaude.forwarder.helpers import consume, wait_until, write_events


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omniclaude", *args], env=env, capture_output=True, text=True, timeout=120
    )


def base_env(home: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "OMNICLAUDE_HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        **extra,
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "tmp").mkdir()
    return tmp_path


def test_flush_drains_every_spool_and_reports_the_count(kafka: Any, home: Path) -> None:
    prefix = f"cli{os.getpid()}"
    primary = home / "state" / "spool"
    fallback = home / "tmp" / f"omniclaude-{os.getuid()}" / "spool"  # the temp-dir fallback spool
    write_events(primary, 30)
    write_events(fallback, 12)
    env = base_env(home, OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap, OMNICLAUDE_TOPIC_PREFIX=prefix)
    result = run_cli("flush", env=env)
    assert result.returncode == 0, result.stderr
    assert "flushed 42 event(s) to Kafka" in result.stdout
    assert SpoolReader(str(primary)).pending()[0] == SpoolReader(str(fallback)).pending()[0] == 0
    assert len(consume(kafka.bootstrap, [f"{prefix}.agent-actions"])) == 42
    again = run_cli("flush", "--json", env=env)
    assert json.loads(again.stdout)["delivered"] == 0


def test_flush_without_kafka_says_what_to_set(home: Path) -> None:
    write_events(home / "state" / "spool", 1)
    result = run_cli("flush", env=base_env(home))
    assert result.returncode == 1
    assert "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS" in result.stderr


def test_flush_with_kafka_unreachable_reports_what_is_left(home: Path) -> None:
    write_events(home / "state" / "spool", 3)
    env = base_env(home, OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
    result = run_cli("flush", "--timeout", "1", "--json", env=env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["pending"] == 3 and report["last_error"]


def test_forward_refuses_bad_settings(home: Path) -> None:
    env = base_env(home, OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS="k:1", OMNICLAUDE_KAFKA_SECURITY_PROTOCOL="SASL_SSL")
    result = run_cli("forward", "--follow", env=env)
    assert result.returncode == 1
    assert "OMNICLAUDE_KAFKA_SASL_USERNAME" in result.stderr


def test_forward_on_a_spool_that_is_a_file(home: Path) -> None:
    not_a_folder = home / "spool-file"
    not_a_folder.write_text("x")
    env = base_env(home, OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
    result = run_cli("forward", "--spool", str(not_a_folder), env=env)
    assert result.returncode == 1
    assert "cannot use the spool" in result.stderr and "Not a directory" in result.stderr


def test_forward_exits_at_once_when_another_forwarder_runs(home: Path) -> None:
    spool = home / "state" / "spool"
    write_events(spool, 1)
    lock = SpoolLock(str(spool))
    assert lock.acquire()
    try:
        result = run_cli(
            "forward", "--spool", str(spool), env=base_env(home, OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
        )
    finally:
        lock.release()
    assert result.returncode == 0
    assert "another forwarder drains" in (spool / "forwarder.log").read_text()


def test_forward_usage_errors() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["forward", "--idle-seconds", "-1"])
    assert caught.value.code == 2


def test_forwarder_status(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    assert forwarder_status(str(spool))["running"] is False
    spool.mkdir()
    state = StateFile(str(spool))
    state.started(4242)
    state.delivered(7)
    state.error("Kafka send failed: boom")
    lock = SpoolLock(str(spool))
    assert lock.acquire()
    try:
        status = forwarder_status(str(spool))
    finally:
        lock.release()
    assert status["running"] is True and status["pid"] == 4242
    assert status["delivered_total"] == 7
    assert status["last_error"] == "Kafka send failed: boom" and status["last_error_at"]
    assert status["last_delivery_at"]
    stopped = forwarder_status(str(spool))
    assert stopped["running"] is False and stopped["pid"] is None
    assert stopped["exit_reason"] == "ended without a clean stop"
    state.stopped("idle")
    assert forwarder_status(str(spool))["exit_reason"] == "idle"


def test_status_shows_the_forwarder(home: Path) -> None:
    spool = home / "state" / "spool"
    spool.mkdir(parents=True)
    StateFile(str(spool)).started(1)
    result = run_cli("status", "--json", env=base_env(home))
    assert result.returncode == 0, result.stderr
    forwarder = json.loads(result.stdout)["forwarder"]
    assert forwarder["running"] is False and "last_error" in forwarder


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    assert progress_bar(20_000, io.StringIO()) is None
    assert progress_bar(0, _Terminal()) is None
    stream = _Terminal()
    bar = progress_bar(20_000, stream)
    assert bar is not None
    bar.update(20_000)
    bar.close()
    assert "20.0k/20.0k" in stream.getvalue() or "20000/20000" in stream.getvalue()


def test_flush_leaves_a_spool_to_the_forwarder_that_owns_it(kafka: Any, home: Path) -> None:
    spool = home / "state" / "spool"
    prefix = f"own{os.getpid()}"
    env = base_env(home, OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap, OMNICLAUDE_TOPIC_PREFIX=prefix)
    spool.mkdir(parents=True)
    owner = subprocess.Popen(
        [sys.executable, "-m", "omniclaude", "forward", "--spool", str(spool), "--follow"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: forwarder_running(str(spool)), timeout=20)
        write_events(spool, 500)
        result = run_cli("flush", "--json", env=env)
    finally:
        owner.terminate()
        assert owner.wait(timeout=20) == 0
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["ok"] is True
    assert report["delivered"] == 0 and report["by_others"] <= 500
    assert SpoolReader(str(spool)).pending()[0] == 0
    assert len(consume(kafka.bootstrap, [f"{prefix}.agent-actions"])) == 500


def test_the_sasl_password_never_reaches_the_log(home: Path) -> None:
    spool = home / "state" / "spool"
    write_events(spool, 2)
    password = "pw-Zq8-never-log-me"
    env = base_env(
        home,
        OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9",
        OMNICLAUDE_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        OMNICLAUDE_KAFKA_SASL_USERNAME="svc",
        OMNICLAUDE_KAFKA_SASL_PASSWORD=password,
    )
    result = run_cli("forward", "--idle-seconds", "0.2", "--max-failure-seconds", "0", env=env)
    assert result.returncode == 1
    log_text = (spool / "forwarder.log").read_text()
    assert "stay in the spool" in log_text
    assert password not in log_text + result.stdout + result.stderr
