"""Drill: hook inputs nested 100, 300, 600, 990 and 5,000 levels deep, fired through the real hook (with
Kafka configured, so the hook starts the real detached forwarder), then ordinary events. `status`, `tail`
and doctor's spool check stay readable after every firing; the spool holds only shallow events; every
event, the deep ones as previews, reaches PostgreSQL through the real consumer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from omniclaude import _fastjson
from omniclaude.cli import main
from omniclaude.config import load_settings
from omniclaude.doctor import FAIL, check_spool
from omniclaude.spool import list_segments

from tests.consumer.conftest import ConsumerProcess, http_get, settings_for, wait_until
from tests.harness import free_port
from tests.hooks.test_capture import run_hook

DEPTHS = (100, 300, 600, 990, 5000)
ORDINARY = ("UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd")
REPO = Path(__file__).resolve().parents[2]


def deep_input(session: str, depth: int) -> bytes:
    """A PreToolUse input whose tool_input nests `depth` objects (written as text: no encoder recursion)."""
    inner = '{"k":' * depth + '"leaf"' + "}" * depth
    head = {"session_id": session, "hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": "/work"}
    return (json.dumps(head)[:-1] + f', "tool_input": {inner}}}').encode()


def ordinary_input(session: str, event: str) -> bytes:
    return json.dumps(
        {
            "session_id": session,
            "hook_event_name": event,
            "cwd": "/work",
            "prompt": "hello",
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
        }
    ).encode()


def readable_everywhere(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    assert main(["status", "--json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out)["pending_events"], int)
    assert main(["tail", "-n", "50"]) == 0
    out, _err = capsys.readouterr()
    assert "unreadable line" not in out  # the hook wrote only readable, shallow events
    assert check_spool(load_settings({"OMNICLAUDE_HOME": str(home)})).status != FAIL


def spooled_events(spool: Path) -> list[dict[str, Any]]:
    events = []
    for _seq, path, _sealed in list_segments(str(spool)):
        events += [json.loads(line) for line in Path(path).read_bytes().splitlines() if line.strip()]
    return events


def test_deep_hook_inputs_never_stop_the_pipeline(
    kafka: Any, migrated_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    home = tmp_path / "oc"
    prefix = "h" + uuid.uuid4().hex[:10]
    session = str(uuid.uuid4())
    env = {
        "OMNICLAUDE_HOME": str(home),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "OMNICLAUDE_TOPIC_PREFIX": prefix,
        "OMNICLAUDE_FORWARDER_IDLE_SECONDS": "2",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    for depth in DEPTHS:
        result = run_hook("PreToolUse", deep_input(session, depth), env)
        assert result.returncode == 0 and result.stdout == b"" and result.stderr == b"", (depth, result.stderr)
        readable_everywhere(capsys, home)
    for event in ORDINARY:
        assert run_hook(event, ordinary_input(session, event), env).returncode == 0
        readable_everywhere(capsys, home)

    spool = home / "state" / "spool"
    flushed = subprocess.run(
        [sys.executable, "-m", "omniclaude", "flush", "--timeout", "120", "--json"],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    assert json.loads(flushed.stdout)["pending"] == 0
    events = spooled_events(spool)  # what is left of the shipped segments, if any
    assert not any(_fastjson.exceeds_depth(event, _fastjson.EVENT_MAX_DEPTH) for event in events)

    port = free_port()
    consumer = ConsumerProcess(
        settings_for(kafka.bootstrap, migrated_url, prefix, consumer_health_port=port),
        tmp_path / "consumer.log",
        tmp_path / "consumer-home",
    )
    consumer.start()
    try:

        def stored() -> list[tuple[str, str | None, dict[str, Any]]]:
            with psycopg.connect(migrated_url) as conn:  # a database of its own: every row is this drill's
                rows = conn.execute("SELECT hook_event_name, claude_session_id, payload FROM claude_hook_events")
                return [(str(name), who, payload) for name, who, payload in rows.fetchall()]

        wait_until(lambda: len(stored()) == len(DEPTHS) + len(ORDINARY), 90, "every hook event in PostgreSQL")
        assert http_get(port, "/ready")[0] == 200
    finally:
        consumer.signal(signal.SIGTERM)
        assert consumer.wait(30) == 0, consumer.log_tail()
    rows = stored()
    deep = [(who, payload) for _name, who, payload in rows if payload.get("omniclaude_error")]
    assert len(deep) == len(DEPTHS)
    assert all(payload["omniclaude_error"] == "input is nested deeper than 64 levels" for _who, payload in deep)
    # parsed but too deep (100-990): the top-level fields are kept; 5,000 levels do not parse at all
    assert sum(who == session for who, _payload in deep) == len(DEPTHS) - 1
    ordinary = sorted(name for name, who, payload in rows if who == session and not payload.get("omniclaude_error"))
    assert ordinary == sorted(ORDINARY)
    readable_everywhere(capsys, home)
