"""Capture modes over every prompt-bearing field Claude Code 2.1.x sends, and the hash key's life.

Each field carries a prompt with a secret in it; per mode: `full` sends it as written, `redacted` sends
it without the secret, `hash` sends the install's HMAC of it, `off` sends null.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from omniclaude import prompt_hash
from omniclaude.config import load_settings
from omniclaude.forwarder.prepare import prepare
from omniclaude.forwarder.run import Forwarder, RunOptions
from omniclaude.redact import Redactor
from omniclaude.spool import Spool

from tests.omniclaude.forwarder.helpers import MemorySink, make_settings, new_event

SECRET = "ghp_" + "Zq8Lm3Np5Rt7Vx9Bc2Df4Gh6Jk1" + "Ws0Ya2Ub4"
PROMPT = f"summarise the repo, then push with {SECRET}"
KEY = "ab" * 32
AGENT_RESPONSE = [{"type": "text", "text": PROMPT}]
BASE = {"session_id": "s1", "cwd": "/home/dev/demo", "transcript_path": "/t.jsonl", "permission_mode": "default"}

# (name, hook input, path of the prompt in the hook input)
FIELDS: list[tuple[str, dict[str, Any], tuple[str | int, ...]]] = [
    ("UserPromptSubmit.prompt", {"hook_event_name": "UserPromptSubmit", "prompt": PROMPT}, ("prompt",)),
    ("UserPromptExpansion.prompt", {"hook_event_name": "UserPromptExpansion", "prompt": PROMPT}, ("prompt",)),
    (
        "UserPromptExpansion.command_args",
        {"hook_event_name": "UserPromptExpansion", "command_name": "deploy", "command_args": PROMPT},
        ("command_args",),
    ),
    (
        "Stop.last_assistant_message",
        {"hook_event_name": "Stop", "last_assistant_message": PROMPT},
        ("last_assistant_message",),
    ),
    (
        "SubagentStop.last_assistant_message",
        {"hook_event_name": "SubagentStop", "agent_id": "a1", "last_assistant_message": PROMPT},
        ("last_assistant_message",),
    ),
    (
        "PreCompact.custom_instructions",
        {"hook_event_name": "PreCompact", "trigger": "manual", "custom_instructions": PROMPT},
        ("custom_instructions",),
    ),
    (
        "PostCompact.compact_summary",
        {"hook_event_name": "PostCompact", "compact_summary": PROMPT},
        ("compact_summary",),
    ),
    (
        "PreToolUse.Agent.prompt",
        {"hook_event_name": "PreToolUse", "tool_name": "Agent", "tool_input": {"prompt": PROMPT, "description": "d"}},
        ("tool_input", "prompt"),
    ),
    (
        "PreToolUse.Task.description",
        {"hook_event_name": "PreToolUse", "tool_name": "Task", "tool_input": {"prompt": "p", "description": PROMPT}},
        ("tool_input", "description"),
    ),
    (
        "PostToolUse.Agent.tool_response",
        {
            "hook_event_name": "PostToolUse",
            "tool_name": "Agent",
            "tool_input": {"prompt": "p"},
            "tool_response": AGENT_RESPONSE,
        },
        ("tool_response",),
    ),
    (
        "PreToolUse.Skill.args",
        {"hook_event_name": "PreToolUse", "tool_name": "Skill", "tool_input": {"skill": "deploy", "args": PROMPT}},
        ("tool_input", "args"),
    ),
    (
        "PostToolBatch.Agent.prompt",
        {
            "hook_event_name": "PostToolBatch",
            "tool_calls": [
                {"tool_name": "Read", "tool_input": {"file_path": "/a"}, "tool_response": "x"},
                {"tool_name": "Agent", "tool_input": {"prompt": PROMPT}, "tool_response": "launched"},
            ],
        },
        ("tool_calls", 1, "tool_input", "prompt"),
    ),
    (
        "PostToolBatch.Skill.args",
        {"hook_event_name": "PostToolBatch", "tool_calls": [{"tool_name": "Skill", "tool_input": {"args": PROMPT}}]},
        ("tool_calls", 0, "tool_input", "args"),
    ),
]


def _event(hook_input: dict[str, Any]) -> dict[str, Any]:
    hook_input = {**BASE, **hook_input}
    payload = {"hook_event_name": hook_input["hook_event_name"], "input": hook_input}
    return new_event("claude_hook", session="s1", payload=payload)


def _at(node: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _sent(tmp_path: Path, mode: str, hook_input: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    settings = make_settings(tmp_path, capture_mode=mode, prompt_hash_key=KEY)
    record = prepare(_event(hook_input), settings, Redactor())
    return _at(json.loads(record.value)["payload"]["input"], path)


@pytest.mark.parametrize(("name", "hook_input", "path"), FIELDS, ids=[field[0] for field in FIELDS])
def test_full_sends_the_prompt_as_written(tmp_path: Path, name: str, hook_input: dict[str, Any], path: Any) -> None:
    assert _sent(tmp_path, "full", hook_input, path) == _at(hook_input, path)


@pytest.mark.parametrize(("name", "hook_input", "path"), FIELDS, ids=[field[0] for field in FIELDS])
def test_redacted_sends_the_prompt_without_its_secret(
    tmp_path: Path, name: str, hook_input: dict[str, Any], path: Any
) -> None:
    sent = _sent(tmp_path, "redacted", hook_input, path)
    assert SECRET not in json.dumps(sent) and "summarise the repo" in json.dumps(sent)


@pytest.mark.parametrize(("name", "hook_input", "path"), FIELDS, ids=[field[0] for field in FIELDS])
def test_hash_sends_the_installs_hmac(tmp_path: Path, name: str, hook_input: dict[str, Any], path: Any) -> None:
    original = _at(hook_input, path)
    text = original if isinstance(original, str) else json.dumps(original, separators=(",", ":"), ensure_ascii=False)
    sent = _sent(tmp_path, "hash", hook_input, path)
    assert sent == prompt_hash.digest(KEY, text)
    assert sent != prompt_hash.digest("cd" * 32, text)  # another install's key gives another digest


@pytest.mark.parametrize(("name", "hook_input", "path"), FIELDS, ids=[field[0] for field in FIELDS])
def test_off_sends_null(tmp_path: Path, name: str, hook_input: dict[str, Any], path: Any) -> None:
    settings = make_settings(tmp_path, capture_mode="off")
    record = prepare(_event(hook_input), settings, Redactor())
    assert _at(json.loads(record.value)["payload"]["input"], path) is None
    assert "summarise the repo" not in record.value.decode()


def test_hash_without_a_key_drops_the_prompt(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, capture_mode="hash")
    record = prepare(_event({"hook_event_name": "UserPromptSubmit", "prompt": PROMPT}), settings, Redactor())
    assert json.loads(record.value)["payload"]["input"]["prompt"] is None


def test_ensure_key_writes_a_private_secrets_file_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    key = prompt_hash.ensure_key(settings)
    path = Path(settings.dirs.config) / "secrets.env"
    assert len(key) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert prompt_hash.ensure_key(settings) == key  # read back, not made again
    assert load_settings(settings.environ).prompt_hash_key == key
    assert path.read_text().count("OMNICLAUDE_PROMPT_HASH_KEY=") == 1


def test_ensure_key_appends_to_an_existing_secrets_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = Path(settings.dirs.config) / "secrets.env"
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    path.write_text("OMNICLAUDE_DATABASE_URL=postgresql://u:p@h/db")  # no final newline
    os.chmod(path, 0o600)
    key = prompt_hash.ensure_key(settings)
    loaded = load_settings(settings.environ)
    assert loaded.prompt_hash_key == key and loaded.database_url == "postgresql://u:p@h/db"


def test_the_forwarder_makes_the_key_on_first_use(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, capture_mode="hash")
    spool_dir = tmp_path / "state" / "spool"
    spool_dir.mkdir(parents=True, mode=0o700)
    from omniclaude import envelope

    Spool(str(spool_dir), 1 << 20).append(
        envelope.encode(_event({"hook_event_name": "UserPromptSubmit", "prompt": PROMPT}), 1 << 18)
    )
    sink = MemorySink()
    Forwarder([str(spool_dir)], settings, sink=sink).run(RunOptions(until_empty=True, idle_seconds=0))
    key = load_settings(settings.environ).prompt_hash_key
    assert key and json.loads(sink.records[0].value)["payload"]["input"]["prompt"] == prompt_hash.digest(key, PROMPT)
