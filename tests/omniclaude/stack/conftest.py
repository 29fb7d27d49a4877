"""A scratch omniclaude home for `omniclaude stack` drills, and a way to run the real CLI in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from omniclaude.stack.jars import kafka_version

from tests.harness.kafka import ensure_kafka_classpath


@dataclass
class StackHome:
    """An OMNICLAUDE_HOME whose cache already holds the Kafka jars; runs `python -m omniclaude ...` there."""

    home: Path

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("OMNICLAUDE_")}
        env["OMNICLAUDE_HOME"] = str(self.home)
        return env

    @property
    def root(self) -> Path:
        return self.home / "data" / "stack"

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "omniclaude", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "omniclaude", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def processes_of(home: Path) -> list[str]:
    """Command lines of every process started for ``home``: its argv names it, or a variable of its
    environment (HOME, OMNICLAUDE_HOME) is it. Linux (/proc) only."""
    return [line for _pid, line in _processes(home)]


def pids_of(home: Path) -> list[int]:
    """The process ids of :func:`processes_of`."""
    return [pid for pid, _line in _processes(home)]


def _processes(home: Path) -> list[tuple[int, str]]:
    marker = str(home).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes()
            environ = b"\0" + (entry / "environ").read_bytes() + b"\0"
        except OSError:
            continue
        if argv and (marker in argv or b"=" + marker + b"\0" in environ):
            found.append((int(entry.name), argv.replace(b"\0", b" ").decode(errors="replace")))
    return found


def seed_jar_cache(cache: Path) -> None:
    """Link `cache`/kafka-<version> to the user cache's (fetched once, checksummed), so no test downloads."""
    shared = ensure_kafka_classpath().parent
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"kafka-{kafka_version()}").symlink_to(shared, target_is_directory=True)


@pytest.fixture(scope="module")
def stack_home() -> Iterator[StackHome]:
    """A fresh home outside pytest's 0700 temp tree (as root, PostgreSQL runs as `nobody`, who must reach it)."""
    base = Path(tempfile.mkdtemp(prefix="omniclaude-stack-"))
    base.chmod(0o755)
    seed_jar_cache(base / "cache")
    home = StackHome(base)
    try:
        yield home
    finally:
        home.run("stack", "down", "--purge", timeout=120)
        shutil.rmtree(base, ignore_errors=True)
