import os
import tempfile
from pathlib import Path

import pytest
from omniclaude import logger as logger_module
from omniclaude.config import load_settings
from omniclaude.events import Envelope
from omniclaude.logger import EventLogger, get_logger, log_event, reset_logger
from omniclaude.spool import Spool


def _settings(tmp_path: Path, home: Path | None = None, **extra: str) -> EventLogger:
    env = {"HOME": str(tmp_path), "OMNICLAUDE_HOME": str(home or tmp_path / "oc"), **extra}
    return EventLogger(load_settings(env))


def _spooled(directory: str) -> list[Envelope]:
    events = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".jsonl"):
            with open(os.path.join(directory, name), "rb") as handle:
                events.extend(Envelope.parse_json(line) for line in handle)
    return events


def test_log_event_writes_a_valid_envelope(tmp_path: Path) -> None:
    logger = _settings(tmp_path, CLAUDE_CODE_SESSION_ID="sess-1")
    event_id = logger.log_event(
        "agent_action",
        {"agent": "a", "action_type": "decision", "action_name": "pick"},
        source="skill",
        context_overrides={"project_name": "override", "terminal_id": None},
    )
    [event] = _spooled(logger.spool.directory)
    assert str(event.event_id) == event_id
    assert event.source == "skill"
    assert event.context.claude_session_id == "sess-1"
    assert event.context.project_name == "override"
    assert event.context.terminal_id is not None


def test_unwritable_state_dir_falls_back_to_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    logger = _settings(tmp_path, home=blocker)
    assert logger.log_event("agent_action", {"x": 1}) is not None
    assert logger.spool.directory == str(tmp_path / "tmp" / f"omniclaude-{os.getuid()}" / "spool")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be used: Not a directory" in err


def test_never_to_the_project_tree_the_event_is_dropped_and_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))
    monkeypatch.chdir(tmp_path)
    logger = _settings(tmp_path, home=blocker)
    assert logger.log_event("agent_action", {"x": 1}) is None
    assert logger.log_event("agent_action", {"x": 2}) is None
    assert sorted(os.listdir(tmp_path)) == ["not-a-dir"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "dropped a agent_action event (not counted: the state folder is not safe either)" in err


def test_log_event_never_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setattr(logger_module, "spool_candidates", lambda settings: [Spool(str(blocker / "a"))])
    logger = _settings(tmp_path, home=blocker)
    assert logger.log_event("agent_action", {"x": 1}) is None
    assert logger.log_event("agent_action", {"bad": object()}) is None
    assert "could not record" in capsys.readouterr().err


def test_oversized_events_are_truncated_not_lost(tmp_path: Path) -> None:
    logger = _settings(tmp_path, OMNICLAUDE_EVENT_MAX_BYTES="8192")
    logger.log_event("claude_hook", {"hook_event_name": "PostToolUse", "input": {"out": "z" * 100_000}})
    logger.log_event("claude_hook", {"hook_event_name": "PostToolUse", "input": {"many": ["z"] * 10_000}})
    first, second = _spooled(logger.spool.directory)
    assert "truncated" in first.model_dump()["payload"]["input"]["out"]
    assert second.model_dump()["payload"]["truncated"] is True


def test_get_logger_is_one_lazily_created_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path / "oc"))
    reset_logger()
    try:
        assert logger_module._logger is None
        assert get_logger() is get_logger()
        assert not (tmp_path / "oc").exists()
        assert log_event("agent_action", {"x": 1}) is not None
        assert (tmp_path / "oc" / "state" / "spool").is_dir()
    finally:
        reset_logger()


def test_kafka_configured_starts_a_forwarder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str | None]] = []
    monkeypatch.setattr(
        logger_module, "ensure_forwarder", lambda spool, python, env: calls.append((spool, python)) or True
    )
    logger = _settings(tmp_path, OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1", OMNICLAUDE_PYTHON="/py")
    logger.log_event("agent_action", {"x": 1})
    assert calls == [(logger.spool.directory, "/py")]
    quiet = _settings(tmp_path / "other")
    quiet.log_event("agent_action", {"x": 1})
    assert len(calls) == 1
