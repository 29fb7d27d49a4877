"""Step 5 (always last): offset bookkeeping. Which offset may be committed, per partition.

Commit rule: a message is *durable* once its row is committed in PostgreSQL, or it is acknowledged by
the broker in the dead-letter topic, or it needed neither (a duplicate). The consumer marks a whole batch
durable at once, after its database commit and its dead-letter acknowledgement, so "every offset up to
the highest one seen in the batch" is durable per partition, and the offset to commit is that highest
offset + 1 (Kafka's committed offset names the next message to read). Nothing here blocks; the Kafka
commit itself is done by the loop with the offsets this tracker hands out.

A crash between the database commit and the offset commit costs a re-delivery, which the event ids
absorb. On revocation the tracker forgets the partitions (their new owner resumes from the committed
offset).
"""

from __future__ import annotations

from collections.abc import Iterable

from omniclaude_consumer.message import Message, Partition


class OffsetTracker:
    """The highest durable offset and the last committed offset of every partition. One thread only."""

    def __init__(self) -> None:
        # keyed by (topic, partition): plain tuples are cheaper to make, and equal to Partitions
        self._durable: dict[tuple[str, int], int] = {}
        self._committed: dict[tuple[str, int], int] = {}

    def mark_durable(self, messages: Iterable[Message]) -> None:
        """Records that these messages (and so every earlier offset of their partitions) are handled."""
        durable = self._durable
        for message in messages:
            key = (message.topic, message.partition)
            if message.offset > durable.get(key, -1):
                durable[key] = message.offset

    def to_commit(self) -> dict[Partition, int]:
        """The offsets to commit now (highest durable + 1) for partitions with new durable messages."""
        return {
            Partition(*source): offset + 1
            for source, offset in self._durable.items()
            if offset + 1 > self._committed.get(source, -1)
        }

    def committed(self, offsets: dict[Partition, int]) -> None:
        """Records that Kafka acknowledged the commit of `offsets`."""
        for source, offset in offsets.items():
            if offset > self._committed.get(source, -1):
                self._committed[source] = offset

    def committed_offset(self, source: Partition) -> int | None:
        """The last offset committed for a partition by this consumer, or None."""
        return self._committed.get(source)

    def forget(self, sources: Iterable[Partition]) -> None:
        """Drops the partitions (revoked or lost): their offsets are no longer ours to commit."""
        for source in sources:
            key = (source[0], source[1])
            self._durable.pop(key, None)
            self._committed.pop(key, None)
