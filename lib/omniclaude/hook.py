"""The capture hook: turns one Claude Code hook firing into a `claude_hook` event in the spool.

Contract: reads all of stdin, records one event, prints nothing on stdout, returns 0 whatever happens
(empty or invalid input, invalid UTF-8, huge input, an unwritable disk). Input that is not a JSON object, or
that nests objects and arrays deeper than `_fastjson.MAX_DEPTH` (64) levels, is still recorded, with an
`error` and the start of the raw text (`raw`); of a too-deep object only the top-level scalars (session id,
event name, tool name, ...) are kept as `input`, so every event in the spool is shallow. An event that
cannot be written at all is reported on stderr. Standard library only: no pydantic, no Kafka, no network.
"""

from __future__ import annotations

import sys

from omniclaude import _fastjson
from omniclaude.envelope import cut_at_boundary
from omniclaude.logger import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

RAW_PREVIEW_CHARS = 4096
_OPTIONAL_STRINGS = ("prompt_id", "tool_use_id", "tool_name", "agent_id", "agent_type")


def _preview(text: str) -> str:
    """The start of ``text``, cut where no token is split (see `envelope.cut_at_boundary`)."""
    return text if len(text) <= RAW_PREVIEW_CHARS else text[: cut_at_boundary(text, RAW_PREVIEW_CHARS)]


def parse_input(data: bytes) -> tuple[dict[str, object], str | None, str | None]:
    """Returns (hook input object, error, raw preview); the object is {} when the input is unusable."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        preview = _preview(data[: RAW_PREVIEW_CHARS * 4 + 4].decode("utf-8", "replace"))
        return {}, f"input is not UTF-8 ({exc.reason} at byte {exc.start})", preview
    if not text.strip():
        return {}, "empty input", None
    too_deep = f"input is nested deeper than {_fastjson.MAX_DEPTH} levels"
    try:
        value = _fastjson.loads(text)
    except RecursionError:
        return {}, too_deep, _preview(text)
    except (ValueError, MemoryError) as exc:
        return {}, f"input is not JSON: {str(exc)[:200]}", _preview(text)
    if not isinstance(value, dict):
        return {}, f"input is JSON {type(value).__name__}, not an object", _preview(text)
    if _fastjson.exceeds_depth(value):
        scalars = {key: item for key, item in value.items() if not isinstance(item, (dict, list))}
        return scalars, too_deep, _preview(text)
    return value, None, None


def build_payload(
    hook_input: dict[str, object], event_name: str | None, error: str | None, raw: str | None
) -> dict[str, object]:
    """Returns the `claude_hook` payload for one firing; unknown event names are kept as given."""
    given = hook_input.get("hook_event_name")
    name = given if isinstance(given, str) and given else event_name or "unknown"
    payload: dict[str, object] = {"hook_event_name": name}
    for key in _OPTIONAL_STRINGS:
        value = hook_input.get(key)
        payload[key] = value if isinstance(value, str) else None
    payload["success"] = True if name == "PostToolUse" else False if name == "PostToolUseFailure" else None
    duration = hook_input.get("duration_ms")
    payload["duration_ms"] = duration if isinstance(duration, int) and not isinstance(duration, bool) else None
    payload["input"] = hook_input
    if error is not None:
        payload["error"] = error
    if raw is not None:
        payload["raw"] = raw
    return payload


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the hook: `capture.py [EVENT_NAME]` with the hook input on stdin. Always returns 0."""
    try:
        args = sys.argv[1:] if argv is None else argv
        data = sys.stdin.buffer.read() if sys.stdin is not None else b""
        hook_input, error, raw = parse_input(data)
        payload = build_payload(hook_input, args[0] if args else None, error, raw)
        get_logger().log_event("claude_hook", payload, source="hook", hook_input=hook_input)
    except BaseException as exc:
        try:
            sys.stderr.write(f"omniclaude: hook failed: {type(exc).__name__}\n")
        except Exception:
            pass
    return 0
