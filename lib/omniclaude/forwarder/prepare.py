"""Turns one spool envelope into the Kafka record that carries it: topic, key, value and headers.

`prepare(envelope, settings, redactor)` is pure. Rules:

- Topic: the event type's family topic (`omniclaude.topics.topic_for`). An event type with no family
  goes to the dead-letter topic with the header `reason=unknown-event-type`, so nothing is dropped
  silently; the consumer sees it there as it is.
- Redaction: `context`, `payload` and any unknown top-level field go through the redactor; the identity
  fields the envelope builder writes itself (event_id, schema_version, event_type, occurred_at, source)
  are kept as they are so the consumer can deduplicate by event_id.
- Prompts follow `settings.capture_mode`. Prompt fields are every field that carries what the user or
  the model wrote (see `prompt_paths`): a `claude_hook` event's `prompt` (UserPromptSubmit), every text
  field of a UserPromptExpansion, `last_assistant_message` (Stop, SubagentStop, StopFailure), compaction
  instructions and summaries (PreCompact, PostCompact), an Agent/Task tool's `prompt` and `description`
  and its whole `tool_response`, a Skill's `args`, the same inside PostToolBatch's `tool_calls`, and
  `payload.raw` (the unparsed input) of those events; `execution_started.user_prompt`,
  `detection_failure.prompt`, `routing_decision.user_request`, `performance_metric.query`.
    - `redacted` (default): prompts are redacted like everything else.
    - `full`: prompts are sent exactly as written; every other field is still redacted.
    - `hash`: a prompt becomes `hmac-sha256:<hex>` under the install's `prompt_hash_key`
      (`omniclaude.prompt_hash`), so equal prompts match within one installation and nobody else can
      confirm a guess; a prompt that is not text is hashed as its JSON. With no key (a caller that did
      not make one) prompts are dropped as in `off`.
    - `off`: a prompt becomes null, except `detection_failure.prompt` and `performance_metric.query`,
      which the event schema requires to be non-empty text: they become `OMITTED_PROMPT`.
- Key: `topics.record_key` of the redacted envelope, UTF-8 (None when the event has no session).
- Value: the redacted envelope as compact JSON, UTF-8. Headers: `event_type`, `schema_version`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from omniclaude import _fastjson, prompt_hash, topics
from omniclaude.config import Settings
from omniclaude.envelope import cut_at_boundary
from omniclaude.forwarder import codec

OMITTED_PROMPT = "[prompt not captured]"
UNKNOWN_EVENT_TYPE = "unknown-event-type"
IDENTITY_FIELDS = frozenset({"event_id", "schema_version", "event_type", "occurred_at", "source"})
PROMPT_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "execution_started": (("payload", "user_prompt"),),
    "detection_failure": (("payload", "prompt"),),
    "routing_decision": (("payload", "user_request"),),
    "performance_metric": (("payload", "query"),),
}
# Hook input fields that hold prompt text, by hook event.
HOOK_PROMPT_FIELDS: dict[str, tuple[str, ...]] = {
    "UserPromptSubmit": ("prompt",),
    "Stop": ("last_assistant_message",),
    "SubagentStop": ("last_assistant_message",),
    "StopFailure": ("last_assistant_message",),
    "PreCompact": ("custom_instructions",),
    "PostCompact": ("compact_summary", "summary", "custom_instructions"),
}
# UserPromptExpansion: every text field but these is prompt text.
HOOK_METADATA_FIELDS = frozenset(
    {"session_id", "transcript_path", "cwd", "permission_mode", "hook_event_name", "prompt_id", "agent_id",
     "agent_type", "effort", "expansion_type", "command_name", "command_source"}
)  # fmt: skip
AGENT_TOOLS = frozenset({"Agent", "Task"})
_RAW_PROMPT_EVENTS = frozenset({*HOOK_PROMPT_FIELDS, "UserPromptExpansion"})
_REQUIRED_PROMPTS = frozenset({("detection_failure", "prompt"), ("performance_metric", "query")})
_Path = tuple[str | int, ...]


class Redacting(Protocol):
    """What `prepare` needs of `omniclaude.redact.Redactor`."""

    def redact(self, value: object) -> object:
        """Returns a redacted copy of JSON-like `value`."""
        ...


class OutgoingRecord(NamedTuple):
    """One Kafka record, ready for `KafkaProducer.send`."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    event_id: str


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def _get(node: object, path: _Path) -> object:
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return None
            node = node[part]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _replaced(node: Any, path: _Path, value: object) -> Any:
    """Returns a copy of `node` with the value at `path` replaced (copies only along the path)."""
    head = path[0]
    if isinstance(node, list) and isinstance(head, int) and head < len(node):
        copy_list = list(node)
        copy_list[head] = value if len(path) == 1 else _replaced(copy_list[head], path[1:], value)
        return copy_list
    if isinstance(node, dict) and isinstance(head, str):
        copy = dict(node)
        if len(path) == 1:
            copy[head] = value
        elif head in copy:
            copy[head] = _replaced(copy[head], path[1:], value)
        return copy
    return node


def _tool_prompt_paths(call: object, base: _Path) -> list[_Path]:
    """The prompt fields of one tool call (a hook input or an item of PostToolBatch's tool_calls)."""
    if not isinstance(call, dict):
        return []
    tool = call.get("tool_name")
    if isinstance(tool, str) and tool in AGENT_TOOLS:
        return [(*base, "tool_input", "prompt"), (*base, "tool_input", "description"), (*base, "tool_response")]
    if tool == "Skill":
        return [(*base, "tool_input", "args")]
    return []


def prompt_paths(envelope: dict[str, Any], *, revealing: bool = False) -> list[_Path]:
    """Returns where this envelope's prompt fields are (they may be absent or null).

    Of a UserPromptExpansion's text fields, those that may be sent in clear (``revealing``, full mode)
    are only the ones whose name says prompt or args; hash and off modes hide all of them.
    """
    event_type = envelope.get("event_type")
    if event_type != "claude_hook":
        return list(PROMPT_FIELDS.get(event_type, ())) if isinstance(event_type, str) else []
    hook_event = _get(envelope, ("payload", "hook_event_name"))
    hook_input = _get(envelope, ("payload", "input"))
    base: _Path = ("payload", "input")
    paths: list[_Path] = [(*base, field) for field in HOOK_PROMPT_FIELDS.get(str(hook_event), ())]
    if hook_event == "UserPromptExpansion" and isinstance(hook_input, dict):
        paths += [
            (*base, key)
            for key, value in hook_input.items()
            if key not in HOOK_METADATA_FIELDS
            and isinstance(value, str)
            and (not revealing or "prompt" in key or "args" in key)
        ]
    paths += _tool_prompt_paths(hook_input, base)
    calls = hook_input.get("tool_calls") if isinstance(hook_input, dict) else None
    if isinstance(calls, list):
        for index, call in enumerate(calls):
            paths += _tool_prompt_paths(call, (*base, "tool_calls", index))
    if isinstance(hook_event, str) and hook_event in _RAW_PROMPT_EVENTS:
        paths.append(("payload", "raw"))
    return paths


def _captured(mode: str, event_type: object, path: _Path, prompt: object, key: str | None) -> object:
    if mode == "full":
        return prompt
    if mode == "hash" and key:
        text = prompt if isinstance(prompt, str) else _fastjson.dumps(prompt)
        return prompt_hash.digest(key, text)
    return OMITTED_PROMPT if (event_type, path[-1]) in _REQUIRED_PROMPTS else None


def redact_envelope(
    envelope: dict[str, Any], capture_mode: str, redactor: Redacting, hash_key: str | None = None
) -> dict[str, Any]:
    """Returns the envelope as it may leave the machine: redacted, prompts as `capture_mode` says."""
    identity = {
        key: value
        for key, value in envelope.items()
        if key in IDENTITY_FIELDS and (value is None or isinstance(value, (str, int)))
    }
    rest = redactor.redact({key: value for key, value in envelope.items() if key not in identity})
    redacted: dict[str, Any] = {**identity, **rest} if isinstance(rest, dict) else identity
    if capture_mode == "redacted":
        return redacted
    event_type = envelope.get("event_type")
    for path in prompt_paths(envelope, revealing=capture_mode == "full"):
        prompt = _get(envelope, path)
        if isinstance(prompt, (str, list, dict)):
            redacted = _replaced(redacted, path, _captured(capture_mode, event_type, path, prompt, hash_key))
    return redacted


def _headers(event_type: object, schema_version: object) -> list[tuple[str, bytes]]:
    return [
        ("event_type", _utf8(str(event_type))),
        ("schema_version", _utf8(str(schema_version if schema_version is not None else 1))),
    ]


def prepare(envelope: dict[str, Any], settings: Settings, redactor: Redacting) -> OutgoingRecord:
    """Returns the Kafka record for one spool envelope (see the module docstring). Pure.

    Raises TypeError or ValueError when the redacted envelope cannot be serialised.
    """
    safe = redact_envelope(envelope, settings.capture_mode, redactor, settings.prompt_hash_key)
    event_type = envelope.get("event_type")
    headers = _headers(event_type, envelope.get("schema_version"))
    topic = topics.topic_for(event_type, settings.topic_prefix) if isinstance(event_type, str) else None
    if topic is None:
        topic = topics.dead_letter_topic(settings.topic_prefix)
        headers.append(("reason", _utf8(UNKNOWN_EVENT_TYPE)))
    key = topics.record_key(safe)
    return OutgoingRecord(
        topic=topic,
        key=None if key is None else _utf8(key),
        value=codec.dumps(safe),
        headers=headers,
        event_id=str(envelope.get("event_id")),
    )


class Unreadable(NamedTuple):
    """A spool line that is not an event, and why (`spool.event_or_problem`): counted and quarantined."""

    problem: str


class Unprepared(NamedTuple):
    """An event that could not be prepared, and why: it is sent as a dead-letter record."""

    event_id: str
    event_type: object
    reason: str


Prepared = OutgoingRecord | Unprepared | Unreadable


def prepare_lines(
    lines: Sequence[bytes], settings: Settings, redactor: Redacting, triggers: list[dict[str, Any]]
) -> list[Prepared]:
    """Parses each spool line as the spool reader does and prepares its event, in order: a record, or
    why the event could not be prepared, or why the line is not an event. The events that collect
    transcript usage (`usage.collect.is_trigger`) are appended to `triggers`. Never raises for a bad
    line or event."""
    from omniclaude.spool import event_or_problem
    from omniclaude.usage.collect import is_trigger

    results: list[Prepared] = []
    for line in lines:
        event = event_or_problem(line, codec.loads)
        if isinstance(event, str):
            results.append(Unreadable(event))
            continue
        if is_trigger(event):
            triggers.append(event)
        try:
            results.append(prepare(event, settings, redactor))
        except Exception as exc:
            results.append(
                Unprepared(str(event.get("event_id")), event.get("event_type"), f"{type(exc).__name__}: {exc}")
            )
    return results


def dead_letter(
    event_id: str, event_type: object, *, key: bytes | None, reason: str, error: str, prefix: str
) -> OutgoingRecord:
    """Returns a small dead-letter record that stands for an event which cannot be sent itself.

    Used when the event could not be prepared or the broker rejected it for good (too large); it
    carries the event's identity and the reason, never the event's content.
    """
    error = error[: cut_at_boundary(error, 1000)]
    value = {"event_id": event_id, "event_type": event_type, "reason": reason, "error": error}
    headers = _headers(event_type, 1)
    headers.append(("reason", _utf8(reason)))
    return OutgoingRecord(
        topic=topics.dead_letter_topic(prefix),
        key=key,
        value=codec.dumps(value),
        headers=headers,
        event_id=event_id,
    )
