"""The forwarder as on Windows (simulated by tests/hooks/winsim.py), shipping to the real broker.

Hooks record as on Windows; then `omniclaude flush` runs as on Windows: msvcrt locks, a segment sealed by
renaming it once closed, SIGBREAK handled. os.name stays "posix" for the CLI (pathlib cannot make a
WindowsPath on this kernel); sys.platform says win32. Not run on native Windows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from omniclaude.spool import SpoolReader

from tests.omniclaude.forwarder.helpers import consume

ROOT = Path(__file__).resolve().parents[3]
WINSIM = ROOT / "tests" / "hooks" / "winsim.py"
CLI = "import sys\nfrom omniclaude.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"


def as_windows(
    script: Path, args: list[str], env: dict[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, str(WINSIM), str(script), *args], input=stdin, env=env, capture_output=True, timeout=180
    )


def test_hooks_and_flush_as_on_windows_ship_every_event(kafka: Any, tmp_path: Path) -> None:
    prefix = f"win{os.getpid()}"
    home = tmp_path / "oc"
    env = {
        "PATH": os.environ["PATH"],
        "OMNICLAUDE_HOME": str(home),
        "USERNAME": "tester",
        "WINSIM_REPORT": str(tmp_path / "report"),
        "OMNICLAUDE_TOPIC_PREFIX": prefix,
    }
    for number in range(5):
        payload = json.dumps({"session_id": f"s{number}"}).encode()
        hook = as_windows(ROOT / "hooks" / "capture.py", ["Stop"], env, payload)
        assert (hook.returncode, hook.stdout, hook.stderr) == (0, b"", b"")
    cli = tmp_path / "cli.py"
    cli.write_text(CLI)
    flush_env = {
        **env,
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "WINSIM_OS_NAME": "posix",
        "PYTHONPATH": str(ROOT / "lib"),
    }
    result = as_windows(cli, ["flush"], flush_env)
    assert result.returncode == 0, result.stderr.decode()
    assert "flushed 5 event(s) to Kafka" in result.stdout.decode()
    assert SpoolReader(str(home / "state" / "spool")).pending()[0] == 0
    records = consume(kafka.bootstrap, [f"{prefix}.claude-hook-events"])
    assert sorted(json.loads(r.value)["payload"]["input"]["session_id"] for r in records) == [f"s{n}" for n in range(5)]
    assert not list((home / "state" / "spool").glob("*.sealed"))  # sealed once closed, then shipped and deleted
