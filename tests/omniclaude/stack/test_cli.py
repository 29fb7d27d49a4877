"""`omniclaude stack` refusals and quiet answers, without starting anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(home: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OMNICLAUDE_", "JAVA_HOME"))}
    env["OMNICLAUDE_HOME"] = str(home)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "omniclaude", "stack", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_java_is_one_line_naming_the_packages(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    done = run(tmp_path, "up", path=str(empty))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("omniclaude stack: java not found")
    assert "apt-get install default-jre-headless" in lines[0] and "brew install openjdk" in lines[0]
    assert not (tmp_path / "data" / "stack" / "state.json").exists()


def test_status_and_down_without_a_stack(tmp_path: Path) -> None:
    status = run(tmp_path, "status")
    assert status.returncode == 0
    assert "supervisor  stopped" in status.stdout
    down = run(tmp_path, "down")
    assert down.returncode == 0
    assert "nothing to stop" in down.stdout


def test_logs_of_an_unknown_part_is_a_usage_error(tmp_path: Path) -> None:
    assert run(tmp_path, "logs", "zookeeper").returncode == 2
    assert run(tmp_path, "logs", "kafka").returncode == 1
