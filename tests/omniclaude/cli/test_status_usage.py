"""`omniclaude status` reports what the transcript reader found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omniclaude.cli import main
from omniclaude.usage.collect import UsageCollector


def test_status_shows_the_usage_counters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path))
    stop = {
        "event_type": "claude_hook",
        "payload": {"hook_event_name": "Stop", "input": {"transcript_path": str(tmp_path / "gone.jsonl")}},
    }
    UsageCollector(str(tmp_path / "state"), None).collect([stop], lambda _line: None)
    assert main(["status", "--json"]) == 0
    usage = json.loads(capsys.readouterr().out)["usage"]
    assert usage["missing_files"] == 1 and "gone.jsonl" in usage["last_problem"]
    assert main(["status"]) == 0
    assert "missing_files: 1" in capsys.readouterr().out
