"""The real Claude Code, offline, with Kafka configured: the hook starts a forwarder that ships the session."""

import json
import os
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from omniclaude.forwarder.state import read_state
from omniclaude.launcher import forwarder_running

from tests.harness.claude_code import make_recorder_plugin, read_hook_log
from tests.harness.claude_fixtures import ClaudeSession
from tests.harness.messages_api import text, tool
from tests.omniclaude.forwarder.helpers import consume, wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.claude
def test_every_hook_firing_is_in_kafka_within_ten_seconds(
    claude_session: ClaudeSession, kafka: Any, tmp_path: Path
) -> None:
    claude_session.api.add(
        "FORWARD-A",
        tool("Bash", command="echo hello", description="Say hello"),
        tool("Bash", command="false", description="Fail on purpose"),
        text("done"),
    )
    recorder = make_recorder_plugin(tmp_path / "recorder")
    home = tmp_path / "oc"
    spool = home / "state" / "spool"
    prefix = f"cc{uuid.uuid4().hex[:10]}"
    try:
        outcome = claude_session(
            "FORWARD-A: say hello",
            plugin_dir=ROOT,
            extra_args=["--plugin-dir", str(recorder)],
            env={
                "OMNICLAUDE_HOME": str(home),
                "OMNICLAUDE_PYTHON": sys.executable,
                "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
                "OMNICLAUDE_TOPIC_PREFIX": prefix,
                "OMNICLAUDE_FORWARDER_IDLE_SECONDS": "3",
            },
        )
        ended = time.monotonic()
        assert outcome.returncode == 0, outcome.describe()
        truth = [record["stdin"] for record in read_hook_log(recorder)]
        received: list[Any] = []

        def arrived() -> bool:
            received[:] = consume(kafka.bootstrap, [f"{prefix}.claude-hook-events"], timeout=2)
            return len(received) >= len(truth)

        assert wait_until(arrived, timeout=10, interval=0.2), f"{len(received)} of {len(truth)} within 10 s"
        assert time.monotonic() - ended < 12
        values = [json.loads(record.value) for record in received]
        assert Counter((v["payload"]["hook_event_name"], v["payload"]["tool_name"]) for v in values) == Counter(
            (t["hook_event_name"], t.get("tool_name")) for t in truth
        )
        assert {v["context"]["claude_session_id"] for v in values} == {outcome.session_id}
        assert {record.key for record in received} == {str(outcome.session_id).encode()}
        state = read_state(str(spool))
        assert isinstance(state.get("pid"), int) and state["pid"] != os.getpid()  # started by a hook
    finally:
        pid = read_state(str(spool)).get("pid") if spool.exists() else None
        if isinstance(pid, int) and forwarder_running(str(spool)):
            os.kill(pid, signal.SIGTERM)
