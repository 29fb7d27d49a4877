"""The real Claude Code, offline, with this repo as a plugin: every hook firing reaches the spool."""

import sys
from collections import Counter
from pathlib import Path

import pytest
from omniclaude.events import ClaudeHookPayload, Envelope

from tests.harness.claude_code import make_recorder_plugin, read_hook_log
from tests.harness.claude_fixtures import ClaudeSession
from tests.harness.messages_api import text, tool

ROOT = Path(__file__).resolve().parents[2]


def spooled(home: Path) -> list[Envelope]:
    segments = sorted((home / "state" / "spool").glob("*.jsonl"))
    lines = [line for path in segments for line in path.read_bytes().splitlines()]
    return [Envelope.parse_json(line) for line in lines]


def firing(payload: dict[str, object]) -> tuple[object, ...]:
    return payload.get("hook_event_name"), payload.get("tool_name"), payload.get("tool_use_id"), payload.get("agent_id")


@pytest.mark.claude
def test_every_hook_firing_of_a_session_reaches_the_spool(claude_session: ClaudeSession, tmp_path: Path) -> None:
    notes = str(claude_session.project / "notes.txt")
    claude_session.api.add(
        "CAPTURE-A",
        tool("Write", file_path=notes, content="one\n"),
        tool("Read", file_path=notes),
        tool("Edit", file_path=notes, old_string="one", new_string="two"),
        tool("Bash", command="false", description="Fail on purpose"),
        text("done"),
    )
    recorder = make_recorder_plugin(tmp_path / "recorder")
    home = tmp_path / "oc"
    outcome = claude_session(
        "CAPTURE-A: edit the notes",
        plugin_dir=ROOT,
        extra_args=["--plugin-dir", str(recorder)],
        env={"OMNICLAUDE_HOME": str(home), "OMNICLAUDE_PYTHON": sys.executable},
    )
    assert outcome.returncode == 0, outcome.describe()

    truth = [record["stdin"] for record in read_hook_log(recorder)]
    events = spooled(home)
    payloads = [event.payload for event in events]
    assert all(isinstance(payload, ClaudeHookPayload) for payload in payloads)
    assert Counter(firing(p.input) for p in payloads) == Counter(firing(t) for t in truth)  # type: ignore[attr-defined]
    assert len(truth) >= 15
    for event in events:
        assert event.context.claude_session_id == outcome.session_id
        assert event.context.project_path == str(claude_session.project)
        assert event.context.project_name == claude_session.project.name
        assert event.context.working_directory == str(claude_session.project)
    tools = [p.tool_name for p in payloads if p.hook_event_name == "PreToolUse"]  # type: ignore[attr-defined]
    assert tools == ["Write", "Read", "Edit", "Bash"]
    [failure] = [p for p in payloads if p.hook_event_name == "PostToolUseFailure"]  # type: ignore[attr-defined]
    assert failure.success is False and failure.tool_name == "Bash"  # type: ignore[attr-defined]
