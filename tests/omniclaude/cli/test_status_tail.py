import json
from pathlib import Path

import pytest
from omniclaude.cli import main
from omniclaude.cli.status import spool_status
from omniclaude.cli.tail import newest_lines, summary
from omniclaude.config import load_settings
from omniclaude.logger import EventLogger
from omniclaude.spool import Spool, SpoolReader


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path / "oc"))
    monkeypatch.delenv("OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    return tmp_path / "oc"


def record(home: Path, count: int) -> str:
    logger = EventLogger(load_settings({"OMNICLAUDE_HOME": str(home), "CLAUDE_CODE_SESSION_ID": "s-1"}))
    for index in range(count):
        logger.log_event("claude_hook", {"hook_event_name": "PreToolUse", "tool_name": f"Tool{index}"}, source="hook")
    return logger.spool.directory


def test_status_of_a_missing_spool(home: Path) -> None:
    status = spool_status(str(home / "state" / "spool"))
    assert status["exists"] is False and status["pending_events"] == 0


def test_status_counts_pending_dropped_and_unreadable(home: Path) -> None:
    spool = record(home, 5)
    Spool(spool).append(b"torn\n")
    reader = SpoolReader(spool)
    reader.commit(reader.read(max_events=2).end)
    Path(spool, "dropped.log").write_text("1.0 7 100 seg\n")
    status = spool_status(spool)
    assert status["pending_events"] == 4
    assert status["dropped_events"] == 7
    assert status["oldest_pending_age_s"] is not None and 0 <= status["oldest_pending_age_s"] < 60


def test_status_cli_prints_json(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(home, 3)
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["pending_events"] == 3
    assert status["kafka"].startswith("not configured")


def test_tail_shows_the_newest_events(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spool = record(home, 12)
    assert len(newest_lines(spool, 5)) == 5
    assert main(["tail", "-n", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "Tool11" in lines[-1] and "s-1" in lines[-1]
    assert main(["tail", "-n", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["payload"]["tool_name"] == "Tool11"


def test_tail_of_a_missing_spool(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tail"]) == 0
    assert "no spool yet" in capsys.readouterr().out


def test_summary_names_unparsable_lines() -> None:
    assert summary("not json") == "unreadable line (8 characters): not json"
    assert summary("[" * 100_000).startswith("unreadable line (100000 characters): [[[")
    assert "\\u001b" in summary("\x1b[31mred") and "\x1b" not in summary("\x1b[31mred")


def test_status_is_a_short_human_summary(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spool = record(home, 3)
    Path(spool, "errors.log").write_text("1.0 unreadable-line seg 1:2 bad\n1.0 cursor unreadable\n")
    assert main(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("spool      3 event(s) pending (") and "oldest" in lines[0]
    assert "1 unreadable line(s) skipped" in lines[1]
    assert any(line.startswith("kafka      not configured") for line in lines)
    assert any(line.startswith("forwarder  not started yet") for line in lines)
    assert len(lines) <= 6 and not any("None" in line for line in lines)


def test_spool_methods_back_status_and_tail(home: Path) -> None:
    spool = record(home, 4)
    stats = SpoolReader(spool).stats()
    assert stats["pending_events"] == 4 and stats["dropped_events"] == 0
    assert [json.loads(line)["payload"]["tool_name"] for line in SpoolReader(spool).tail(2)] == ["Tool2", "Tool3"]
    assert SpoolReader(spool).tail(0) == []
