"""omniclaude.skillkit: argument types, the one-line parser, context overrides, validation."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from omniclaude import skillkit
from omniclaude.skillkit import (
    ContextArgs,
    Refused,
    SkillParser,
    bounded_float,
    bounded_int,
    json_list,
    json_object,
    non_negative_float,
    non_negative_int,
    percent,
    text,
    unit_interval,
    uuid_text,
)


def _rejects(parse: Any, raw: str) -> str:
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse(raw)
    return str(info.value)


# --- argument types -------------------------------------------------------------------------------------


def test_text_keeps_the_value_and_rejects_blank() -> None:
    assert text(" a b ") == " a b "
    assert _rejects(text, "") == "must not be empty"
    assert _rejects(text, " \t\n") == "must not be empty"


def test_uuid_text_is_canonical() -> None:
    assert uuid_text("01A21BF0-8E77-7209-82AC-6334164DBB2D") == "01a21bf0-8e77-7209-82ac-6334164dbb2d"
    assert uuid_text("{01a21bf0-8e77-7209-82ac-6334164dbb2d}") == "01a21bf0-8e77-7209-82ac-6334164dbb2d"
    assert _rejects(uuid_text, "run-7") == "run-7 is not a UUID"
    assert _rejects(uuid_text, "") == "'' is not a UUID"


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("100", 100), ("42", 42), (" 7 ", 7), ("1_0", 10)])
def test_percent_accepts_whole_numbers_in_range(raw: str, value: int) -> None:
    assert percent(raw) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("101", "101 is not within 0..100"),
        ("-1", "-1 is not within 0..100"),
        ("50.5", "50.5 is not a whole number"),
        ("1e2", "1e2 is not a whole number"),
        ("", "'' is not a whole number"),
        ("ten", "ten is not a whole number"),
    ],
)
def test_percent_rejects(raw: str, message: str) -> None:
    assert _rejects(percent, raw) == message


@pytest.mark.parametrize(
    ("raw", "value"), [("0", 0.0), ("0.0", 0.0), ("1", 1.0), ("1.0", 1.0), ("0.5", 0.5), ("5e-1", 0.5), ("-0", 0.0)]
)
def test_unit_interval_is_inclusive(raw: str, value: float) -> None:
    assert unit_interval(raw) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-0.1", "-0.1 is not within 0..1"),
        ("1.0000001", "1.0000001 is not within 0..1"),
        ("nan", "nan is not a finite number"),
        ("NaN", "NaN is not a finite number"),
        ("inf", "inf is not a finite number"),
        ("-Infinity", "-Infinity is not a finite number"),
        ("0,5", "0,5 is not a number"),
    ],
)
def test_unit_interval_rejects(raw: str, message: str) -> None:
    assert _rejects(unit_interval, raw) == message


def test_non_negative_numbers() -> None:
    assert non_negative_int("0") == 0
    assert non_negative_int("2147483647") == 2_147_483_647
    assert _rejects(non_negative_int, "2147483648") == "2147483648 is too large (at most 2147483647)"
    assert _rejects(non_negative_int, "-3") == "-3 is negative"
    assert non_negative_float("0.25") == 0.25
    assert _rejects(non_negative_float, "-0.5") == "-0.5 is negative"
    assert _rejects(non_negative_float, "1e13") == "1e13 is too large (at most 1000000000000)"


def test_bounded_factories() -> None:
    assert bounded_int(5, 10)("5") == 5
    assert _rejects(bounded_int(5, 10), "11") == "11 is not within 5..10"
    assert _rejects(bounded_float(0.5, 2.5), "3") == "3 is not within 0.5..2.5"
    assert _rejects(bounded_int(1, 2**40), "0") == "0 is below 1"


def test_a_long_value_is_shortened_in_messages() -> None:
    message = _rejects(uuid_text, "x" * 500)
    assert len(message) < 80 and message.endswith("... is not a UUID")


def test_json_object_and_list() -> None:
    assert json_object('{"a": [1, {"b": null}], "c": 1.5}') == {"a": [1, {"b": None}], "c": 1.5}
    assert json_object("{}") == {}
    assert json_list('[1, "x", {"y": true}]') == [1, "x", {"y": True}]
    assert json_list("[]") == []


@pytest.mark.parametrize(
    ("raw", "got"),
    [
        ("[1]", "a list"),
        ('"s"', "a string"),
        ("1", "a number"),
        ("1.5", "a number"),
        ("true", "a boolean"),
        ("null", "null"),
    ],
)
def test_json_object_names_what_it_got(raw: str, got: str) -> None:
    assert _rejects(json_object, raw) == f"expected a JSON object, got {got}"


def test_json_list_names_what_it_got() -> None:
    assert _rejects(json_list, '{"a": 1}') == "expected a JSON list, got an object"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_rejects_non_finite_numbers(constant: str) -> None:
    assert _rejects(json_object, f'{{"x": {constant}}}') == f"not valid JSON ({constant} is not allowed)"


def test_json_syntax_errors_say_where() -> None:
    assert _rejects(json_object, '{"a": }') == "not valid JSON (Expecting value at line 1 column 7)"
    assert _rejects(json_list, "") == "not valid JSON (Expecting value at line 1 column 1)"
    assert _rejects(json_list, "[" * 100_000) == "not valid JSON (nested too deeply)"


# --- the parser -----------------------------------------------------------------------------------------


def _parser() -> SkillParser:
    parser = SkillParser(prog="t")
    parser.add_argument("--count", type=non_negative_int, required=True)
    parser.add_argument("--flag", action=argparse.BooleanOptionalAction)
    return parser


def _error(parser: SkillParser, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        parser.parse_args(argv)
    assert info.value.code == skillkit.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    return captured.err


def test_parser_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert _error(_parser(), ["--count", "-1"], capsys) == "error: --count: -1 is negative\n"
    assert _error(_parser(), [], capsys) == "error: the following arguments are required: --count\n"
    assert _error(_parser(), ["--count", "1", "x"], capsys) == "error: unrecognized arguments: x\n"


def test_parser_rejects_abbreviations(capsys: pytest.CaptureFixture[str]) -> None:
    assert "unrecognized arguments: --cou 1" in _error(_parser(), ["--count", "1", "--cou", "1"], capsys)


def test_parser_error_collapses_newlines(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().error("argument --x: first\nsecond")
    assert capsys.readouterr().err == "error: --x: first second\n"


def test_booleans_default_to_not_given() -> None:
    assert _parser().parse_args(["--count", "0"]).flag is None
    assert _parser().parse_args(["--count", "0", "--no-flag"]).flag is False
    assert _parser().parse_args(["--count", "0", "--flag"]).flag is True


def test_help_states_the_exit_codes() -> None:
    assert "exit codes:" in _parser().format_help()


# --- context overrides ----------------------------------------------------------------------------------


def _context_args(**given: str) -> ContextArgs:
    args = ContextArgs()
    for name in ("project_path", "project_name", "session_id", "terminal_id"):
        setattr(args, name, given.get(name))
    return args


def test_no_flags_override_nothing() -> None:
    assert skillkit.context_overrides(_context_args()) == {}


def test_a_project_path_brings_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert skillkit.context_overrides(_context_args(project_path="repos/shop/")) == {
        "project_path": str(tmp_path / "repos" / "shop"),
        "project_name": "shop",
    }


def test_every_override() -> None:
    args = _context_args(project_path="/p/x", project_name="X", session_id="s", terminal_id="t")
    assert skillkit.context_overrides(args) == {
        "project_path": "/p/x",
        "project_name": "X",
        "claude_session_id": "s",
        "terminal_id": "t",
    }


def test_a_name_alone_overrides_only_the_name() -> None:
    assert skillkit.context_overrides(_context_args(project_name="X")) == {"project_name": "X"}


def test_context_flags_are_added() -> None:
    parser = SkillParser(prog="t")
    skillkit.add_context_flags(parser, correlation=False)
    args = parser.parse_args(["--session-id", "s"], namespace=_context_args())
    assert args.session_id == "s" and not hasattr(args, "correlation_id")
    with_correlation = SkillParser(prog="t")
    skillkit.add_context_flags(with_correlation, correlation=True)
    assert with_correlation.parse_args(["--correlation-id", "c"]).correlation_id == "c"


# --- validation, recording, output ----------------------------------------------------------------------

ROUTING = {"selected_agent": "a", "confidence": 0.5, "strategy": "s", "latency_ms": 1}


def test_validate_returns_the_model_dump() -> None:
    payload = skillkit.validate("routing_decision", ROUTING, {})
    assert payload == {
        **ROUTING,
        "user_request": None,
        "alternatives": [],
        "reasoning": None,
        "context": {},
        "correlation_id": None,
    }


def test_validate_names_the_flag_of_a_rejected_field() -> None:
    with pytest.raises(Refused) as info:
        skillkit.validate("routing_decision", {**ROUTING, "selected_agent": ""}, {"selected_agent": "--agent"})
    assert str(info.value) == "--agent: String should have at least 1 character"
    with pytest.raises(Refused) as info:
        skillkit.validate("execution_progress", {"execution_id": "x", "stage": "s"}, {})
    assert str(info.value).startswith("--execution-id: ")


def test_validate_without_pydantic_warns_and_passes_the_fields_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pydantic", None)  # `from pydantic import ...` now raises ImportError
    assert skillkit.validate("routing_decision", ROUTING, {}) == ROUTING
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "without model validation" in err


def test_record_and_print_refusal_is_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = skillkit.record_and_print("routing_decision", {**ROUTING, "confidence": 2}, _context_args())
    assert code == skillkit.EXIT_REFUSED
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "error: --confidence: Input should be less than or equal to 1\n"


def test_emit_prints_one_line_of_json(capsys: pytest.CaptureFixture[str]) -> None:
    skillkit.emit({"a": "ü\nx", "b": [1]})
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out) == {"a": "ü\nx", "b": [1]}


def test_emit_falls_back_to_ascii_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer, encoding="ascii"))
    skillkit.emit({"a": "ü"})
    assert json.loads(buffer.getvalue()) == {"a": "ü"}


def test_importing_skillkit_loads_no_pydantic() -> None:
    code = "import sys, omniclaude.skillkit; print('pydantic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
