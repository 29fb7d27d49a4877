"""Reading API responses out of transcript bytes: dedup, synthetic lines, partial lines, bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from omniclaude.usage.transcript import scan

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "claude-code-2.1.328-transcripts"
SESSION = "3579e493-7201-4256-964c-09bae301f2d9"
MAIN = FIXTURE / "projects" / "-home-dev-projects-ledger" / f"{SESSION}.jsonl"
SUBAGENT = MAIN.with_suffix("") / "subagents" / "agent-a81ebc4d64da59bb6.jsonl"


def assistant(message_id: str, model: str = "claude-opus-5-5", request: str | None = "req-1", **usage: int) -> bytes:
    line = {
        "type": "assistant",
        "requestId": request,
        "sessionId": "s1",
        "timestamp": "2026-11-28T10:00:00.000Z",
        "message": {"id": message_id, "model": model, "usage": {"input_tokens": 1, "output_tokens": 2, **usage}},
    }
    return json.dumps(line).encode() + b"\n"


def test_the_fixture_sums_to_claude_codes_model_usage() -> None:
    expected = json.loads((FIXTURE / "claude-p-output.json").read_text())["resumed_run"]["modelUsage"]
    records = scan(MAIN.read_bytes()).records + scan(SUBAGENT.read_bytes()).records
    assert len({r.key for r in records}) == len(records)
    [(model, figures)] = expected.items()
    assert {r.model for r in records} == {model}
    assert sum(r.input_tokens for r in records) == figures["inputTokens"]
    assert sum(r.output_tokens for r in records) == figures["outputTokens"]
    assert sum(r.cache_read_input_tokens for r in records) == figures["cacheReadInputTokens"]
    assert sum(r.cache_creation_input_tokens for r in records) == figures["cacheCreationInputTokens"]


def test_a_response_written_on_several_lines_counts_once() -> None:
    data = assistant("m1", input_tokens=5) + assistant("m1", input_tokens=5) + assistant("m2")
    result = scan(data)
    assert [r.message_id for r in result.records] == ["m1", "m2"]
    assert result.consumed == len(data) and result.malformed == 0


def test_the_same_message_id_under_another_request_is_another_response() -> None:
    assert len(scan(assistant("m1", request="a") + assistant("m1", request="b")).records) == 2


def test_synthetic_lines_are_not_api_calls() -> None:
    assert scan(assistant("m1", model="<synthetic>")).records == []


def test_a_partial_last_line_is_left_for_the_next_read() -> None:
    whole = assistant("m1")
    data = whole + assistant("m2")[:-20]
    result = scan(data)
    assert [r.message_id for r in result.records] == ["m1"]
    assert result.consumed == len(whole)


def test_malformed_assistant_lines_are_counted_and_skipped() -> None:
    data = (
        b'{"type":"assistant", broken\n'
        + assistant("m1", input_tokens=-3)
        + b'{"type":"assistant","message":{"model":"x"}}\n'
        + b"not json at all\n"
        + assistant("ok")
    )
    result = scan(data)
    assert [r.message_id for r in result.records] == ["ok"]
    assert result.malformed == 3


def test_other_lines_mentioning_assistant_in_text_are_ignored() -> None:
    user = {"type": "user", "message": {"content": [{"type": "assistant"}]}}
    assert scan(json.dumps(user).encode() + b"\n").records == []


def test_request_ref_stands_in_for_a_missing_request_id() -> None:
    line = json.loads(assistant("m1", request=None))
    line["requestRef"] = "ref-9"
    [record] = scan(json.dumps(line).encode() + b"\n").records
    assert record.request_id == "ref-9"
