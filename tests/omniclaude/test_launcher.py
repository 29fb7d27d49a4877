import fcntl
import os
import time
from pathlib import Path

from omniclaude.launcher import LOCK_NAME, ensure_forwarder, forwarder_command, forwarder_running

FAKE_PYTHON = """#!/bin/sh
stdin=$(readlink /proc/$$/fd/0)
stdout=$(readlink /proc/$$/fd/1)
{
  echo "args: $*"
  echo "stdin: $stdin"
  echo "stdout: $stdout"
  echo "session-leader: $(awk '{print ($6 == '"$$"') ? "yes" : "no"}' /proc/$$/stat)"
  echo "pythonpath: $PYTHONPATH"
} > "$(dirname "$0")/ran.tmp"
mv "$(dirname "$0")/ran.tmp" "$(dirname "$0")/ran"
"""


def test_forwarder_running_follows_the_lock(tmp_path: Path) -> None:
    assert not forwarder_running(str(tmp_path))
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert forwarder_running(str(tmp_path))
    finally:
        os.close(fd)
    assert not forwarder_running(str(tmp_path))
    assert not forwarder_running(str(tmp_path / "missing" / "dir"))


def test_ensure_forwarder_starts_one_detached_process(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    spool = tmp_path / "spool"
    spool.mkdir()
    assert ensure_forwarder(str(spool), str(fake), {"PATH": os.environ["PATH"]})
    ran = tmp_path / "ran"
    deadline = time.monotonic() + 10
    while not ran.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = dict(line.split(": ", 1) for line in ran.read_text().splitlines())
    assert lines["args"] == " ".join(forwarder_command(str(spool), str(fake))[1:])
    assert lines["stdin"] == lines["stdout"] == "/dev/null"
    assert lines["session-leader"] == "yes"
    assert lines["pythonpath"].split(os.pathsep)[0] == str(Path(__file__).resolve().parents[2] / "lib")


def test_ensure_forwarder_leaves_a_running_one_alone(tmp_path: Path) -> None:
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert not ensure_forwarder(str(tmp_path), "/nonexistent/python", {})
    finally:
        os.close(fd)


def test_a_missing_interpreter_is_not_an_error(tmp_path: Path) -> None:
    assert not ensure_forwarder(str(tmp_path), str(tmp_path / "no-python"), {"PATH": ""})
