"""What a tool call changed in the code, from one PostToolUse hook input. Pure; standard library only.

- Lines added/removed: Edit, MultiEdit and Write responses carry Claude Code's `structuredPatch` (hunks
  whose lines start with `+`, `-` or a space). A Write that created a file has an empty patch: all of its
  `content` lines count as added.
- A commit: a Bash call whose command runs `git commit` and whose output holds git's summary line
  `[<branch> (root-commit)? <sha>] <subject>` gives the commit's (short) SHA and branch.
- A pull request: a Bash call whose command runs `gh pr create` and whose output holds a pull request URL.

`code_changes(hook_input)` returns None for anything else, so the caller can leave its columns empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write"})
MAX_SCANNED_CHARS = 1_000_000
_COMMIT_COMMAND = re.compile(r"\bgit\b[^\n;&|]*\bcommit\b")
_PR_COMMAND = re.compile(r"\bgh\s+pr\s+create\b")
_COMMIT_LINE = re.compile(r"^\[(?P<branch>[^\s\]]+)(?: \(root-commit\))? (?P<sha>[0-9a-f]{7,40})\] ", re.MULTILINE)
_PR_URL = re.compile(r"https://[^\s/]+/[^\s/]+/[^\s/]+/pull/\d+")


@dataclass(frozen=True, slots=True)
class CodeChanges:
    """What one tool call changed; fields that do not apply are None."""

    lines_added: int | None = None
    lines_removed: int | None = None
    commit_sha: str | None = None
    commit_branch: str | None = None
    pr_url: str | None = None


def _patch_lines(patch: object) -> tuple[int, int]:
    added = removed = 0
    if not isinstance(patch, list):
        return 0, 0
    for hunk in patch:
        lines = hunk.get("lines") if isinstance(hunk, dict) else None
        if not isinstance(lines, list):
            continue
        for line in lines:
            if isinstance(line, str) and line:
                added += line[0] == "+"
                removed += line[0] == "-"
    return added, removed


def _content_lines(content: object) -> int:
    if not isinstance(content, str) or not content:
        return 0
    return content.count("\n") + (not content.endswith("\n"))


def _edit(response: Mapping[str, object]) -> CodeChanges:
    added, removed = _patch_lines(response.get("structuredPatch"))
    if response.get("type") == "create" and not added and not removed:
        added = _content_lines(response.get("content"))
    return CodeChanges(lines_added=added, lines_removed=removed)


def _output(response: object) -> str:
    if isinstance(response, str):
        return response[:MAX_SCANNED_CHARS]
    if isinstance(response, Mapping):
        parts = [response.get("stdout"), response.get("output")]
        return "\n".join(p for p in parts if isinstance(p, str))[:MAX_SCANNED_CHARS]
    return ""


def _bash(command: str, response: object) -> CodeChanges | None:
    commit = _COMMIT_LINE.search(_output(response)) if _COMMIT_COMMAND.search(command) else None
    pr = _PR_URL.search(_output(response)) if _PR_COMMAND.search(command) else None
    if commit is None and pr is None:
        return None
    return CodeChanges(
        commit_sha=commit.group("sha") if commit else None,
        commit_branch=commit.group("branch") if commit else None,
        pr_url=pr.group(0) if pr else None,
    )


def code_changes(hook_input: Mapping[str, object]) -> CodeChanges | None:
    """The changes one PostToolUse hook input reports; None when it reports none."""
    if hook_input.get("hook_event_name") != "PostToolUse":
        return None
    tool = hook_input.get("tool_name")
    response = hook_input.get("tool_response")
    if tool in EDIT_TOOLS and isinstance(response, Mapping):
        return _edit(response)
    tool_input = hook_input.get("tool_input")
    command = tool_input.get("command") if isinstance(tool_input, Mapping) else None
    if tool == "Bash" and isinstance(command, str):
        return _bash(command[:MAX_SCANNED_CHARS], response)
    return None
