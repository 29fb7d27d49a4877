"""The usage step: transcripts named by hook events -> llm_usage envelopes, read incrementally."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from omniclaude.events import Envelope
from omniclaude.usage.collect import SpoolUnavailable, UsageCollector, event_id, is_trigger
from omniclaude.usage.state import read_usage_state, summary

from tests.omniclaude.usage.test_transcript import FIXTURE, SESSION, assistant

Event = dict[str, Any]


class Spooled:
    """Collects what the collector emits, as parsed envelopes."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def __call__(self, line: bytes) -> None:
        assert line.endswith(b"\n")
        self.lines.append(line)

    @property
    def envelopes(self) -> list[Envelope]:
        return [Envelope.parse_json(line) for line in self.lines]


def hook(name: str, transcript: Path, **extra: object) -> Event:
    return {
        "event_type": "claude_hook",
        "context": {"project_name": "ledger", "project_path": "/p/ledger", "claude_session_id": SESSION},
        "payload": {
            "hook_event_name": name,
            "input": {"session_id": SESSION, "transcript_path": str(transcript), **extra},
        },
    }


@pytest.fixture
def projects(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE / "projects", tmp_path / "projects")
    return tmp_path / "projects" / "-home-dev-projects-ledger"


def collector(tmp_path: Path) -> UsageCollector:
    return UsageCollector(str(tmp_path / "state"), str(tmp_path / "config"))


def test_stop_reads_the_main_transcript_and_its_subagents_tagged(projects: Path, tmp_path: Path) -> None:
    spooled = Spooled()
    count = collector(tmp_path).collect([hook("Stop", projects / f"{SESSION}.jsonl")], spooled)
    envelopes = spooled.envelopes
    assert count == len(envelopes) == len({e.event_id for e in envelopes}) > 0
    expected = json.loads((FIXTURE / "claude-p-output.json").read_text())["resumed_run"]["modelUsage"]
    figures = expected["claude-opus-5-5"]
    payloads = [e.payload for e in envelopes]
    assert sum(p.input_tokens for p in payloads) == figures["inputTokens"]  # type: ignore[attr-defined]
    assert sum(p.cache_read_input_tokens for p in payloads) == figures["cacheReadInputTokens"]  # type: ignore[attr-defined]
    assert abs(sum(p.cost_usd for p in payloads) - figures["costUSD"]) < 1e-9  # type: ignore[attr-defined]
    agents = {(p.agent_id, p.agent_type) for p in payloads}  # type: ignore[attr-defined]
    assert agents == {(None, None), ("a81ebc4d64da59bb6", "general-purpose")}
    assert {e.context.project_name for e in envelopes} == {"ledger"}
    assert {e.context.claude_session_id for e in envelopes} == {SESSION}
    first = envelopes[0]
    assert str(first.event_id) == event_id(first.payload.message_id, first.payload.request_id)  # type: ignore[attr-defined]
    assert first.occurred_at.year == 2026


def test_a_second_pass_reads_only_new_bytes(projects: Path, tmp_path: Path) -> None:
    main = projects / f"{SESSION}.jsonl"
    usage = collector(tmp_path)
    usage.collect([hook("Stop", main)], Spooled())
    read = summary(str(tmp_path / "state"))["bytes_read"]
    again = Spooled()
    assert usage.collect([hook("Stop", main)], again) == 0
    with main.open("ab") as handle:
        handle.write(assistant("late", input_tokens=7))
    assert usage.collect([hook("SessionEnd", main)], again) == 1
    assert summary(str(tmp_path / "state"))["bytes_read"] == read + len(assistant("late", input_tokens=7))
    assert again.envelopes[0].payload.message_id == "late"  # type: ignore[attr-defined]


def test_a_line_being_written_is_read_once_complete(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    whole = assistant("m1") + assistant("m2")
    transcript.write_bytes(whole[:-10])
    usage, spooled = collector(tmp_path), Spooled()
    usage.collect([hook("Stop", transcript)], spooled)
    with transcript.open("ab") as handle:
        handle.write(whole[-10:])
    usage.collect([hook("Stop", transcript)], spooled)
    assert [e.payload.message_id for e in spooled.envelopes] == ["m1", "m2"]  # type: ignore[attr-defined]


def test_a_rewritten_file_is_read_again_and_keeps_its_event_ids(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(assistant("m1") + assistant("m2"))
    usage, spooled = collector(tmp_path), Spooled()
    usage.collect([hook("Stop", transcript)], spooled)
    transcript.write_bytes(assistant("m0") + assistant("m1"))  # same size, other bytes
    usage.collect([hook("Stop", transcript)], spooled)
    transcript.write_bytes(assistant("m1"))  # shrank
    usage.collect([hook("Stop", transcript)], spooled)
    ids = [(e.payload.message_id, str(e.event_id)) for e in spooled.envelopes]  # type: ignore[attr-defined]
    assert [i[0] for i in ids] == ["m1", "m2", "m0", "m1", "m1"]
    assert len({i for i in ids}) == 3  # a response keeps its event id: PostgreSQL keeps one row
    assert summary(str(tmp_path / "state"))["rewritten_files"] == 2


def test_a_missing_file_is_counted_not_fatal(tmp_path: Path) -> None:
    usage, spooled = collector(tmp_path), Spooled()
    assert usage.collect([hook("Stop", tmp_path / "gone.jsonl")], spooled) == 0
    seen = summary(str(tmp_path / "state"))
    assert seen["missing_files"] == 1 and "gone.jsonl" in seen["last_problem"]


def test_an_unreadable_file_is_counted_not_fatal(tmp_path: Path) -> None:
    usage = collector(tmp_path)
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    assert usage.collect([hook("Stop", folder)], Spooled()) == 0  # a folder, not a file
    assert summary(str(tmp_path / "state"))["unreadable_files"] == 1


def test_unknown_models_get_no_cost_and_are_counted(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(assistant("m1", model="claude-imaginary-9"))
    spooled = Spooled()
    collector(tmp_path).collect([hook("Stop", transcript)], spooled)
    assert spooled.envelopes[0].payload.cost_usd is None  # type: ignore[attr-defined]
    seen = summary(str(tmp_path / "state"))
    assert seen["unknown_model_responses"] == 1 and seen["unknown_models"] == ["claude-imaginary-9"]


def test_session_start_rereads_followed_files_that_grew(tmp_path: Path) -> None:
    transcript = tmp_path / "old.jsonl"
    transcript.write_bytes(assistant("m1"))
    usage, spooled = collector(tmp_path), Spooled()
    usage.collect([hook("Stop", transcript)], spooled)
    with transcript.open("ab") as handle:
        handle.write(assistant("after-stop"))
    other = tmp_path / "new.jsonl"
    other.write_bytes(b"")
    usage.collect([hook("SessionStart", other)], spooled)
    assert [e.payload.message_id for e in spooled.envelopes] == ["m1", "after-stop"]  # type: ignore[attr-defined]
    assert spooled.envelopes[1].context.project_name == "ledger"


def test_non_trigger_events_read_nothing(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(assistant("m1"))
    spooled = Spooled()
    assert collector(tmp_path).collect([hook("PreToolUse", transcript), {"event_type": "x"}], spooled) == 0
    assert not (tmp_path / "state").exists()


def test_the_state_file_is_private(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(assistant("m1"))
    collector(tmp_path).collect([hook("Stop", transcript)], Spooled())
    state = tmp_path / "state" / "usage.json"
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert str(transcript) in read_usage_state(str(tmp_path / "state"))["files"]


def test_a_failing_spool_leaves_the_cursor_for_next_time(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(assistant("m1"))
    usage = collector(tmp_path)

    def broken(_line: bytes) -> None:
        raise OSError("disk full")

    assert usage.collect_safely([hook("Stop", transcript)], broken) == 0
    spooled = Spooled()
    assert usage.collect([hook("Stop", transcript)], spooled) == 1


def test_a_100_mb_transcript_is_read_incrementally(tmp_path: Path) -> None:
    transcript = tmp_path / "big.jsonl"
    filler = json.dumps({"type": "user", "message": {"content": "x" * 5000}}).encode() + b"\n"
    block = filler * 200 + b"".join(assistant(f"m{i}", input_tokens=i) for i in range(10))
    with transcript.open("wb") as handle:
        for n in range(100):
            handle.write(block.replace(b'"id": "m', f'"id": "b{n}-m'.encode()))
    assert transcript.stat().st_size > 100_000_000
    usage, spooled = collector(tmp_path), Spooled()
    assert usage.collect([hook("Stop", transcript)], spooled) == 1000
    first = summary(str(tmp_path / "state"))["bytes_read"]
    assert first == transcript.stat().st_size
    tail = assistant("tail")
    with transcript.open("ab") as handle:
        handle.write(tail)
    assert usage.collect([hook("Stop", transcript)], spooled) == 1
    assert summary(str(tmp_path / "state"))["bytes_read"] == first + len(tail)  # only the new bytes


def test_a_fifo_or_odd_path_never_blocks_and_is_counted(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    usage = collector(tmp_path)
    assert usage.collect([hook("Stop", fifo), hook("Stop", tmp_path / "notes.txt")], Spooled()) == 0
    assert summary(str(tmp_path / "state"))["unreadable_files"] == 2


def test_a_failing_spool_is_raised_not_counted_as_a_bad_transcript(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(assistant("m1"))

    def broken(_line: bytes) -> None:
        raise OSError("disk full")

    with pytest.raises(SpoolUnavailable, match="disk full"):
        collector(tmp_path).collect([hook("Stop", transcript)], broken)
    assert summary(str(tmp_path / "state"))["unreadable_files"] == 0


def test_a_tampered_state_file_reads_as_empty_where_it_is_wrong(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(assistant("m1"))
    state = tmp_path / "state"
    state.mkdir()
    (state / "usage.json").write_text(
        json.dumps(
            {
                "files": {str(transcript): {"offset": "x", "head": 5, "context": "oops", "agent_type": ["x"]}},
                "counters": {"responses": "many"},
            }
        )
    )
    spooled = Spooled()
    assert collector(tmp_path).collect([hook("SessionStart", transcript)], spooled) == 1
    assert summary(str(state))["responses"] == 1


def test_a_planted_symlink_for_the_state_file_is_never_followed(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    transcript.write_bytes(assistant("m1"))
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (state / "usage.json").symlink_to(victim)
    assert collector(tmp_path).collect([hook("Stop", transcript)], Spooled()) == 1
    assert victim.read_text() == "keep me"
    assert not (state / "usage.json").is_symlink()


def test_a_response_whose_lines_straddle_two_chunks_is_emitted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omniclaude.usage import collect

    transcript = tmp_path / "t.jsonl"
    line = assistant("m1")
    transcript.write_bytes(line + b" " * 100 + b"\n" + line)
    monkeypatch.setattr(collect, "CHUNK_BYTES", len(line) + 50)
    spooled = Spooled()
    assert collector(tmp_path).collect([hook("Stop", transcript)], spooled) == 1


def test_a_trigger_is_a_hook_event_named_so_with_an_input_and_odd_shapes_are_not() -> None:
    def hook(name: object, hook_input: object = None) -> dict[str, object]:
        return {"event_type": "claude_hook", "payload": {"hook_event_name": name, "input": hook_input or {}}}

    assert is_trigger(hook("Stop")) and is_trigger(hook("SessionStart"))
    assert not is_trigger(hook("PreToolUse"))
    assert not is_trigger(hook(["Stop"]))  # not hashable: no error either
    assert not is_trigger(hook("Stop", ["not", "a", "dict"]))
    assert not is_trigger({"event_type": "claude_hook", "payload": "Stop"})
    assert not is_trigger({"event_type": "agent_action", "payload": {"hook_event_name": "Stop", "input": {}}})
