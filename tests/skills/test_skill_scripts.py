"""The real scripts, run as an agent runs them: a fresh process, maybe under a python without pydantic.

`execute.py` puts the plugin's lib/ on sys.path; `skillkit.bootstrap()` re-execs it under the interpreter
install.sh recorded when pydantic is missing. Every event is validated from the spool.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from omniclaude.events import PAYLOAD_MODELS

from ._support import SESSION_ID, SKILL_NAMES, VENV_PYTHON, run, spool_events
from .conftest import Where
from .test_skill_recording import HAPPY


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
def test_a_python_without_pydantic_re_execs_under_omniclaude_python(
    where: Where, env: dict[str, str], bare_python: list[str], skill: str
) -> None:
    argv, event_type, _fields = HAPPY[skill]
    result = run(bare_python, skill, argv, {**env, "OMNICLAUDE_PYTHON": VENV_PYTHON}, where.cwd)
    assert (result.returncode, result.stderr) == (0, "")  # no "without model validation" warning
    _assert_recorded(result.stdout, where, event_type)
    payload = json.loads(result.stdout)["payload"]
    assert set(payload) == set(PAYLOAD_MODELS[event_type].model_fields)  # the model filled every field


@pytest.mark.parametrize("skill", SKILL_NAMES)
def test_a_plain_system_python3_works_through_the_recorded_interpreter(
    where: Where, env: dict[str, str], system_python: list[str], skill: str
) -> None:
    (where.home / "data").mkdir(parents=True)
    (where.home / "data" / "python").write_text(VENV_PYTHON + "\n")  # as install.sh records it
    argv, event_type, _fields = HAPPY[skill]
    result = run(system_python, skill, argv, env, where.cwd)
    assert (result.returncode, result.stderr) == (0, "")
    _assert_recorded(result.stdout, where, event_type)


def test_the_record_in_the_xdg_data_dir_is_found(
    where: Where, env: dict[str, str], bare_python: list[str], tmp_path: Path
) -> None:
    data = tmp_path / "xdg-data"
    (data / "omniclaude").mkdir(parents=True)
    (data / "omniclaude" / "python").write_text(VENV_PYTHON + "\n")
    argv, event_type, _fields = HAPPY["log-routing-decision"]
    result = run(bare_python, "log-routing-decision", argv, {**env, "XDG_DATA_HOME": str(data)}, where.cwd)
    assert (result.returncode, result.stderr) == (0, "")
    _assert_recorded(result.stdout, where, event_type)


def test_the_python_setting_in_config_env_is_found(where: Where, env: dict[str, str], bare_python: list[str]) -> None:
    (where.home / "config").mkdir(parents=True)
    (where.home / "config" / "config.env").write_text(f"OMNICLAUDE_PYTHON={VENV_PYTHON}\n")
    argv, event_type, _fields = HAPPY["log-transformation"]
    result = run(bare_python, "log-transformation", argv, env, where.cwd)
    assert (result.returncode, result.stderr) == (0, "")
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


def test_re_exec_happens_at_most_once(
    where: Where, env: dict[str, str], bare_python: list[str], tmp_path: Path
) -> None:
    # The recorded interpreter lacks pydantic too: the re-executed script must not re-exec again.
    calls = tmp_path / "calls"
    wrapper = tmp_path / "python-without-pydantic"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{calls}"\nexec {" ".join(bare_python)} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    argv, event_type, _fields = HAPPY["log-agent-action"]
    result = run(bare_python, "log-agent-action", argv, {**env, "OMNICLAUDE_PYTHON": str(wrapper)}, where.cwd)
    assert result.returncode == 0
    assert calls.read_text().splitlines() == ["run"]
    assert "without model validation" in result.stderr
    _assert_recorded(result.stdout, where, event_type)


def test_a_recorded_interpreter_that_is_gone_is_ignored(
    where: Where, env: dict[str, str], bare_python: list[str], tmp_path: Path
) -> None:
    argv, event_type, _fields = HAPPY["log-performance-metrics"]
    missing = str(tmp_path / "no-such-python")
    result = run(bare_python, "log-performance-metrics", argv, {**env, "OMNICLAUDE_PYTHON": missing}, where.cwd)
    assert result.returncode == 0 and "without model validation" in result.stderr
    _assert_recorded(result.stdout, where, event_type)


def test_a_refusal_from_a_real_process_is_one_line_and_exit_1(where: Where, env: dict[str, str]) -> None:
    argv, _event_type, _fields = HAPPY["log-agent-action"]
    result = run([VENV_PYTHON], "log-agent-action", argv, {**env, "OMNICLAUDE_EVENT_MAX_BYTES": "200"}, where.cwd)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
