"""The hook's input parsing: every event in the spool is shallow, whatever Claude Code sends."""

from __future__ import annotations

import json

import pytest
from omniclaude import _fastjson
from omniclaude.hook import RAW_PREVIEW_CHARS, parse_input


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


def test_input_at_the_depth_limit_is_kept() -> None:
    hook_input = {"session_id": "s", "tool_input": nested(_fastjson.MAX_DEPTH - 1)}
    value, error, raw = parse_input(json.dumps(hook_input).encode())
    assert value == hook_input and error is None and raw is None


@pytest.mark.parametrize("depth", [65, 300])
def test_deeper_input_keeps_its_top_level_scalars_and_a_preview(depth: int) -> None:
    text = json.dumps({"session_id": "s", "hook_event_name": "PreToolUse", "tool_input": nested(depth)})
    value, error, raw = parse_input(text.encode())
    assert value == {"session_id": "s", "hook_event_name": "PreToolUse"}
    assert error == "input is nested deeper than 64 levels"
    assert raw is not None and text.startswith(raw) and 0 < len(raw) <= RAW_PREVIEW_CHARS


@pytest.mark.parametrize("text", ["[" * 200_000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_input_too_deep_to_parse_is_recorded_as_a_preview(text: str) -> None:
    value, error, raw = parse_input(text.encode())
    assert value == {} and error == "input is nested deeper than 64 levels"
    assert raw is not None and text.startswith(raw) and len(raw) <= RAW_PREVIEW_CHARS


def test_exceeds_depth_counts_containers_only() -> None:
    assert not _fastjson.exceeds_depth("x" * 10_000)
    assert not _fastjson.exceeds_depth(nested(64))
    assert _fastjson.exceeds_depth(nested(65))
    assert _fastjson.exceeds_depth([[[]]], 2) and not _fastjson.exceeds_depth([[[]]], 3)
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert _fastjson.exceeds_depth(deep)  # no recursion
