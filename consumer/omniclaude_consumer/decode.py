"""Step 1: raw record bytes in, a validated `Envelope` out, or the `PermanentError` that explains why not.

Nothing here blocks or touches the network. The consumer reads values as raw bytes (no deserializer in
the Kafka client), so a bad message can only ever fail here, on its own, and never wedge the client.
The common path is one call into pydantic's Rust parser and validator (`FAST`: the envelope models of
`omniclaude.events`, one per event type, told apart by `event_type`), which parses and validates in one
pass. A message that fails it is given to the canonical `Envelope.parse_json`, the definition of a valid
event: what it accepts is accepted, and its error is examined, step by step, to name the reason (not
UTF-8, not JSON, not an object, wrong schema version, unknown event type, invalid, too deep). A test pins
the two paths to the same results.

`decode_row` is the step the loop calls: `decode`, then `rows.to_row`. Whatever one message makes them
raise (RecursionError, MemoryError, any bug a strange value trips) becomes a `PermanentError` of that
message (`TooDeep`, `Undecodable`), so one message can only ever be dead-lettered, never end the consumer.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, Literal, Union

from omniclaude.envelope import SCHEMA_VERSION
from omniclaude.events import PAYLOAD_MODELS, Envelope, UnknownEventType
from omniclaude.topics import topic_for
from pydantic import Field, TypeAdapter, ValidationError, create_model

from omniclaude_consumer.errors import (
    EmptyMessage,
    InvalidEvent,
    MessageTooLarge,
    NotAnObject,
    NotJson,
    NotUtf8,
    PermanentError,
    Tombstone,
    TooDeep,
    Undecodable,
    UnexpectedTopic,
    UnknownEvent,
    UnsupportedSchema,
)
from omniclaude_consumer.message import Message
from omniclaude_consumer.rows import TableRow, to_row

MAX_ERRORS_SHOWN = 5
_TOO_DEEP = "the message value nests objects or arrays too deeply to be parsed"


def _typed_envelopes() -> TypeAdapter[Envelope]:
    """One Envelope subclass per event type (its payload typed), as a union discriminated by event_type."""
    literal: Any = Literal  # built at run time from PAYLOAD_MODELS: typed as Any for mypy
    union: Any = Union
    annotated: Any = Annotated
    models = tuple(
        create_model(
            f"{model.__name__}Envelope", __base__=Envelope, event_type=(literal[event_type], ...), payload=(model, ...)
        )
        for event_type, model in PAYLOAD_MODELS.items()
    )
    adapter: TypeAdapter[Envelope] = TypeAdapter(annotated[union[models], Field(discriminator="event_type")])
    return adapter


FAST = _typed_envelopes()
_validate_json = FAST.validator.validate_json  # the compiled validator itself: no per-call wrapper


_topic_for = functools.cache(topic_for)  # a validated event type is one of a few: the cache stays small


def decode(message: Message, *, topic_prefix: str, max_bytes: int) -> Envelope:
    """Returns the message's validated envelope; raises a `PermanentError` subclass naming the problem.

    The event must have arrived on its own topic (`topics.topic_for(event_type, topic_prefix)`).
    """
    value = message.value
    if value is None:
        raise Tombstone("the message value is null (tombstone)")
    if not value:
        raise EmptyMessage("the message value is empty")
    if len(value) > max_bytes:
        raise MessageTooLarge(f"the message value is {len(value)} bytes, more than the limit of {max_bytes}")
    try:
        envelope: Envelope = _validate_json(value)
    except ValueError:
        try:
            envelope = Envelope.parse_json(value)
        except (ValueError, TypeError) as exc:
            raise _explain(value, exc) from None
    expected = _topic_for(envelope.event_type, topic_prefix)
    if expected != message.topic:
        raise UnexpectedTopic(
            f"event_type {envelope.event_type!r} belongs on topic {expected!r}, not {message.topic!r}"
        )
    return envelope


def decode_row(message: Message, *, topic_prefix: str, max_bytes: int) -> TableRow:
    """Returns the table row of one message; raises only `PermanentError` subclasses (see the docstring)."""
    try:
        return to_row(decode(message, topic_prefix=topic_prefix, max_bytes=max_bytes))
    except PermanentError:
        raise
    except RecursionError:
        raise TooDeep(_TOO_DEEP) from None
    except Exception as exc:  # MemoryError and anything unforeseen: a property of this message
        raise Undecodable(f"{type(exc).__name__} while decoding: {_safe_text(exc)}") from None


def _safe_text(exc: BaseException) -> str:
    try:
        return str(exc)[:500]
    except Exception:
        return "(no description)"


def _explain(value: bytes, exc: Exception) -> PermanentError:
    """Names why `value` failed `Envelope.parse_json` with `exc` (the slow path: failures only)."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as err:
        return NotUtf8(f"the message value is not UTF-8: {err.reason} at byte {err.start}")
    if "recursion limit exceeded" in str(exc):
        return TooDeep(_TOO_DEEP)
    try:
        data = json.loads(text)
    except RecursionError:
        return TooDeep(_TOO_DEEP)
    except ValueError as err:
        return NotJson(f"the message value is not JSON: {err}")
    if not isinstance(data, dict):
        return NotAnObject(f"the message value is a JSON {_json_type(data)}, not an object")
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        return UnsupportedSchema(f"schema_version {str(version)[:40]!r} is not supported (expected {SCHEMA_VERSION})")
    if isinstance(exc, UnknownEventType):
        return UnknownEvent(str(exc))
    if isinstance(exc, ValidationError):
        return InvalidEvent(format_validation_error(exc))
    return InvalidEvent(f"{type(exc).__name__}: {str(exc)[:500]}")


def format_validation_error(exc: ValidationError) -> str:
    """A short, value-free description: `location: message` for the first few errors."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in errors[:MAX_ERRORS_SHOWN]]
    more = len(errors) - MAX_ERRORS_SHOWN
    if more > 0:
        parts.append(f"and {more} more")
    return f"{exc.title} failed validation: " + "; ".join(parts)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array"
