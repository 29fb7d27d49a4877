"""Turns one spool envelope into the Kafka record that carries it: topic, key, value and headers.

`prepare(envelope, settings, redactor)` is pure. Rules:

- Topic: the event type's family topic (`omniclaude.topics.topic_for`). An event type with no family
  goes to the dead-letter topic with the header `reason=unknown-event-type`, so nothing is dropped
  silently; the consumer sees it there as it is.
- Redaction: `context`, `payload` and any unknown top-level field go through the redactor; the identity
  fields the envelope builder writes itself (event_id, schema_version, event_type, occurred_at, source)
  are kept as they are so the consumer can deduplicate by event_id.
- Prompts follow `settings.capture_mode`. Prompt fields: a `claude_hook` event's `payload.input.prompt`
  (and `payload.raw`, the unparsed input) for UserPromptSubmit and UserPromptExpansion;
  `execution_started.user_prompt`, `detection_failure.prompt`, `routing_decision.user_request`,
  `performance_metric.query`.
    - `redacted` (default): prompts are redacted like everything else.
    - `full`: prompts are sent exactly as written; every other field is still redacted.
    - `hash`: a prompt becomes `sha256:<hex>` of its UTF-8 text, so equal prompts can be matched.
    - `off`: a prompt becomes null, except `detection_failure.prompt` and `performance_metric.query`,
      which the event schema requires to be non-empty text: they become `OMITTED_PROMPT`.
- Key: `topics.record_key` of the redacted envelope, UTF-8 (None when the event has no session).
- Value: the redacted envelope as compact JSON, UTF-8. Headers: `event_type`, `schema_version`.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple, Protocol

from omniclaude import _fastjson, topics
from omniclaude.config import Settings

OMITTED_PROMPT = "[prompt not captured]"
UNKNOWN_EVENT_TYPE = "unknown-event-type"
IDENTITY_FIELDS = frozenset({"event_id", "schema_version", "event_type", "occurred_at", "source"})
PROMPT_HOOK_EVENTS = frozenset({"UserPromptSubmit", "UserPromptExpansion"})
PROMPT_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "execution_started": (("payload", "user_prompt"),),
    "detection_failure": (("payload", "prompt"),),
    "routing_decision": (("payload", "user_request"),),
    "performance_metric": (("payload", "query"),),
}
_HOOK_PROMPT_FIELDS: tuple[tuple[str, ...], ...] = (("payload", "input", "prompt"), ("payload", "raw"))
_REQUIRED_PROMPTS = frozenset({("detection_failure", "prompt"), ("performance_metric", "query")})


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


def _get(node: object, path: tuple[str, ...]) -> object:
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _replaced(node: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    """Returns a copy of `node` with the value at `path` replaced (copies only along the path)."""
    copy = dict(node)
    head = path[0]
    if len(path) == 1:
        copy[head] = value
    else:
        child = copy.get(head)
        if isinstance(child, dict):
            copy[head] = _replaced(child, path[1:], value)
    return copy


def prompt_paths(envelope: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    """Returns where this envelope's prompt fields are (they may be absent or null)."""
    event_type = envelope.get("event_type")
    if event_type == "claude_hook":
        hook_event = _get(envelope, ("payload", "hook_event_name"))
        return _HOOK_PROMPT_FIELDS if hook_event in PROMPT_HOOK_EVENTS else ()
    return PROMPT_FIELDS.get(event_type, ()) if isinstance(event_type, str) else ()


def _captured(mode: str, event_type: object, path: tuple[str, ...], prompt: str) -> object:
    if mode == "full":
        return prompt
    if mode == "hash":
        return "sha256:" + hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()
    return OMITTED_PROMPT if (event_type, path[-1]) in _REQUIRED_PROMPTS else None


def redact_envelope(envelope: dict[str, Any], capture_mode: str, redactor: Redacting) -> dict[str, Any]:
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
    for path in prompt_paths(envelope):
        prompt = _get(envelope, path)
        if isinstance(prompt, str):
            redacted = _replaced(redacted, path, _captured(capture_mode, event_type, path, prompt))
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
    safe = redact_envelope(envelope, settings.capture_mode, redactor)
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
        value=_utf8(_fastjson.dumps(safe)),
        headers=headers,
        event_id=str(envelope.get("event_id")),
    )


def dead_letter(
    event_id: str, event_type: object, *, key: bytes | None, reason: str, error: str, prefix: str
) -> OutgoingRecord:
    """Returns a small dead-letter record that stands for an event which cannot be sent itself.

    Used when the event could not be prepared or the broker rejected it for good (too large); it
    carries the event's identity and the reason, never the event's content.
    """
    value = {"event_id": event_id, "event_type": event_type, "reason": reason, "error": error[:1000]}
    headers = _headers(event_type, 1)
    headers.append(("reason", _utf8(reason)))
    return OutgoingRecord(
        topic=topics.dead_letter_topic(prefix),
        key=key,
        value=_utf8(_fastjson.dumps(value)),
        headers=headers,
        event_id=event_id,
    )
