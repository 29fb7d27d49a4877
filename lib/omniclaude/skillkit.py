"""What the tracking skills' scripts share: argument types, common flags, record-and-print.

Each `skills/<name>/execute.py` is a small typed CLI over `record_and_print`, run through the plugin's
interpreter shim `hooks/run` (which picks the interpreter the installer recorded, the one with pydantic):

    SkillParser         argparse whose errors are one line, `error: --flag: problem`, and exit 2
    text, uuid_text, json_object, json_list, bounded_int, bounded_float, non_negative_int, ...
                        argument types; each rejects bad input with a message that shows the value
    Flag, skill_parser  a skill's flag table (payload field, flag, argparse options) and the parser built
                        from it; `record_flags` records the payload the same table fills
    add_context_flags   --project-path, --project-name, --session-id, --terminal-id [, --correlation-id]
    record_and_print    validates the payload with its model in `omniclaude.events`, records it through
                        the shared logger into the local spool (it never waits on Kafka), prints one JSON
                        object on stdout and returns the exit code; under an interpreter without pydantic
                        the event is recorded without model validation, after a one-line warning

Exit codes: 0 recorded, 1 refused (well-formed but not recordable: the model rejects it or no spool can
be written; raised inside as `Refused`), 2 usage error. Importing this module loads the standard library
only; pydantic is imported when a payload is validated.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import uuid

from omniclaude import context as _context
from omniclaude.logger import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, NoReturn

EXIT_RECORDED = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

INT32_MAX = 2_147_483_647
FLOAT_MAX = 1e12

EPILOG = """\
The project, session and terminal are filled in from the environment, as the hooks see them.
On success prints one JSON object on stdout: the event_id, the event_type and the payload recorded.

exit codes:
  0  recorded (in the local spool; Kafka is never waited on)
  1  refused: well-formed, but the event could not be recorded (one line on stderr says why)
  2  usage error: a flag is missing or malformed (one line on stderr names it)"""


class Refused(Exception):
    """The input is well-formed but the event cannot be recorded (exit 1); the message says what and why."""


def _warn(message: str) -> None:
    sys.stderr.write(f"omniclaude: {message}\n")


# --- the parser and argument types ----------------------------------------------------------------------


class SkillParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (`error: --flag: problem`) and exit 2.

    Abbreviated flags are not accepted; the epilog states the output and the exit codes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs.setdefault("epilog", EPILOG)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Prints `error: <message>` as one line and exits 2 (argparse's default prints the usage too)."""
        line = " ".join(message.split())
        self.exit(EXIT_USAGE, f"error: {line.removeprefix('argument ')}\n")


def _bad(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


def _shown(raw: str) -> str:
    """The user's value as an error message shows it: one line, at most 60 characters."""
    line = " ".join(raw.split()) or repr(raw)
    return line if len(line) <= 60 else line[:57] + "..."


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def text(raw: str) -> str:
    """Argument type: a string that is not empty or blank (kept as given)."""
    if not raw.strip():
        raise _bad("must not be empty")
    return raw


def uuid_text(raw: str) -> str:
    """Argument type: a UUID, returned in its canonical lower-case form."""
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise _bad(f"{_shown(raw)} is not a UUID") from None


def _number(raw: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(raw)
    except ValueError:
        raise _bad(f"{_shown(raw)} is not {'a whole number' if kind is int else 'a number'}") from None
    if value - value != 0:  # NaN or an infinity
        raise _bad(f"{_shown(raw)} is not a finite number")
    return value


def _check_range(raw: str, value: float, low: float, high: float) -> None:
    if low <= value <= high:
        return
    shown = _shown(raw)
    if high < INT32_MAX:
        raise _bad(f"{shown} is not within {_plain(low)}..{_plain(high)}")
    if value < low:
        raise _bad(f"{shown} is negative" if low == 0 else f"{shown} is below {_plain(low)}")
    raise _bad(f"{shown} is too large (at most {_plain(high)})")


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """Argument type factory: a whole number within [low, high]."""

    def parse(raw: str) -> int:
        value = int(_number(raw, int))
        _check_range(raw, value, low, high)
        return value

    parse.__name__ = f"int {low}..{high}"
    return parse


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    """Argument type factory: a finite number within [low, high]; NaN and infinities are rejected."""

    def parse(raw: str) -> float:
        value = _number(raw, float)
        _check_range(raw, value, low, high)
        return value

    parse.__name__ = f"float {_plain(low)}..{_plain(high)}"
    return parse


non_negative_int = bounded_int(0, INT32_MAX)
"""A count or a duration in whole milliseconds (the SQL columns are INTEGER)."""
non_negative_float = bounded_float(0.0, FLOAT_MAX)
"""A duration in milliseconds with fractions."""
unit_interval = bounded_float(0.0, 1.0)
"""A confidence or a score, 0..1."""
percent = bounded_int(0, 100)

_JSON_TYPE_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _json(raw: str, want: type[dict[str, Any]] | type[list[Any]]) -> Any:
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _bad(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:
        raise _bad(f"not valid JSON ({exc})") from None
    except RecursionError:
        raise _bad("not valid JSON (nested too deeply)") from None
    if not isinstance(value, want):
        got = "null" if value is None else _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
        raise _bad(f"expected a JSON {'object' if want is dict else 'list'}, got {got}")
    return value


def json_object(raw: str) -> dict[str, Any]:
    """Argument type: a JSON object (`{...}`); NaN and Infinity are rejected."""
    result: dict[str, Any] = _json(raw, dict)
    return result


def json_list(raw: str) -> list[Any]:
    """Argument type: a JSON list (`[...]`); NaN and Infinity are rejected."""
    result: list[Any] = _json(raw, list)
    return result


# --- common flags ---------------------------------------------------------------------------------------


class ContextArgs(argparse.Namespace):
    """The flags every skill takes; None means "from the context rules" (`omniclaude.context`)."""

    project_path: str | None
    project_name: str | None
    session_id: str | None
    terminal_id: str | None


class Flag:
    """One row of a skill's flag table: the payload field it fills, its flag (`--<field-with-dashes>` unless
    given) and argparse's options for it. argparse's parser and the payload are both built from the table."""

    __slots__ = ("field", "name", "options")

    def __init__(self, field: str, help: str, *, flag: str = "", **options: Any) -> None:
        self.field = field
        self.name = flag or "--" + field.replace("_", "-")
        self.options: dict[str, Any] = {"help": help, "dest": field, **options}

    def __repr__(self) -> str:
        return f"Flag({self.name})"


CORRELATION = Flag("correlation_id", "ties related events together", type=text, metavar="ID")
METADATA = Flag("metadata", "a JSON object of anything else", type=json_object, metavar="JSON")


def add_flags(parser: argparse.ArgumentParser, flags: Sequence[Flag]) -> None:
    """Adds each flag of a table to the parser."""
    for flag in flags:
        parser.add_argument(flag.name, **flag.options)


def skill_parser(prog: str, description: str, flags: Sequence[Flag]) -> SkillParser:
    """The parser of a skill: its flag table, then the context flags."""
    parser = SkillParser(prog=prog, description=description)
    add_flags(parser, flags)
    add_context_flags(parser, correlation=False)
    return parser


def payload_fields(flags: Sequence[Flag], args: argparse.Namespace) -> dict[str, object]:
    """The payload fields a flag table fills from parsed arguments (None: not given)."""
    return {flag.field: getattr(args, flag.field, None) for flag in flags}


def record_flags(
    event_type: str,
    flags: Sequence[Flag],
    args: ContextArgs,
    *,
    extra: Mapping[str, object] | None = None,
    ids: Mapping[str, str] | None = None,
) -> int:
    """`record_and_print` of the payload a flag table fills (plus `extra` fields); a refusal names the flag."""
    fields = {**payload_fields(flags, args), **(extra or {})}
    names = {flag.field: flag.name for flag in flags}
    return record_and_print(event_type, fields, args, flags=names, ids=ids)


def add_context_flags(parser: argparse.ArgumentParser, *, correlation: bool) -> None:
    """Adds the context override flags and, when the payload has a correlation_id, --correlation-id."""
    if correlation:
        add_flags(parser, [CORRELATION])
    group = parser.add_argument_group("context (default: from the environment, as the hooks see it)")
    group.add_argument("--project-path", type=text, metavar="PATH", help="project folder (default: the git root)")
    group.add_argument("--project-name", type=text, metavar="NAME", help="project name (default: PATH's last part)")
    group.add_argument("--session-id", type=text, metavar="ID", help="Claude Code session id")
    group.add_argument("--terminal-id", type=text, metavar="ID", help="terminal id")


def context_overrides(args: ContextArgs) -> dict[str, object]:
    """Returns the context fields the flags override; a project name is derived from a given path."""
    path = os.path.abspath(args.project_path) if args.project_path is not None else None
    name = args.project_name if args.project_name is not None else _context.project_name(path)
    overrides = {
        "project_path": path,
        "project_name": name,
        "claude_session_id": args.session_id,
        "terminal_id": args.terminal_id,
    }
    return {key: value for key, value in overrides.items() if value is not None}


# --- record and print -----------------------------------------------------------------------------------


def validate(event_type: str, fields: Mapping[str, object], flags: Mapping[str, str]) -> dict[str, object]:
    """Returns the payload as its model in `omniclaude.events` dumps it; raises Refused naming the flag.

    Without pydantic (a script not run through `hooks/run`) the fields are returned as given, after a one-line warning.
    """
    try:
        from pydantic import ValidationError  # deferred: slow to import, and maybe absent

        from omniclaude.events import PAYLOAD_MODELS
    except ImportError:
        _warn(
            f"pydantic is not available to {sys.executable}; recording without model validation "
            "(run it through the plugin's hooks/run, which picks the interpreter the installer recorded)"
        )
        return dict(fields)
    try:
        payload = PAYLOAD_MODELS[event_type].model_validate(dict(fields))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        flag = flags.get(field, "--" + field.replace("_", "-")) if field else event_type
        raise Refused(f"{flag}: {first['msg']}") from None
    dumped: dict[str, object] = payload.model_dump(mode="json")
    return dumped


def record(
    event_type: str,
    fields: Mapping[str, object],
    args: ContextArgs,
    *,
    flags: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, object]]:
    """Validates and records one event; returns (event_id, payload as recorded). Raises Refused.

    `fields` maps payload fields to values; None means "not given" and is left out (0, 0.0, False and ""
    are values). `flags` names the flag of a field whose flag is not `--<field-with-dashes>`. The logger's
    own stderr lines are caught: on failure they become the refusal's message, else they are passed on.
    """
    given = {key: value for key, value in fields.items() if value is not None}
    payload = validate(event_type, given, flags or {})
    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        event_id = get_logger().log_event(
            event_type, payload, source="skill", context_overrides=context_overrides(args)
        )
    lines = [line.removeprefix("omniclaude: ") for line in said.getvalue().splitlines() if line.strip()]
    if event_id is None:
        raise Refused("; ".join(lines) or f"could not record the {event_type} event")
    for line in lines:
        _warn(line)
    return event_id, payload


def emit(document: Mapping[str, object]) -> None:
    """Prints one JSON object as one line on stdout."""
    try:
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    except UnicodeEncodeError:
        sys.stdout.write(json.dumps(document, ensure_ascii=True) + "\n")
    sys.stdout.flush()


def refuse(error: Refused) -> int:
    """Reports a refusal as one line on stderr; returns EXIT_REFUSED."""
    sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
    return EXIT_REFUSED


def record_and_print(
    event_type: str,
    fields: Mapping[str, object],
    args: ContextArgs,
    *,
    flags: Mapping[str, str] | None = None,
    ids: Mapping[str, str] | None = None,
) -> int:
    """Records one event and prints `{"event_id", "event_type", **ids, "payload"}`; returns the exit code."""
    try:
        event_id, payload = record(event_type, fields, args, flags=flags)
    except Refused as error:
        return refuse(error)
    emit({"event_id": event_id, "event_type": event_type, **(ids or {}), "payload": payload})
    return EXIT_RECORDED
