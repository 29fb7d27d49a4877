"""Bad input never records anything: exit 2, nothing on stdout, one line on stderr naming the flag.

The same table runs in-process (through `main(argv)`) and as real processes (as an agent runs them).
"""

from __future__ import annotations

import pytest

from ._support import UNKNOWN_EXECUTION_ID, VENV_PYTHON, load, run, spool_lines
from .conftest import Where

U = UNKNOWN_EXECUTION_ID
ACTION = ["--agent", "a", "--action-type", "decision", "--action-name", "pick"]
ROUTING = ["--agent", "a", "--confidence", "0.5", "--strategy", "s", "--latency-ms", "3"]
TRANSFORM = ["--from-agent", "a", "--to-agent", "b"]
METRIC = ["--query", "q", "--duration-ms", "1"]
FAILURE = ["--prompt", "p", "--reason", "r"]
DEEP = "[" * 5000 + "]" * 5000

# (skill, argv, the flag the message must name, a fragment of the message)
BAD_INPUTS: list[tuple[str, list[str], str, str]] = [
    ("log-execution", [], "{start,progress,complete}", "required"),
    ("log-execution", ["stop"], "{start,progress,complete}", "invalid choice: 'stop'"),
    ("log-execution", ["start"], "--agent", "required"),
    ("log-execution", ["start", "--agent", ""], "--agent", "must not be empty"),
    (
        "log-execution",
        ["start", "--agent", "a", "--metadata", "[1]"],
        "--metadata",
        "expected a JSON object, got a list",
    ),
    ("log-execution", ["start", "--agent", "a", "--metadata", "{bad"], "--metadata", "not valid JSON"),
    ("log-execution", ["start", "--agent", "a", "--metadata", '{"x": NaN}'], "--metadata", "NaN is not allowed"),
    ("log-execution", ["start", "--agent", "a", "--metadata", DEEP], "--metadata", "nested too deeply"),
    ("log-execution", ["progress", "--stage", "s"], "--execution-id", "required"),
    ("log-execution", ["progress", "--execution-id", "run-7", "--stage", "s"], "--execution-id", "run-7 is not a UUID"),
    ("log-execution", ["progress", "--execution-id", U], "--stage", "required"),
    (
        "log-execution",
        ["progress", "--execution-id", U, "--stage", "s", "--percent", "101"],
        "--percent",
        "101 is not within 0..100",
    ),
    (
        "log-execution",
        ["progress", "--execution-id", U, "--stage", "s", "--percent", "-1"],
        "--percent",
        "-1 is not within 0..100",
    ),
    (
        "log-execution",
        ["progress", "--execution-id", U, "--stage", "s", "--percent", "50.5"],
        "--percent",
        "50.5 is not a whole number",
    ),
    ("log-execution", ["complete", "--execution-id", U, "--status", "done"], "--status", "invalid choice: 'done'"),
    (
        "log-execution",
        ["complete", "--execution-id", U, "--quality-score", "1.5"],
        "--quality-score",
        "1.5 is not within 0..1",
    ),
    (
        "log-execution",
        ["complete", "--execution-id", U, "--quality-score", "nan"],
        "--quality-score",
        "nan is not a finite number",
    ),
    (
        "log-execution",
        ["complete", "--execution-id", U, "--correlation-id", "c"],
        "--correlation-id",
        "unrecognized arguments",
    ),
    ("log-agent-action", ["--agent", "a", "--action-name", "n"], "--action-type", "required"),
    (
        "log-agent-action",
        ["--agent", "a", "--action-type", "thought", "--action-name", "n"],
        "--action-type",
        "invalid choice: 'thought'",
    ),
    ("log-agent-action", [*ACTION, "--duration-ms", "fast"], "--duration-ms", "fast is not a whole number"),
    ("log-agent-action", [*ACTION, "--duration-ms", "-5"], "--duration-ms", "-5 is negative"),
    ("log-agent-action", [*ACTION, "--duration-ms", "3000000000"], "--duration-ms", "too large"),
    ("log-agent-action", [*ACTION, "--details", '"text"'], "--details", "expected a JSON object, got a string"),
    ("log-agent-action", [*ACTION, "--details", "null"], "--details", "expected a JSON object, got null"),
    ("log-agent-action", [*ACTION, "--success=yes"], "--success", "ignored explicit argument"),
    ("log-agent-action", [*ACTION, "--dur", "5"], "--dur", "unrecognized arguments"),
    ("log-agent-action", [*ACTION, "--session-id", ""], "--session-id", "must not be empty"),
    ("log-routing-decision", ["--agent", "a", "--confidence", "0.5", "--strategy", "s"], "--latency-ms", "required"),
    ("log-routing-decision", [*ROUTING, "--confidence", "-0.1"], "--confidence", "-0.1 is not within 0..1"),
    ("log-routing-decision", [*ROUTING, "--confidence", "inf"], "--confidence", "inf is not a finite number"),
    ("log-routing-decision", [*ROUTING, "--confidence", "high"], "--confidence", "high is not a number"),
    ("log-routing-decision", [*ROUTING, "--latency-ms", "1.5"], "--latency-ms", "1.5 is not a whole number"),
    (
        "log-routing-decision",
        [*ROUTING, "--alternatives", '{"b": 0.4}'],
        "--alternatives",
        "expected a JSON list, got an object",
    ),
    ("log-routing-decision", [*ROUTING, "--context", "[1]"], "--context", "expected a JSON object, got a list"),
    ("log-transformation", ["--from-agent", "a"], "--to-agent", "required"),
    ("log-transformation", [*TRANSFORM, "--confidence", "2"], "--confidence", "2 is not within 0..1"),
    ("log-transformation", ["--from-agent", "a", "--to-agent", "   "], "--to-agent", "must not be empty"),
    ("log-transformation", [*TRANSFORM, "--no-success", "--duration-ms", "x1"], "--duration-ms", "not a whole number"),
    ("log-performance-metrics", ["--query", "q"], "--duration-ms", "required"),
    ("log-performance-metrics", ["--query", "q", "--duration-ms", "-0.5"], "--duration-ms", "-0.5 is negative"),
    (
        "log-performance-metrics",
        ["--query", "q", "--duration-ms", "NaN"],
        "--duration-ms",
        "NaN is not a finite number",
    ),
    ("log-performance-metrics", [*METRIC, "--candidates", "-1"], "--candidates", "-1 is negative"),
    (
        "log-performance-metrics",
        [*METRIC, "--confidence-components", "[]"],
        "--confidence-components",
        "expected a JSON object, got a list",
    ),
    ("log-performance-metrics", [*METRIC, "--cache-hit=no"], "--cache-hit", "ignored explicit argument"),
    ("log-detection-failure", ["--prompt", "p"], "--reason", "required"),
    ("log-detection-failure", [*FAILURE, "--status", "missed"], "--status", "invalid choice: 'missed'"),
    (
        "log-detection-failure",
        [*FAILURE, "--trigger-matches", '{"a": 1}'],
        "--trigger-matches",
        "expected a JSON list, got an object",
    ),
    ("log-detection-failure", [*FAILURE, "--capability-scores", "not json"], "--capability-scores", "not valid JSON"),
    (
        "log-detection-failure",
        [*FAILURE, "--candidates-evaluated", "1e3"],
        "--candidates-evaluated",
        "1e3 is not a whole number",
    ),
    ("log-detection-failure", [*FAILURE, "--confidence", "1.01"], "--confidence", "1.01 is not within 0..1"),
]
IDS = [f"{skill}:{flag}:{message[:24]}" for skill, _argv, flag, message in BAD_INPUTS]


def test_the_table_is_broad() -> None:
    assert len(BAD_INPUTS) >= 30
    assert {skill for skill, *_ in BAD_INPUTS} == {
        "log-execution",
        "log-agent-action",
        "log-routing-decision",
        "log-transformation",
        "log-performance-metrics",
        "log-detection-failure",
    }


def _check(code: object, out: str, err: str, flag: str, message: str) -> None:
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert flag in err
    assert message in err


@pytest.mark.parametrize("case", BAD_INPUTS, ids=IDS)
def test_bad_input_in_process(
    skill_env: Where, capsys: pytest.CaptureFixture[str], case: tuple[str, list[str], str, str]
) -> None:
    skill, argv, flag, message = case
    with pytest.raises(SystemExit) as exit_info:
        load(skill).main(argv)
    captured = capsys.readouterr()
    _check(exit_info.value.code, captured.out, captured.err, flag, message)
    assert spool_lines(skill_env.home) == []


@pytest.mark.parametrize("case", BAD_INPUTS, ids=IDS)
def test_bad_input_as_a_process(where: Where, env: dict[str, str], case: tuple[str, list[str], str, str]) -> None:
    skill, argv, flag, message = case
    result = run([VENV_PYTHON], skill, argv, env, where.cwd)
    _check(result.returncode, result.stdout, result.stderr, flag, message)
    assert spool_lines(where.home) == []


def test_help_goes_to_stdout_and_exits_0(skill_env: Where, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load("log-execution").main(["complete", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--quality-score" in out and "exit codes:" in out


def test_values_that_look_like_flags_are_values(skill_env: Where, capsys: pytest.CaptureFixture[str]) -> None:
    # A negative number after a flag is its value, so the range check (not argparse) rejects it.
    with pytest.raises(SystemExit):
        load("log-transformation").main([*TRANSFORM, "--confidence", "-1"])
    assert "--confidence: -1 is not within 0..1" in capsys.readouterr().err
