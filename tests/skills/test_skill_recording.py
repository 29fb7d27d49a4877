"""Each skill records one valid event in the spool and prints what it recorded (run in-process)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from omniclaude import logger as logger_module
from omniclaude.events import Envelope

from ._support import SESSION_ID, UNKNOWN_EXECUTION_ID, load, spool_events, spool_lines
from .conftest import Where

# skill -> (argv, event_type, payload fields the event must hold)
HAPPY: dict[str, tuple[list[str], str, dict[str, Any]]] = {
    "log-execution": (
        [
            "start",
            "--agent",
            "code-reviewer",
            "--description",
            "review PR 42",
            "--user-prompt",
            "review it",
            "--metadata",
            '{"pr": 42}',
            "--correlation-id",
            "corr-1",
        ],
        "execution_started",
        {
            "agent": "code-reviewer",
            "description": "review PR 42",
            "user_prompt": "review it",
            "metadata": {"pr": 42},
            "correlation_id": "corr-1",
        },
    ),
    "log-agent-action": (
        [
            "--agent",
            "code-reviewer",
            "--action-type",
            "tool_call",
            "--action-name",
            "Read",
            "--details",
            '{"file": "a.py", "lines": [1, 2]}',
            "--duration-ms",
            "12",
            "--success",
            "--correlation-id",
            "corr-1",
        ],
        "agent_action",
        {
            "agent": "code-reviewer",
            "action_type": "tool_call",
            "action_name": "Read",
            "details": {"file": "a.py", "lines": [1, 2]},
            "duration_ms": 12,
            "success": True,
            "correlation_id": "corr-1",
        },
    ),
    "log-routing-decision": (
        [
            "--agent",
            "api-architect",
            "--confidence",
            "0.92",
            "--strategy",
            "trigger_match",
            "--latency-ms",
            "45",
            "--user-request",
            "design an API",
            "--alternatives",
            '[{"agent": "backend", "confidence": 0.7}]',
            "--reasoning",
            "keywords",
            "--context",
            '{"domain": "api"}',
            "--correlation-id",
            "corr-1",
        ],
        "routing_decision",
        {
            "selected_agent": "api-architect",
            "confidence": 0.92,
            "strategy": "trigger_match",
            "latency_ms": 45,
            "user_request": "design an API",
            "alternatives": [{"agent": "backend", "confidence": 0.7}],
            "reasoning": "keywords",
            "context": {"domain": "api"},
            "correlation_id": "corr-1",
        },
    ),
    "log-transformation": (
        [
            "--from-agent",
            "polymorphic",
            "--to-agent",
            "api-architect",
            "--reason",
            "API task",
            "--confidence",
            "0.85",
            "--duration-ms",
            "30",
            "--no-success",
            "--correlation-id",
            "corr-1",
        ],
        "transformation",
        {
            "from_agent": "polymorphic",
            "to_agent": "api-architect",
            "reason": "API task",
            "confidence": 0.85,
            "duration_ms": 30,
            "success": False,
            "correlation_id": "corr-1",
        },
    ),
    "log-performance-metrics": (
        [
            "--query",
            "optimize queries",
            "--duration-ms",
            "12.5",
            "--no-cache-hit",
            "--candidates",
            "5",
            "--strategy",
            "fuzzy",
            "--confidence-components",
            '{"trigger": 0.8}',
            "--correlation-id",
            "corr-1",
        ],
        "performance_metric",
        {
            "query": "optimize queries",
            "duration_ms": 12.5,
            "cache_hit": False,
            "candidates": 5,
            "strategy": "fuzzy",
            "confidence_components": {"trigger": 0.8},
            "correlation_id": "corr-1",
        },
    ),
    "log-detection-failure": (
        [
            "--prompt",
            "fix CI",
            "--reason",
            "below threshold",
            "--status",
            "low_confidence",
            "--candidates-evaluated",
            "7",
            "--detected-agent",
            "debugger",
            "--confidence",
            "0.41",
            "--expected-agent",
            "devops",
            "--detection-method",
            "fuzzy",
            "--trigger-matches",
            '["ci"]',
            "--capability-scores",
            '{"devops": 0.3}',
            "--metadata",
            '{"try": 2}',
            "--correlation-id",
            "corr-1",
        ],
        "detection_failure",
        {
            "prompt": "fix CI",
            "reason": "below threshold",
            "status": "low_confidence",
            "candidates_evaluated": 7,
            "detected_agent": "debugger",
            "confidence": 0.41,
            "expected_agent": "devops",
            "detection_method": "fuzzy",
            "trigger_matches": ["ci"],
            "capability_scores": {"devops": 0.3},
            "metadata": {"try": 2},
            "correlation_id": "corr-1",
        },
    ),
}


def _run(capsys: pytest.CaptureFixture[str], skill: str, argv: list[str]) -> dict[str, Any]:
    """Runs one skill in-process; returns its printed JSON after checking the success contract."""
    assert load(skill).main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.endswith("\n") and captured.out.count("\n") == 1
    printed: dict[str, Any] = json.loads(captured.out)
    return printed


def _only_event(home: Path) -> Envelope:
    [event] = spool_events(home)
    return event


@pytest.mark.parametrize("skill", sorted(HAPPY))
def test_happy_path_records_one_valid_event(skill_env: Where, capsys: pytest.CaptureFixture[str], skill: str) -> None:
    argv, event_type, expected = HAPPY[skill]
    printed = _run(capsys, skill, argv)
    event = _only_event(skill_env.home)
    assert event.event_type == event_type == printed["event_type"]
    assert str(event.event_id) == printed["event_id"]
    assert event.source == "skill"
    recorded = event.payload.model_dump(mode="json")
    assert recorded == printed["payload"]
    assert {key: recorded[key] for key in expected} == expected
    context = event.context
    assert context.project_path == str(skill_env.project)
    assert context.project_name == "shop"
    assert context.working_directory == str(skill_env.cwd)
    assert context.claude_session_id == SESSION_ID
    assert context.terminal_id == f"shop-{SESSION_ID}"


def test_execution_lifecycle_is_keyed_by_the_printed_execution_id(
    skill_env: Where, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _run(capsys, "log-execution", ["start", "--agent", "a"])
    execution_id = started["execution_id"]
    assert started["payload"]["execution_id"] == execution_id
    progress = _run(
        capsys,
        "log-execution",
        ["progress", "--execution-id", execution_id.upper(), "--stage", "plan", "--percent", "0", "--metadata", "{}"],
    )
    completed = _run(
        capsys,
        "log-execution",
        [
            "complete",
            "--execution-id",
            execution_id,
            "--status",
            "error",
            "--quality-score",
            "0",
            "--error-message",
            "boom",
            "--error-type",
            "ValueError",
        ],
    )
    events = spool_events(skill_env.home)
    assert [event.event_type for event in events] == ["execution_started", "execution_progress", "execution_completed"]
    assert {str(event.payload.execution_id) for event in events} == {execution_id}  # type: ignore[attr-defined]
    assert progress["execution_id"] == completed["execution_id"] == execution_id
    assert progress["payload"]["percent"] == 0
    assert completed["payload"]["quality_score"] == 0.0
    assert completed["payload"]["status"] == "error"


def test_execution_ids_are_uuid7(skill_env: Where, capsys: pytest.CaptureFixture[str]) -> None:
    import uuid

    first = _run(capsys, "log-execution", ["start", "--agent", "a"])["execution_id"]
    second = _run(capsys, "log-execution", ["start", "--agent", "a"])["execution_id"]
    assert uuid.UUID(first).version == 7 and first != second


@pytest.mark.parametrize("step", [["progress", "--stage", "late"], ["complete"]])
def test_unknown_execution_id_is_accepted_and_recorded(
    skill_env: Where, capsys: pytest.CaptureFixture[str], step: list[str]
) -> None:
    printed = _run(capsys, "log-execution", [step[0], "--execution-id", UNKNOWN_EXECUTION_ID, *step[1:]])
    event = _only_event(skill_env.home)
    assert str(event.payload.execution_id) == UNKNOWN_EXECUTION_ID == printed["execution_id"]  # type: ignore[attr-defined]


def test_complete_defaults_to_success(skill_env: Where, capsys: pytest.CaptureFixture[str]) -> None:
    printed = _run(capsys, "log-execution", ["complete", "--execution-id", UNKNOWN_EXECUTION_ID])
    assert printed["payload"]["status"] == "success"


def test_zero_false_and_empty_are_values_not_missing(skill_env: Where, capsys: pytest.CaptureFixture[str]) -> None:
    _run(
        capsys,
        "log-transformation",
        [
            "--from-agent",
            "a",
            "--to-agent",
            "b",
            "--confidence",
            "0",
            "--duration-ms",
            "0",
            "--no-success",
            "--reason",
            "",
        ],
    )
    _run(
        capsys,
        "log-performance-metrics",
        ["--query", "q", "--duration-ms", "0.0", "--no-cache-hit", "--candidates", "0"],
    )
    transformation, metric = (event.payload.model_dump() for event in spool_events(skill_env.home))
    assert (transformation["confidence"], transformation["duration_ms"]) == (0.0, 0)
    assert (transformation["success"], transformation["reason"]) == (False, "")
    assert (metric["duration_ms"], metric["cache_hit"], metric["candidates"]) == (0.0, False, 0)


def test_flags_not_given_stay_null(skill_env: Where, capsys: pytest.CaptureFixture[str]) -> None:
    printed = _run(capsys, "log-transformation", ["--from-agent", "a", "--to-agent", "b"])
    payload = printed["payload"]
    assert payload["success"] is None and payload["confidence"] is None and payload["duration_ms"] is None


def test_context_flags_override_the_context_rules(
    skill_env: Where, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere" / "billing"
    other.mkdir(parents=True)
    _run(
        capsys,
        "log-agent-action",
        [
            "--agent",
            "a",
            "--action-type",
            "success",
            "--action-name",
            "n",
            "--project-path",
            str(other),
            "--session-id",
            "sess-9",
            "--terminal-id",
            "tty-4",
        ],
    )
    context = _only_event(skill_env.home).context
    assert (context.project_path, context.project_name) == (str(other), "billing")
    assert (context.claude_session_id, context.terminal_id) == ("sess-9", "tty-4")
    assert context.working_directory == str(skill_env.cwd)


def test_a_relative_project_path_is_made_absolute_and_a_name_wins(
    skill_env: Where, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(
        capsys,
        "log-agent-action",
        [
            "--agent",
            "a",
            "--action-type",
            "success",
            "--action-name",
            "n",
            "--project-path",
            "..",
            "--project-name",
            "Shop App",
        ],
    )
    context = _only_event(skill_env.home).context
    assert (context.project_path, context.project_name) == (str(skill_env.project), "Shop App")


def test_claude_project_dir_is_used_when_set(
    skill_env: Where, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", "/work/other-project")
    _run(capsys, "log-agent-action", ["--agent", "a", "--action-type", "success", "--action-name", "n"])
    context = _only_event(skill_env.home).context
    assert (context.project_path, context.project_name) == ("/work/other-project", "other-project")


def test_nothing_is_spawned_without_kafka(skill_env: Where, capsys: pytest.CaptureFixture[str], fp: Any) -> None:
    # fp (pytest-subprocess) has no command registered: any subprocess would raise.
    for skill, (argv, _event_type, _fields) in HAPPY.items():
        _run(capsys, skill, argv)
    assert len(spool_lines(skill_env.home)) == len(HAPPY)


def test_with_kafka_configured_the_skill_starts_a_forwarder_and_does_not_wait(
    skill_env: Where, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # nothing listens there
    spawned: list[list[str]] = []

    def spawn(path: str, argv: list[str], env: dict[str, str], **options: Any) -> int:
        assert options["setsid"] is True  # detached: the skill never waits for it
        spawned.append(argv)
        return 12345

    monkeypatch.setattr("omniclaude.launcher.os.posix_spawnp", spawn)
    _run(capsys, "log-agent-action", ["--agent", "a", "--action-type", "success", "--action-name", "n"])
    [argv] = spawned
    assert argv[1:4] == ["-m", "omniclaude", "forward"]
    assert len(spool_lines(skill_env.home)) == 1


def test_an_unrecordable_event_is_refused_with_exit_1(
    skill_env: Where, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNICLAUDE_EVENT_MAX_BYTES", "200")  # not even the envelope fits
    assert load("log-agent-action").main(["--agent", "a", "--action-type", "error", "--action-name", "n"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert "agent_action" in captured.err and "size cap" in captured.err
    assert spool_lines(skill_env.home) == []


def test_a_spool_that_cannot_be_written_is_a_refusal(
    skill_env: Where, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unwritable(self: Any, line: bytes) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(logger_module.Spool, "append", unwritable)
    assert (
        load("log-routing-decision").main(["--agent", "a", "--confidence", "1", "--strategy", "s", "--latency-ms", "0"])
        == 1
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("error: could not record a routing_decision event: PermissionError")


def test_a_fallback_spool_warning_is_passed_on_and_the_event_recorded(
    skill_env: Where, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tempfile

    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("OMNICLAUDE_HOME", str(blocker))  # the state dir cannot be created
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert load("log-agent-action").main(["--agent", "a", "--action-type", "success", "--action-name", "n"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["event_type"] == "agent_action"
    assert captured.err.count("\n") == 1 and "cannot be used" in captured.err and "; using " in captured.err


def test_printed_output_is_utf8_json(skill_env: Where, capsys: pytest.CaptureFixture[str]) -> None:
    printed = _run(capsys, "log-detection-failure", ["--prompt", "Überprüfe die Datenbank ✓", "--reason", "—"])
    assert printed["payload"]["prompt"] == "Überprüfe die Datenbank ✓"


def test_usage_errors_do_not_import_pydantic() -> None:
    # Bad input and --help stay fast: pydantic is imported only when a payload is validated.
    import subprocess

    path = Path(__file__).resolve().parents[2] / "skills" / "log-agent-action" / "execute.py"
    code = (
        "import runpy, sys\n"
        f"main = runpy.run_path({str(path)!r}, run_name='skill')['main']\n"
        "try:\n    main(['--agent', 'a', '--action-type', 'bad', '--action-name', 'n'])\n"
        "except SystemExit:\n    pass\n"
        "print('pydantic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
