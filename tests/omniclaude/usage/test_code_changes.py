"""Code changes from PostToolUse inputs: structured patches, created files, commits, pull requests."""

from __future__ import annotations

import json
from pathlib import Path

from omniclaude.usage.code_changes import CodeChanges, code_changes

SESSION_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "claude-code-2.1.328-session.jsonl"


def post(tool: str, tool_input: dict[str, object], response: object) -> dict[str, object]:
    return {"hook_event_name": "PostToolUse", "tool_name": tool, "tool_input": tool_input, "tool_response": response}


def test_the_recorded_session_edits_as_claude_code_counts_them() -> None:
    inputs = [json.loads(line)["stdin"] for line in SESSION_FIXTURE.read_text().splitlines() if line.strip()]
    changes = [c for c in map(code_changes, inputs) if c is not None]
    assert sum(c.lines_added or 0 for c in changes) == 4  # Write of 3 lines, Edit of 1
    assert sum(c.lines_removed or 0 for c in changes) == 1


def test_a_patch_counts_plus_and_minus_lines() -> None:
    patch = [{"lines": [" a", "-b", "+c", "+d"]}, {"lines": ["-e"]}]
    assert code_changes(post("MultiEdit", {}, {"structuredPatch": patch})) == CodeChanges(2, 2)


def test_a_created_file_counts_its_lines() -> None:
    response = {"type": "create", "content": "a\nb\nc", "structuredPatch": []}
    assert code_changes(post("Write", {}, response)) == CodeChanges(3, 0)


def test_a_commit_gives_its_sha_and_branch() -> None:
    stdout = "[feature/x 1a2b3c4] Add the thing\n 1 file changed, 2 insertions(+)\n"
    found = code_changes(post("Bash", {"command": "git add -A && git commit -m 'Add'"}, {"stdout": stdout}))
    assert found == CodeChanges(commit_sha="1a2b3c4", commit_branch="feature/x")
    root = "[main (root-commit) 0f0f0f0] init\n"
    assert code_changes(post("Bash", {"command": "git commit -qm init"}, {"stdout": root})).commit_sha == "0f0f0f0"  # type: ignore[union-attr]


def test_a_pull_request_url() -> None:
    stdout = "Creating pull request\nhttps://github.com/acme/app/pull/42\n"
    found = code_changes(post("Bash", {"command": "gh pr create --fill"}, {"stdout": stdout}))
    assert found == CodeChanges(pr_url="https://github.com/acme/app/pull/42")


def test_other_calls_change_nothing() -> None:
    assert code_changes(post("Bash", {"command": "echo '[main abc1234] x'"}, {"stdout": "[main abc1234] x"})) is None
    assert code_changes(post("Read", {}, {"structuredPatch": [{"lines": ["+x"]}]})) is None
    assert code_changes({"hook_event_name": "PreToolUse", "tool_name": "Edit"}) is None
    assert code_changes(post("Edit", {}, "not an object")) is None
