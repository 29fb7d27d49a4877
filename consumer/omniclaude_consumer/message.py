"""One Kafka record as the consumer's steps see it, independent of the Kafka client library."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Partition(NamedTuple):
    """A topic partition (same shape as kafka-python's TopicPartition, which it compares equal to)."""

    topic: str
    partition: int


Header = tuple[str, "bytes | None"]


class Message(NamedTuple):
    """A consumed record: where it came from, and its raw key, value and headers (never deserialized).

    A named tuple because one is made per record on the hot path; compare messages by identity.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[Header] = ()
    timestamp_ms: int | None = None

    @property
    def source(self) -> Partition:
        """The topic partition the record was read from."""
        return Partition(self.topic, self.partition)
