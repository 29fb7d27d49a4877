"""The capture hook, run exactly as Claude Code runs it: the hooks.json command line under `sh -c`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omniclaude.events import ClaudeHookPayload, Envelope

from tests.harness.claude_code import HOOK_EVENTS

ROOT = Path(__file__).resolve().parents[2]
HOOKS_JSON = json.loads((ROOT / "hooks" / "hooks.json").read_text())
FIXTURE = [json.loads(line) for line in (ROOT / "tests" / "fixtures" / "claude-code-2.1.328-session.jsonl").open()]


def command_for(event: str) -> str:
    [group] = HOOKS_JSON["hooks"][event]
    [hook] = group["hooks"]
    return str(hook["command"])


def run_hook(event: str, stdin: bytes, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    full_env = {"PATH": os.environ["PATH"], **env, "CLAUDE_PLUGIN_ROOT": str(ROOT), "OMNICLAUDE_PYTHON": sys.executable}
    return subprocess.run(["sh", "-c", command_for(event)], input=stdin, env=full_env, capture_output=True, timeout=30)


def spooled(home: Path) -> list[Envelope]:
    spool = home / "state" / "spool"
    lines = [line for path in sorted(spool.glob("*.jsonl")) for line in path.read_bytes().splitlines()]
    return [Envelope.parse_json(line) for line in lines]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "oc"


def test_hooks_json_contract() -> None:
    assert "never decides" in HOOKS_JSON["description"]
    # Every event Claude Code 2.1.328 emits, except those whose mere registration changes its behaviour:
    # WorktreeCreate/WorktreeRemove replace its own worktree handling, FileChanged's matcher sets what it watches.
    assert set(HOOKS_JSON["hooks"]) == set(HOOK_EVENTS) - {"WorktreeCreate", "WorktreeRemove", "FileChanged"}
    for event, groups in HOOKS_JSON["hooks"].items():
        for group in groups:
            for hook in group["hooks"]:
                assert hook["type"] == "command"
                assert isinstance(hook["timeout"], int) and 0 < hook["timeout"] <= 30
                assert hook["command"] == f'"${{CLAUDE_PLUGIN_ROOT}}/hooks/run" hooks/capture.py {event}'


def test_every_fixture_payload_lands_in_the_spool(home: Path) -> None:
    for record in FIXTURE:
        event = record["stdin"]["hook_event_name"]
        env = {key: value for key, value in record["env"].items() if key.startswith("CLAUDE")}
        env["OMNICLAUDE_HOME"] = str(home)
        result = run_hook(event, json.dumps(record["stdin"]).encode(), env)
        assert result.returncode == 0 and result.stdout == b"" and result.stderr == b""
    events = spooled(home)
    assert len(events) == len(FIXTURE)
    for record, envelope in zip(FIXTURE, events, strict=True):
        stdin = record["stdin"]
        payload = envelope.payload
        assert isinstance(payload, ClaudeHookPayload)
        assert envelope.event_type == "claude_hook" and envelope.source == "hook"
        assert payload.hook_event_name == stdin["hook_event_name"]
        assert payload.tool_name == stdin.get("tool_name")
        assert payload.agent_id == stdin.get("agent_id")
        assert payload.input == stdin
        assert envelope.context.claude_session_id == stdin["session_id"]
        assert envelope.context.project_path == record["env"]["CLAUDE_PROJECT_DIR"]
        assert envelope.context.project_name == "demo-app"
        assert envelope.context.working_directory == stdin["cwd"]
        assert envelope.context.pid == int(record["env"]["CLAUDE_PID"])
        if stdin["hook_event_name"] == "PostToolUseFailure":
            assert payload.success is False and payload.duration_ms == stdin["duration_ms"]
        if stdin["hook_event_name"] == "PostToolUse":
            assert payload.success is True
    assert len({event.event_id for event in events}) == len(events)


GARBAGE = {
    "empty": b"",
    "whitespace": b"  \n\t ",
    "not json": b"hello there",
    "truncated json": b'{"session_id": "abc", "hook_event_name": "PreTo',
    "invalid utf-8": b'{"session_id": "\xff\xfe"}',
    "json array": b"[1, 2, 3]",
    "json string": b'"PreToolUse"',
    "json null": b"null",
    "nul bytes": b'{"session_id": "a\x00b"}\x00\x00',
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "ten megabytes": b'{"hook_event_name": "PostToolUse", "tool_response": "' + b"x" * (10 * 1024 * 1024) + b'"}',
    "wrong types": b'{"session_id": 5, "cwd": ["x"], "hook_event_name": 7, "duration_ms": "slow"}',
    "unknown event": b'{"session_id": "s", "hook_event_name": "BrandNewEvent", "cwd": "/x/y"}',
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_input_exits_zero_silently_and_is_recorded(home: Path, kind: str) -> None:
    result = run_hook("PreToolUse", GARBAGE[kind], {"OMNICLAUDE_HOME": str(home)})
    assert result.returncode == 0
    assert result.stdout == b""
    [event] = spooled(home)
    payload = event.payload
    assert isinstance(payload, ClaudeHookPayload)
    if kind == "unknown event":
        assert payload.hook_event_name == "BrandNewEvent" and payload.error is None
    elif kind == "ten megabytes":
        assert "truncated" in payload.input["tool_response"]
    elif kind in ("wrong types",):
        assert payload.hook_event_name == "PreToolUse" and payload.duration_ms is None
    else:
        assert payload.hook_event_name == "PreToolUse"
        assert payload.error


def test_an_unwritable_state_dir_falls_back_silently_on_stdout(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = subprocess.run(
        ["sh", "-c", command_for("UserPromptSubmit")],
        input=b'{"prompt": "hi"}',
        capture_output=True,
        timeout=30,
        env={
            "PATH": os.environ["PATH"],
            "CLAUDE_PLUGIN_ROOT": str(ROOT),
            "OMNICLAUDE_PYTHON": sys.executable,
            "HOME": str(blocker),
            "OMNICLAUDE_HOME": str(blocker),
            "TMPDIR": str(temp),
        },
    )
    assert result.returncode == 0 and result.stdout == b""
    assert result.stderr.decode().count("\n") == 1 and "cannot be used: Not a directory" in result.stderr.decode()
    [segment] = (temp / f"omniclaude-{os.getuid()}" / "spool").glob("*.jsonl")
    assert Envelope.parse_json(segment.read_bytes()).payload.hook_event_name == "UserPromptSubmit"  # type: ignore[attr-defined]


def test_no_interpreter_at_all_exits_zero(tmp_path: Path) -> None:
    result = subprocess.run(
        ["/bin/sh", "-c", command_for("Stop")],
        input=b"{}",
        capture_output=True,
        timeout=30,
        env={"PATH": str(tmp_path), "CLAUDE_PLUGIN_ROOT": str(ROOT), "OMNICLAUDE_HOME": str(tmp_path / "oc")},
    )
    assert result.returncode == 0 and result.stdout == b""


def test_the_recorded_interpreter_is_used(tmp_path: Path, home: Path) -> None:
    (home / "data").mkdir(parents=True)
    marker = tmp_path / "ran"
    fake = tmp_path / "fake-python"
    fake.write_text(f'#!/bin/sh\necho "$@" > {marker}\n')
    fake.chmod(0o755)
    (home / "data" / "python").write_text(f"{fake}\n")
    env = {"PATH": os.environ["PATH"], "CLAUDE_PLUGIN_ROOT": str(ROOT), "OMNICLAUDE_HOME": str(home)}
    subprocess.run(["sh", "-c", command_for("Stop")], input=b"{}", env=env, timeout=30, check=True)
    assert marker.read_text().split() == ["-I", "-S", f"{ROOT}/hooks/capture.py", "Stop"]


HOOK_IMPORTS = """
import io, sys
sys.argv = ["capture.py", "Stop"]
sys.stdin = io.TextIOWrapper(io.BytesIO(b'{"session_id": "s"}'))
sys.path.insert(0, sys.argv_lib) if False else sys.path.insert(0, LIB)
from omniclaude.hook import main
main()
third_party = sorted(name for name in sys.modules
                     if name.split(".")[0] not in {*sys.stdlib_module_names, "omniclaude", "__main__"})
ours = sorted(name for name in sys.modules if name.startswith("omniclaude"))
slow = sorted(name for name in SLOW if name in sys.modules)
print(third_party, ours, slow, sep="|")
"""
SLOW_MODULES = (
    "json", "re", "pathlib", "dataclasses", "typing", "threading", "subprocess", "tempfile", "shutil", "random",
)  # fmt: skip
"""Standard modules the hook keeps away from: each costs milliseconds of every tool call to import."""


def test_the_hook_imports_only_the_standard_library(home: Path) -> None:
    code = HOOK_IMPORTS.replace("LIB", repr(str(ROOT / "lib"))).replace("SLOW", repr(SLOW_MODULES))
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env={"OMNICLAUDE_HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    third_party, ours, slow = result.stdout.strip().split("|")
    assert third_party == "[]"
    assert "omniclaude.events" not in ours and "omniclaude.redact" not in ours
    assert slow == "[]", slow
