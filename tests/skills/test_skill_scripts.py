"""The real scripts, run as an agent runs them: a fresh process, through the shim or under a bare python.

`execute.py` puts the plugin's lib/ on sys.path; the plugin's interpreter shim `hooks/run` (which SKILL.md's
allowed-tools names) runs it under the interpreter the installer recorded. Every event is validated from
the spool.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omniclaude.events import PAYLOAD_MODELS

from ._support import SESSION_ID, SKILL_NAMES, VENV_PYTHON, run, spool_events
from .conftest import Where
from .test_skill_recording import HAPPY

SHIM = Path(__file__).resolve().parents[2] / "hooks" / "run"


def bare_python_dir(bare_python: list[str], tmp_path: Path) -> str:
    """A PATH whose python3 is `bare_python` (no pydantic): what a machine without the install offers."""
    folder = tmp_path / "bare-bin"
    folder.mkdir(exist_ok=True)
    (folder / "python3").write_text(f'#!/bin/sh\nexec {" ".join(bare_python)} "$@"\n')
    (folder / "python3").chmod(0o755)
    return f"{folder}:/usr/bin:/bin"


def _assert_recorded(result_stdout: str, where: Where, event_type: str) -> None:
    printed = json.loads(result_stdout)
    [event] = spool_events(where.home)
    assert str(event.event_id) == printed["event_id"]
    assert event.event_type == event_type
    assert event.source == "skill"
    assert isinstance(event.payload, PAYLOAD_MODELS[event_type])
    assert event.context.project_path == str(where.project)
    assert event.context.working_directory == str(where.cwd)
    assert event.context.claude_session_id == SESSION_ID


@pytest.mark.parametrize("skill", SKILL_NAMES)
def test_happy_path_with_the_venv_python(where: Where, env: dict[str, str], skill: str) -> None:
    argv, event_type, _fields = HAPPY[skill]
    result = run([VENV_PYTHON], skill, argv, env, where.cwd)
    assert (result.returncode, result.stderr) == (0, "")
    _assert_recorded(result.stdout, where, event_type)


@pytest.mark.parametrize("skill", SKILL_NAMES)
def test_through_the_shim_the_recorded_interpreter_runs_it(
    where: Where, env: dict[str, str], bare_python: list[str], tmp_path: Path, skill: str
) -> None:
    (where.home / "data").mkdir(parents=True)
    (where.home / "data" / "python").write_text(VENV_PYTHON + "\n")  # as the installer records it
    argv, event_type, _fields = HAPPY[skill]
    result = run([str(SHIM)], skill, argv, {**env, "PATH": bare_python_dir(bare_python, tmp_path)}, where.cwd)
    assert (result.returncode, result.stderr) == (0, "")  # no "without model validation" warning
    _assert_recorded(result.stdout, where, event_type)
    payload = json.loads(result.stdout)["payload"]
    assert set(payload) == set(PAYLOAD_MODELS[event_type].model_fields)  # the model filled every field


def test_through_the_shim_omniclaude_python_comes_first(where: Where, env: dict[str, str]) -> None:
    argv, event_type, _fields = HAPPY["log-transformation"]
    result = run([str(SHIM)], "log-transformation", argv, {**env, "OMNICLAUDE_PYTHON": VENV_PYTHON}, where.cwd)
    assert (result.returncode, result.stderr) == (0, "")
    _assert_recorded(result.stdout, where, event_type)


def test_a_recorded_interpreter_that_is_gone_falls_back_to_python3(
    where: Where, env: dict[str, str], bare_python: list[str], tmp_path: Path
) -> None:
    (where.home / "data").mkdir(parents=True)
    (where.home / "data" / "python").write_text(str(tmp_path / "no-such-python") + "\n")
    argv, event_type, _fields = HAPPY["log-performance-metrics"]
    result = run(
        [str(SHIM)], "log-performance-metrics", argv, {**env, "PATH": bare_python_dir(bare_python, tmp_path)}, where.cwd
    )
    assert result.returncode == 0 and "without model validation" in result.stderr
    _assert_recorded(result.stdout, where, event_type)


def test_without_any_pydantic_the_event_is_still_recorded_with_a_warning(
    where: Where, env: dict[str, str], bare_python: list[str]
) -> None:
    argv, event_type, fields = HAPPY["log-detection-failure"]
    result = run(bare_python, "log-detection-failure", argv, env, where.cwd)
    assert result.returncode == 0
    assert result.stderr.count("\n") == 1 and "without model validation" in result.stderr
    _assert_recorded(result.stdout, where, event_type)
    assert json.loads(result.stdout)["payload"] == fields


def test_usage_errors_need_no_pydantic(where: Where, env: dict[str, str], bare_python: list[str]) -> None:
    result = run(bare_python, "log-execution", ["progress", "--execution-id", "x", "--stage", "s"], env, where.cwd)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: --execution-id: x is not a UUID\n"


def test_a_refusal_from_a_real_process_is_one_line_and_exit_1(where: Where, env: dict[str, str]) -> None:
    argv, _event_type, _fields = HAPPY["log-agent-action"]
    result = run([VENV_PYTHON], "log-agent-action", argv, {**env, "OMNICLAUDE_EVENT_MAX_BYTES": "200"}, where.cwd)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
