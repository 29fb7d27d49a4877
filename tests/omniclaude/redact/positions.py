"""The places a hook sees text: each position builds a hook input around a text and finds it again in
the outgoing record's value.

Positions: Bash command and stdout, Write content, Edit new_string, Read content, UserPromptSubmit
prompt, an MCP result as a JSON-encoded string and as a dict, and input that is not JSON at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from omniclaude import envelope, hook
from omniclaude.config import Settings
from omniclaude.forwarder.prepare import OutgoingRecord, Redacting, prepare

BASE = {
    "session_id": "5b1f0c2e-7d7a-4d3e-9d5e-0c8a4f3b2a10",
    "transcript_path": "/home/dev/.claude/projects/demo/5b1f0c2e.jsonl",
    "cwd": "/home/dev/projects/demo",
    "permission_mode": "default",
    "prompt_id": "p-1",
}
CONTEXT: dict[str, object] = {
    "project_path": "/home/dev/projects/demo",
    "project_name": "demo",
    "working_directory": "/home/dev/projects/demo",
    "claude_session_id": BASE["session_id"],
    "terminal_id": None,
    "host": "box",
    "user": "dev",
    "pid": 42,
}


class Position(NamedTuple):
    """A hook event name, how to wrap a text as its stdin, and how to find the text in the record value."""

    event: str
    stdin: Callable[[str], bytes]
    extract: Callable[[dict[str, Any]], str]


def _hook(event: str, **fields: object) -> bytes:
    return json.dumps({**BASE, "hook_event_name": event, **fields}).encode()


def _input(value: dict[str, Any]) -> dict[str, Any]:
    return value["payload"]["input"]  # type: ignore[no-any-return]


def _mcp(text: str) -> dict[str, object]:
    return {"content": [{"type": "text", "text": text}], "isError": False}


POSITIONS: dict[str, Position] = {
    "bash-command": Position(
        "PreToolUse",
        lambda t: _hook(
            "PreToolUse", tool_name="Bash", tool_use_id="t1", tool_input={"command": t, "description": "run"}
        ),
        lambda v: _input(v)["tool_input"]["command"],
    ),
    "bash-stdout": Position(
        "PostToolUse",
        lambda t: _hook(
            "PostToolUse",
            tool_name="Bash",
            tool_use_id="t2",
            tool_input={"command": "cat notes.txt"},
            tool_response={"stdout": t, "stderr": "", "interrupted": False},
        ),
        lambda v: _input(v)["tool_response"]["stdout"],
    ),
    "write-content": Position(
        "PreToolUse",
        lambda t: _hook(
            "PreToolUse",
            tool_name="Write",
            tool_use_id="t3",
            tool_input={"file_path": "/home/dev/app/.env", "content": t},
        ),
        lambda v: _input(v)["tool_input"]["content"],
    ),
    "edit-new-string": Position(
        "PreToolUse",
        lambda t: _hook(
            "PreToolUse",
            tool_name="Edit",
            tool_use_id="t4",
            tool_input={
                "file_path": "/home/dev/app/settings.py",
                "old_string": "x = 1",
                "new_string": t,
                "replace_all": False,
            },
        ),
        lambda v: _input(v)["tool_input"]["new_string"],
    ),
    "read-content": Position(
        "PostToolUse",
        lambda t: _hook(
            "PostToolUse",
            tool_name="Read",
            tool_use_id="t5",
            tool_input={"file_path": "/home/dev/app/notes.md"},
            tool_response={"type": "text", "file": {"filePath": "/home/dev/app/notes.md", "content": t, "numLines": 1}},
        ),
        lambda v: _input(v)["tool_response"]["file"]["content"],
    ),
    "prompt": Position(
        "UserPromptSubmit",
        lambda t: _hook("UserPromptSubmit", prompt=t),
        lambda v: _input(v)["prompt"],
    ),
    "mcp-string": Position(
        "PostToolUse",
        lambda t: _hook(
            "PostToolUse",
            tool_name="mcp__db__query",
            tool_use_id="t6",
            tool_input={"sql": "select 1"},
            tool_response=json.dumps(_mcp(t)),
        ),
        lambda v: json.loads(_input(v)["tool_response"])["content"][0]["text"],
    ),
    "mcp-dict": Position(
        "PostToolUse",
        lambda t: _hook(
            "PostToolUse",
            tool_name="mcp__db__query",
            tool_use_id="t7",
            tool_input={"sql": "select 1"},
            tool_response=_mcp(t),
        ),
        lambda v: _input(v)["tool_response"]["content"][0]["text"],
    ),
    "not-json": Position(
        "PostToolUse", lambda t: ("not json\n" + t).encode(), lambda v: v["payload"]["raw"][len("not json\n") :]
    ),
}


def spool_line(position: Position, text: str, max_bytes: int = 256 * 1024) -> dict[str, Any]:
    """What the hook writes to the spool for ``text`` in ``position``, parsed back (as the forwarder reads it)."""
    hook_input, error, raw = hook.parse_input(position.stdin(text))
    payload = hook.build_payload(hook_input, position.event, error, raw)
    event = envelope.new_envelope("claude_hook", payload, "hook", dict(CONTEXT))
    return json.loads(envelope.encode(event, max_bytes))  # type: ignore[no-any-return]


def outgoing_strings(record: OutgoingRecord) -> Iterator[str]:
    """Every string that leaves in ``record``: the key, header values, and each string (and key) in the value."""
    if record.key is not None:
        yield record.key.decode("utf-8", "replace")
    for _name, value in record.headers:
        yield value.decode("utf-8", "replace")
    yield record.value.decode("utf-8", "replace")
    stack: list[object] = [json.loads(record.value)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def through_forwarder(position: Position, text: str, settings: Settings, redactor: Redacting) -> OutgoingRecord:
    """The outgoing record for ``text`` in ``position``, in process: hook payload, spool line, prepare."""
    return prepare(spool_line(position, text), settings, redactor)
