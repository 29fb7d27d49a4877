"""The seeded scenario database (see tests/omniclaude/report/scenario.py) and a real dashboard server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import free_port
from tests.omniclaude.db.conftest import new_database
from tests.omniclaude.report.conftest import now, seeded_url

__all__ = ["dashboard_server", "new_database", "now", "seeded_url", "start_dashboard"]


def start_dashboard(url: str, *args: str, home: Path) -> tuple[subprocess.Popen[str], str]:
    """Runs `omniclaude dashboard` on a free loopback port; returns the process and its base URL."""
    port = free_port()
    env = {**os.environ, "OMNICLAUDE_HOME": str(home)}
    env.pop("OMNICLAUDE_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "omniclaude", "dashboard", "--port", str(port), "--database-url", url, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the dashboard exited {process.returncode}: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            httpx.get(base + "/static/style.css", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the dashboard did not answer within 30 s")


@pytest.fixture(scope="module")
def dashboard_server(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of `omniclaude dashboard` serving the seeded database (stopped after the module)."""
    process, base = start_dashboard(seeded_url, home=tmp_path_factory.mktemp("home"))
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
