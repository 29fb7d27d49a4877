"""The real Claude Code, offline: an agent loads a tracking skill through the Skill tool and runs it."""

import sys
from pathlib import Path

import pytest
from omniclaude.events import Envelope, ExecutionStartedPayload

from tests.harness.claude_fixtures import ClaudeSession
from tests.harness.messages_api import text, tool

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.claude
def test_an_agent_records_an_execution_through_the_skill(claude_session: ClaudeSession, tmp_path: Path) -> None:
    script = f"{ROOT}/hooks/run skills/log-execution/execute.py"  # as SKILL.md's allowed-tools names it
    claude_session.api.add(
        "SKILL-RUN",
        tool("Skill", skill="omniclaude:log-execution"),
        tool("Bash", command=f"{script} start --agent skill-tester --description 'from a session'"),
        text("recorded"),
    )
    home = tmp_path / "oc"
    outcome = claude_session(
        "SKILL-RUN: record an execution",
        plugin_dir=ROOT,
        env={"OMNICLAUDE_HOME": str(home), "OMNICLAUDE_PYTHON": sys.executable},
    )
    assert outcome.returncode == 0, outcome.describe()

    [request] = [r for r in claude_session.api.requests_for("SKILL-RUN") if r.step == 2]
    skill_result, bash_result = request.tool_results()
    assert "log-execution" in str(skill_result["content"])
    assert not bash_result.get("is_error"), bash_result
    loaded = str(request.messages)
    assert f"{script} --help" in loaded  # ${CLAUDE_PLUGIN_ROOT} was substituted

    segments = sorted((home / "state" / "spool").glob("*.jsonl"))
    lines = [line for path in segments for line in path.read_bytes().splitlines()]
    events = [Envelope.parse_json(line) for line in lines]
    [started] = [event for event in events if event.event_type == "execution_started"]
    assert isinstance(started.payload, ExecutionStartedPayload)
    assert started.payload.agent == "skill-tester" and started.source == "skill"
    assert started.context.claude_session_id == outcome.session_id
    assert started.context.project_name == claude_session.project.name
    assert str(started.payload.execution_id) in str(bash_result["content"])
    hooks = [event for event in events if event.event_type == "claude_hook"]
    assert {event.payload.tool_name for event in hooks} >= {"Skill", "Bash"}  # type: ignore[attr-defined]
