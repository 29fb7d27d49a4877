"""The consumer's errors: what went wrong decides what happens to the message.

Tree::

    ConsumerError
    ├── PermanentError            the message can never be written: dead-letter it at once, then commit past it
    │   ├── EmptyMessage          the value is b"" (reason "empty")
    │   ├── Tombstone             the value is None (reason "tombstone")
    │   ├── MessageTooLarge       the value is longer than consumer_message_max_bytes (reason "too_large")
    │   ├── NotUtf8               the value is not UTF-8 (reason "not_utf8")
    │   ├── NotJson               the value is not one JSON document (reason "not_json")
    │   ├── NotAnObject           the JSON is not an object (reason "not_object")
    │   ├── UnsupportedSchema     schema_version is not one this code reads (reason "schema_version")
    │   ├── UnknownEvent          event_type has no model (reason "unknown_event_type")
    │   ├── InvalidEvent          the envelope or payload fails validation (reason "invalid")
    │   ├── UnexpectedTopic       the event arrived on a topic that is not its own (reason "unexpected_topic")
    │   ├── TooDeep               the JSON nests deeper than the parsers allow (reason "too_deep")
    │   ├── Undecodable           decoding or mapping the message raised anything else, e.g. MemoryError
    │   │                         (reason "undecodable"): a property of the message, never a crash
    │   └── RowRejected           PostgreSQL refused the row for its content: SQLSTATE classes 22 (data
    │                             exception: NUL character, value out of range, bad text representation),
    │                             23 (integrity: check violation, ...) and 54 (program limit, e.g. an index
    │                             row too large) (reason "db_rejected")
    ├── TransientError            the world is briefly broken: no dead letter, no commit; back off and retry
    │   ├── DatabaseUnavailable   connection lost or refused, server starting or shutting down (SQLSTATE 08,
    │   │                         57P01-57P03), serialization failure 40001, deadlock 40P01, lock timeout
    │   │                         55P03, and any other database error not known to be about the row
    │   └── BrokerUnavailable     Kafka did not acknowledge a dead letter or an offset commit
    └── FatalError                the consumer must stop; the process exits non-zero
        ├── SchemaNotReady        the database schema is behind this code (exit 1 at start)
        └── DeadLetterLimitExceeded  too many recent messages were dead-lettered: a bad release is not
                                  drained into the dead-letter topic (exit 3)

A permanent error always belongs to one message; its `reason` labels metrics and the dead letter's
`dlq.error.reason` header. A transient error belongs to the batch: the whole batch is retried, which is
safe because every write is idempotent (ON CONFLICT on event_id, an order-free upsert for executions).
"""

from __future__ import annotations


class ConsumerError(Exception):
    """Base of every error the consumer raises on purpose."""


class PermanentError(ConsumerError):
    """A message that can never be processed; it goes to the dead-letter topic."""

    reason = "permanent"


class EmptyMessage(PermanentError):
    """The message value is empty (zero bytes)."""

    reason = "empty"


class Tombstone(PermanentError):
    """The message value is null (a tombstone); event topics carry no tombstones."""

    reason = "tombstone"


class MessageTooLarge(PermanentError):
    """The message value exceeds the configured maximum size."""

    reason = "too_large"


class NotUtf8(PermanentError):
    """The message value is not valid UTF-8."""

    reason = "not_utf8"


class NotJson(PermanentError):
    """The message value is not one JSON document."""

    reason = "not_json"


class NotAnObject(PermanentError):
    """The message value is JSON but not an object."""

    reason = "not_object"


class UnsupportedSchema(PermanentError):
    """The envelope's schema_version is not one this consumer reads."""

    reason = "schema_version"


class UnknownEvent(PermanentError):
    """The envelope's event_type has no model."""

    reason = "unknown_event_type"


class InvalidEvent(PermanentError):
    """The envelope or its payload fails validation."""

    reason = "invalid"


class UnexpectedTopic(PermanentError):
    """The event arrived on a topic other than the one its event_type belongs to."""

    reason = "unexpected_topic"


class TooDeep(PermanentError):
    """The message value nests objects or arrays deeper than the parsers allow."""

    reason = "too_deep"


class Undecodable(PermanentError):
    """Decoding or mapping the message failed in an unforeseen way (the message names the exception)."""

    reason = "undecodable"


class RowRejected(PermanentError):
    """PostgreSQL rejected the row for its content (SQLSTATE class 22, 23 or 54)."""

    reason = "db_rejected"

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class TransientError(ConsumerError):
    """A failure that may pass by itself: retry the same batch after a backoff."""


class DatabaseUnavailable(TransientError):
    """The database could not take the batch now (connection, restart, contention)."""


class BrokerUnavailable(TransientError):
    """Kafka did not acknowledge a dead letter or an offset commit."""


class FatalError(ConsumerError):
    """The consumer must stop."""

    exit_code = 1


class SchemaNotReady(FatalError):
    """The database schema is behind the code (or unreadable); run `omniclaude db upgrade`."""

    exit_code = 1


class DeadLetterLimitExceeded(FatalError):
    """Too large a share of recent messages was dead-lettered; consuming stopped."""

    exit_code = 3


PERMANENT_REASONS: tuple[str, ...] = tuple(
    cls.reason
    for cls in (
        EmptyMessage,
        Tombstone,
        MessageTooLarge,
        NotUtf8,
        NotJson,
        NotAnObject,
        UnsupportedSchema,
        UnknownEvent,
        InvalidEvent,
        UnexpectedTopic,
        TooDeep,
        Undecodable,
        RowRejected,
    )
)
"""Every dead-letter reason, for metrics that list each one from the start."""
