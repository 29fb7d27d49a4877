"""The hooks.json command, as Claude Code runs it, starts a forwarder that brings every event to Kafka."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from omniclaude.forwarder.state import read_state
from omniclaude.launcher import forwarder_running

from tests.omniclaude.forwarder.helpers import consume, wait_until

ROOT = Path(__file__).resolve().parents[3]
HOOKS_JSON = json.loads((ROOT / "hooks" / "hooks.json").read_text())
FIXTURE = [json.loads(line) for line in (ROOT / "tests" / "fixtures" / "claude-code-2.1.328-session.jsonl").open()]


def command_for(event: str) -> str:
    [group] = HOOKS_JSON["hooks"][event]
    [hook] = group["hooks"]
    return str(hook["command"]).replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT))


def test_hook_starts_a_forwarder_and_every_event_reaches_kafka(kafka: Any, tmp_path: Path) -> None:
    home = tmp_path / "oc"
    spool = home / "state" / "spool"
    prefix = f"hook{os.getpid()}x{time.monotonic_ns()}"
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "OMNICLAUDE_HOME": str(home),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "OMNICLAUDE_TOPIC_PREFIX": prefix,
        "OMNICLAUDE_PYTHON": sys.executable,
        "OMNICLAUDE_FORWARDER_IDLE_SECONDS": "2",
    }
    try:
        for row in FIXTURE:
            env = {**row["env"], **base, "CLAUDE_PLUGIN_ROOT": str(ROOT)}
            result = subprocess.run(
                ["sh", "-c", command_for(row["stdin"]["hook_event_name"])],
                input=json.dumps(row["stdin"]).encode(),
                env=env,
                capture_output=True,
                timeout=30,
            )
            assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
        topic = f"{prefix}.claude-hook-events"
        received: list[Any] = []

        def all_arrived() -> bool:
            received[:] = consume(kafka.bootstrap, [topic])
            return len(received) >= len(FIXTURE)

        assert wait_until(all_arrived, timeout=10, interval=0.3), f"{len(received)} of {len(FIXTURE)} in 10 s"
        state = read_state(str(spool))
        assert isinstance(state.get("pid"), int), "no forwarder was started by the hook"
        assert state["pid"] != os.getpid()
        values = [json.loads(record.value) for record in received]
        assert len({value["event_id"] for value in values}) == len(FIXTURE)
        assert [value["payload"]["hook_event_name"] for value in values] == [
            row["stdin"]["hook_event_name"] for row in FIXTURE
        ]  # one session: one key, one partition, spool order
        assert {record.key for record in received} == {FIXTURE[0]["stdin"]["session_id"].encode()}
        prompts = [
            v["payload"]["input"]["prompt"] for v in values if v["payload"]["hook_event_name"] == "UserPromptSubmit"
        ]
        assert prompts[0] == "add a changelog"  # capture mode "redacted": no secret in it, so unchanged
        assert wait_until(lambda: not forwarder_running(str(spool)), timeout=15), "the forwarder did not go idle"
        assert read_state(str(spool))["exit_reason"] == "idle"
    finally:
        if forwarder_running(str(spool)):
            pid = read_state(str(spool)).get("pid")
            if isinstance(pid, int):
                os.kill(pid, 15)
