"""The Kafka side of the loop: poll, pause/resume, commit, and rebalance notices, behind a small interface.

`KafkaSource` wraps kafka-python's `KafkaConsumer` (auto-commit off, raw bytes: no deserializers).
kafka-python 3 calls rebalance listeners on its own IO thread; the listener here only records the revoked
partitions in a set under a lock, and the poll loop picks them up after `poll()` returns (`take_revoked`).
KafkaConsumer is not thread-safe: only the poll loop's thread calls into this class.

Blocking: `poll` waits up to its timeout (rebalances happen inside it); `commit` waits for the broker.
"""

from __future__ import annotations

import logging
import operator
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from omniclaude_consumer.errors import BrokerUnavailable
from omniclaude_consumer.message import Message, Partition

log = logging.getLogger(__name__)


class CommitLost(Exception):
    """The group changed under the commit (rebalance, fenced, expired): these offsets are no longer ours."""


class Source(Protocol):
    """What the poll loop needs from Kafka (the in-memory source in the tests implements it too)."""

    def poll(self, timeout_ms: int, max_records: int) -> list[Message]: ...

    def commit(self, offsets: dict[Partition, int]) -> None: ...

    def assignment(self) -> set[Partition]: ...

    def take_revoked(self) -> set[Partition]: ...

    def pause(self, partitions: Iterable[Partition]) -> None: ...

    def resume_all(self) -> None: ...

    def seek(self, partition: Partition, offset: int) -> None: ...

    def highwater(self, partition: Partition) -> int | None: ...

    def close(self) -> None: ...


class _Listener:
    """Rebalance listener: trivial work on the client's IO thread, the loop does the rest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revoked: set[Partition] = set()

    def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        with self._lock:
            self._revoked.update(Partition(tp.topic, tp.partition) for tp in revoked)

    def on_partitions_lost(self, lost: Iterable[Any]) -> None:
        self.on_partitions_revoked(lost)

    def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        pass

    def take(self) -> set[Partition]:
        with self._lock:
            revoked, self._revoked = self._revoked, set()
        return revoked


_MESSAGE_FIELDS = operator.attrgetter("topic", "partition", "offset", "key", "value", "headers", "timestamp")
"""A kafka-python ConsumerRecord's fields in `Message` order, read in one C call."""


def _as_messages(records: Iterable[Any]) -> list[Message]:
    """The records as `Message`s (built by `tuple.__new__`: half the cost of the named tuple's own __new__,
    on a path taken for every record; the headers stay kafka-python's list)."""
    new = tuple.__new__
    return [new(Message, _MESSAGE_FIELDS(record)) for record in records]


class KafkaSource:
    """A subscribed kafka-python KafkaConsumer, committing only what it is told to."""

    def __init__(
        self,
        topics: Sequence[str],
        *,
        group: str,
        config: dict[str, Any],
        max_poll_records: int,
        session_timeout_ms: int,
        auto_offset_reset: str,
        group_instance_id: str | None = None,
        bootstrap_timeout_ms: int = 10_000,
    ) -> None:
        from kafka import ConsumerRebalanceListener, KafkaConsumer

        class Listener(_Listener, ConsumerRebalanceListener):  # type: ignore[misc]
            pass

        self._listener = Listener()
        self._consumer = KafkaConsumer(
            **{
                **config,
                "group_id": group,
                "group_instance_id": group_instance_id,
                "enable_auto_commit": False,
                "auto_offset_reset": auto_offset_reset,
                "key_deserializer": None,
                "value_deserializer": None,
                "max_poll_records": max_poll_records,
                "session_timeout_ms": session_timeout_ms,
                "heartbeat_interval_ms": max(100, min(3000, session_timeout_ms // 3)),
                "max_poll_interval_ms": max(300_000, session_timeout_ms),
                "request_timeout_ms": max(30_000, config.get("request_timeout_ms", 0)),
                "allow_auto_create_topics": False,
                "bootstrap_timeout_ms": bootstrap_timeout_ms,
            }
        )
        self._consumer.subscribe(topics=list(topics), listener=self._listener)
        self._paused: set[Partition] = set()

    def poll(self, timeout_ms: int, max_records: int) -> list[Message]:
        from kafka.errors import KafkaError

        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except KafkaError as exc:
            raise BrokerUnavailable(f"poll failed: {type(exc).__name__}: {exc}") from exc
        if not batches:
            return []
        assigned = self._consumer.assignment()
        out: list[Message] = []
        for tp, records in batches.items():
            if tp in assigned:
                out.extend(_as_messages(records))
        return out

    def commit(self, offsets: dict[Partition, int]) -> None:
        """Commits `offsets` (next offset to read, per partition) synchronously.

        Raises CommitLost when the group moved on (nothing to retry: a re-delivery will follow) and
        BrokerUnavailable for anything else.
        """
        if not offsets:
            return
        from kafka import OffsetAndMetadata, TopicPartition
        from kafka import errors as kerrors

        payload = {TopicPartition(p.topic, p.partition): OffsetAndMetadata(o, "", -1) for p, o in offsets.items()}
        lost = (
            kerrors.CommitFailedError,
            kerrors.IllegalGenerationError,
            kerrors.UnknownMemberIdError,
            kerrors.RebalanceInProgressError,
            kerrors.FencedInstanceIdError,
        )
        try:
            self._consumer.commit(offsets=payload, timeout_ms=10_000)
        except lost as exc:
            raise CommitLost(f"{type(exc).__name__}: {exc}") from exc
        except kerrors.KafkaError as exc:
            raise BrokerUnavailable(f"offset commit failed: {type(exc).__name__}: {exc}") from exc

    def assignment(self) -> set[Partition]:
        return {Partition(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def take_revoked(self) -> set[Partition]:
        return self._listener.take()

    def pause(self, partitions: Iterable[Partition]) -> None:
        from kafka import TopicPartition

        todo = [TopicPartition(p.topic, p.partition) for p in partitions]
        if todo:
            self._consumer.pause(*todo)
            self._paused.update(Partition(tp.topic, tp.partition) for tp in todo)

    def resume_all(self) -> None:
        from kafka import TopicPartition

        if self._paused:
            assigned = self.assignment()
            todo = [TopicPartition(p.topic, p.partition) for p in self._paused if p in assigned]
            if todo:
                self._consumer.resume(*todo)
            self._paused.clear()

    def seek(self, partition: Partition, offset: int) -> None:
        from kafka import TopicPartition

        self._consumer.seek(TopicPartition(partition.topic, partition.partition), offset)

    def highwater(self, partition: Partition) -> int | None:
        from kafka import TopicPartition

        try:
            value = self._consumer.highwater(TopicPartition(partition.topic, partition.partition))
        except Exception:  # not assigned any more
            return None
        return int(value) if value is not None else None

    def close(self) -> None:
        try:
            self._consumer.close(autocommit=False, timeout_ms=5000)
        except Exception as exc:  # best effort at shutdown
            log.warning("closing the Kafka consumer failed: %s", exc)
