"""The offline Claude Code harness: the stand-in API alone, then real client sessions.

Tests marked ``claude`` run the real client (installed on first use, about
5 s; each session takes about a second). The event sequences asserted here
are those of Claude Code 2.1.328.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .claude_code import (
    claude_env,
    install_plugin,
    make_recorder_plugin,
    prepare_home,
    read_hook_log,
    validate_plugin,
)
from .claude_fixtures import ClaudeSession
from .messages_api import MessagesAPI, Turn, parallel, text, tool

REPO_ROOT = Path(__file__).resolve().parents[2]

# The fields every hook payload carries.
COMMON_FIELDS = {"session_id", "transcript_path", "cwd", "hook_event_name"}


def post(api: MessagesAPI, path: str, body: dict[str, Any]) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        api.base_url + path, data=json.dumps(body).encode(), method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["content-type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read()


def conversation(*user_texts: str, tools: bool = True) -> dict[str, Any]:
    """A request body whose user turns are ``user_texts``, with an assistant turn between each."""
    messages: list[dict[str, Any]] = []
    for index, content in enumerate(user_texts):
        if index:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": "..."}]})
        messages.append({"role": "user", "content": content})
    body: dict[str, Any] = {"model": "m", "max_tokens": 100, "messages": messages}
    if tools:
        body["tools"] = [{"name": "Bash", "input_schema": {"type": "object"}}]
    return body


def hook_events(records: list[dict[str, Any]]) -> list[str]:
    return [record["stdin"]["hook_event_name"] for record in records]


def summary(records: list[dict[str, Any]]) -> str:
    """One line per hook call: event, tool, agent and the payload's extra fields (for failure output)."""
    lines = []
    for record in records:
        payload = record["stdin"]
        extra = sorted(set(payload) - COMMON_FIELDS)
        lines.append(
            f"{payload['hook_event_name']} {payload.get('tool_name') or ''} {payload.get('agent_id') or ''} {extra}"
        )
    return "\n".join(lines)


# the stand-in alone -----------------------------------------------------------


def test_stand_in_streams_scripted_turns_in_order() -> None:
    with MessagesAPI() as api:
        api.add("MARK", tool("Bash", command="true"), text("done"))
        status, content_type, raw = post(api, "/v1/messages", dict(conversation("say MARK"), stream=True))
        events = [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: ")]
        second = post(api, "/v1/messages", conversation("say MARK", "result"))
        third = post(api, "/v1/messages", conversation("say MARK", "result", "more"))

    assert (status, content_type) == (200, "text/event-stream")
    assert [e["type"] for e in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[2]["content_block"]["name"] == "Bash"
    assert json.loads(events[3]["delta"]["partial_json"]) == {"command": "true"}
    assert events[5]["delta"]["stop_reason"] == "tool_use"
    assert json.loads(second[2])["content"] == [{"type": "text", "text": "done"}]
    assert json.loads(third[2])["content"] == [{"type": "text", "text": "ok"}]
    assert [(r.script, r.step) for r in api.requests] == [("MARK", 0), ("MARK", 1), ("MARK", None)]


def test_stand_in_answers_auxiliary_unknown_and_counting_requests() -> None:
    with MessagesAPI() as api:
        api.add("MARK", tool("Bash", command="true"))
        untooled = json.loads(post(api, "/v1/messages", conversation("MARK title", tools=False))[2])
        unscripted = json.loads(post(api, "/v1/messages", conversation("no marker"))[2])
        counted = json.loads(post(api, "/v1/messages/count_tokens", conversation("x"))[2])
        unknown = post(api, "/api/hello", {})

    assert untooled["content"] == unscripted["content"] == [{"type": "text", "text": "ok"}]
    assert untooled["stop_reason"] == "end_turn"
    assert counted["input_tokens"] > 0
    assert unknown[0] == 200
    assert api.unknown_paths == ["POST /api/hello"]


def test_stand_in_parallel_turn_and_broken_script() -> None:
    batch = parallel(tool("Read", file_path="a"), tool("Read", file_path="b"))
    with MessagesAPI() as api:
        api.add("MARK", batch)
        api.add("BROKEN", Turn(tool_uses=(None,)))  # type: ignore[arg-type]
        answer = json.loads(post(api, "/v1/messages", conversation("MARK"))[2])
        status = post(api, "/v1/messages", conversation("BROKEN"))[0]

    assert [block["input"] for block in answer["content"]] == [{"file_path": "a"}, {"file_path": "b"}]
    assert len({block["id"] for block in answer["content"]}) == 2
    assert status == 400
    assert len(api.errors) == 1


# the real client ----------------------------------------------------------------


@pytest.mark.claude
@pytest.mark.parametrize("target", [".", ".claude-plugin/plugin.json"])
def test_repo_manifests_pass_strict_validation(claude_bin: Path, tmp_path: Path, target: str) -> None:
    env = claude_env(prepare_home(tmp_path / "home"), "http://127.0.0.1:9")
    done = validate_plugin(claude_bin, REPO_ROOT / target, env, strict=True)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["manifest"]["errors"] == [] and report["manifest"]["warnings"] == [], report["manifest"]


def script_a(api: MessagesAPI, project: Path) -> None:
    """Write, Read, Edit ``notes.txt``, run a failing Bash command, then finish with text."""
    notes = str(project / "notes.txt")
    api.add(
        "SCENARIO-A",
        tool("Write", file_path=notes, content="one\n"),
        tool("Read", file_path=notes),
        tool("Edit", file_path=notes, old_string="one", new_string="two"),
        tool("Bash", command="false", description="Fail on purpose"),
        text("done A"),
    )


@pytest.mark.claude
def test_offline_session_runs_scripted_tools(claude_session: ClaudeSession) -> None:
    script_a(claude_session.api, claude_session.project)

    outcome = claude_session("SCENARIO-A: edit the notes")

    assert outcome.returncode == 0, outcome.describe()
    assert outcome.result is not None and outcome.result["result"] == "done A"
    assert (claude_session.project / "notes.txt").read_text() == "two\n"
    requests = claude_session.api.requests_for("SCENARIO-A")
    assert [r.step for r in requests] == [0, 1, 2, 3, 4]
    results = requests[-1].tool_results()
    assert [bool(r.get("is_error")) for r in results] == [False, False, False, True]
    assert "File created successfully" in results[0]["content"]
    assert "one" in results[1]["content"]
    assert results[3]["content"] == "Exit code 1"
    assert claude_session.api.unknown_paths == [] and claude_session.api.errors == []


@pytest.mark.claude
def test_plugin_hooks_fire_on_every_event(claude_session: ClaudeSession, tmp_path: Path) -> None:
    plugin = make_recorder_plugin(tmp_path / "recorder")
    script_a(claude_session.api, claude_session.project)

    outcome = claude_session("SCENARIO-A: edit the notes", plugin_dir=plugin)

    assert outcome.returncode == 0, outcome.describe()
    records = read_hook_log(plugin)
    tool_call = ["PreToolUse", "PostToolUse", "PostToolBatch"]
    assert hook_events(records) == [
        "SessionStart",
        "UserPromptSubmit",
        *tool_call * 3,
        "PreToolUse",
        "PostToolUseFailure",
        "PostToolBatch",
        "MessageDisplay",
        "Stop",
        "SessionEnd",
    ], summary(records)
    payloads = [record["stdin"] for record in records]
    assert all(set(p) >= COMMON_FIELDS and p["session_id"] == outcome.session_id for p in payloads)
    tools_seen = [p["tool_name"] for p in payloads if p["hook_event_name"] == "PreToolUse"]
    assert tools_seen == ["Write", "Read", "Edit", "Bash"]
    failure = next(p for p in payloads if p["hook_event_name"] == "PostToolUseFailure")
    assert failure["error"] == "Exit code 1" and failure["is_interrupt"] is False
    assert {"tool_use_id", "duration_ms", "prompt_id"} <= set(failure)
    env = records[0]["env"]
    assert env["CLAUDE_CODE_SESSION_ID"] == outcome.session_id
    assert env["CLAUDE_PLUGIN_ROOT"] == str(plugin)
    assert env["CLAUDE_PROJECT_DIR"] == str(claude_session.project)


@pytest.mark.claude
@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
def test_subagent_runs_its_own_script(claude_session: ClaudeSession, tmp_path: Path, background: bool) -> None:
    plugin = make_recorder_plugin(tmp_path / "recorder")
    api = claude_session.api
    api.add(
        "SCENARIO-B",
        tool(
            "Agent",
            description="Echo in a subagent",
            prompt="SUBAGENT-B: echo",
            subagent_type="general-purpose",
            run_in_background=background,
        ),
        text("main done"),
    )
    api.add("SUBAGENT-B", tool("Bash", command="echo from-sub", description="Echo"), text("sub done"))

    outcome = claude_session("SCENARIO-B: delegate", plugin_dir=plugin)

    assert outcome.returncode == 0, outcome.describe()
    records = read_hook_log(plugin)
    payloads = [record["stdin"] for record in records]
    start = next(p for p in payloads if p["hook_event_name"] == "SubagentStart")
    stop = next(p for p in payloads if p["hook_event_name"] == "SubagentStop")
    assert start["agent_id"] == stop["agent_id"] and start["agent_type"] == "general-purpose"
    assert stop["last_assistant_message"] == "sub done"
    sub_bash = next(p for p in payloads if p.get("tool_name") == "Bash")
    assert sub_bash["agent_id"] == start["agent_id"]
    assert api.requests_for("SUBAGENT-B")[-1].tool_results()[-1]["content"] == "from-sub"
    if not background:
        assert hook_events(records) == [
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse",
            "SubagentStart",
            "PreToolUse",
            "PostToolUse",
            "PostToolBatch",
            "SubagentStop",
            "PostToolUse",
            "PostToolBatch",
            "MessageDisplay",
            "Stop",
            "SessionEnd",
        ], summary(records)
    else:  # the parent turn ends first; the task notification starts another prompt
        assert hook_events(records).count("UserPromptSubmit") == 2, summary(records)
        assert hook_events(records)[-1] == "SessionEnd"


@pytest.mark.claude
def test_skill_tool_loads_plugin_skill(claude_session: ClaudeSession, tmp_path: Path) -> None:
    plugin = make_recorder_plugin(tmp_path / "recorder")
    skill = plugin / "skills" / "hello"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: hello\ndescription: Greets. Use when asked to say hello.\n---\n\n"
        "Run `python3 ${CLAUDE_PLUGIN_ROOT}/skills/hello/hello.py $ARGUMENTS`"
        " (skill dir ${CLAUDE_SKILL_DIR}).\n"
    )
    (skill / "hello.py").write_text("import sys\nprint('hello', *sys.argv[1:])\n")
    command = f'"{sys.executable}" "{skill / "hello.py"}" world'
    api = claude_session.api
    api.add(
        "SCENARIO-C",
        tool("Skill", skill="recorder:hello", args="world"),
        tool("Bash", command=command, description="Run the hello skill"),
        text("done C"),
    )

    outcome = claude_session("SCENARIO-C: greet", plugin_dir=plugin)

    assert outcome.returncode == 0, outcome.describe()
    first, after_skill, last = api.requests_for("SCENARIO-C")
    schema = first.tool_schema("Skill")
    assert schema is not None and schema["required"] == ["skill"]
    assert set(schema["properties"]) == {"skill", "args"}
    assert "- recorder:hello: Greets." in json.dumps(first.messages)
    skill_turn = after_skill.messages[-1]["content"]
    assert skill_turn[0] == {
        "type": "tool_result",
        "tool_use_id": skill_turn[0]["tool_use_id"],
        "content": "Launching skill: recorder:hello",
    }
    loaded = skill_turn[1]["text"]
    assert loaded.startswith(f"Base directory for this skill: {skill}")
    assert f"python3 {plugin}/skills/hello/hello.py world" in loaded and f"skill dir {skill}" in loaded
    assert last.tool_results()[-1]["content"] == "hello world"
    payloads = [record["stdin"] for record in read_hook_log(plugin)]
    used = next(p for p in payloads if p["hook_event_name"] == "PostToolUse" and p["tool_name"] == "Skill")
    assert used["tool_input"] == {"skill": "recorder:hello", "args": "world"}
    assert used["tool_response"] == {"success": True, "commandName": "recorder:hello"}


@pytest.mark.claude
def test_plugin_installed_from_directory_marketplace_fires_hooks(claude_session: ClaudeSession, tmp_path: Path) -> None:
    plugin = make_recorder_plugin(tmp_path / "recorder")
    marketplace = {
        "name": "recorder-local",
        "owner": {"name": "omniclaude tests"},
        "plugins": [{"name": "recorder", "source": "./"}],
    }
    (plugin / ".claude-plugin" / "marketplace.json").write_text(json.dumps(marketplace))
    installed = install_plugin(claude_session.claude, plugin, "recorder@recorder-local", claude_session.env())
    assert installed.returncode == 0, installed.stdout + installed.stderr
    claude_session.api.add("SCENARIO-D", tool("Bash", command="true", description="Nothing"), text("done D"))

    outcome = claude_session("SCENARIO-D: nothing")

    assert outcome.returncode == 0, outcome.describe()
    plugins = claude_session.home / ".claude" / "plugins"
    assert (plugins / "cache" / "recorder-local" / "recorder" / "0.0.1" / "hooks" / "hooks.json").is_file()
    records = read_hook_log(plugin)  # a directory marketplace's plugin runs from its source folder
    assert hook_events(records)[:2] == ["SessionStart", "UserPromptSubmit"], summary(records)
    assert records[0]["env"]["CLAUDE_PLUGIN_ROOT"] == str(plugin)
    assert records[0]["env"]["CLAUDE_PLUGIN_DATA"] == str(plugins / "data" / "recorder-recorder-local")
