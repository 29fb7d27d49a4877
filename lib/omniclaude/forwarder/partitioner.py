"""kafka-python's default partitioner with the key hash remembered (imports kafka: load it lazily).

The default partitioner computes murmur2 of the key in pure Python for every record; the forwarder's
keys are session and execution ids, a handful per batch, so the hash is kept per key. The partition
chosen is exactly the default one (murmur2 of the key, as the Java client, modulo the partition count;
a random available partition for a record without a key).
"""

from __future__ import annotations

from typing import Any

from kafka.partitioner.default import DefaultPartitioner, murmur2

MAX_KEYS = 65536


class CachingPartitioner(DefaultPartitioner):  # type: ignore[misc]  # kafka-python has no type hints
    """`DefaultPartitioner` with a bounded cache of key hashes."""

    def __init__(self) -> None:
        super().__init__()
        self._hashes: dict[bytes, int] = {}

    def partition(  # noqa: PLR0917 - kafka-python calls it with six positional arguments
        self,
        topic: str,
        key: object,
        serialized_key: bytes | None,
        value: object,
        serialized_value: object,
        cluster: Any,
    ) -> int:
        """Returns the partition of a record, as `DefaultPartitioner` would."""
        if serialized_key is None:
            result: int = super().partition(topic, key, serialized_key, value, serialized_value, cluster)
            return result
        if topic not in cluster.topics():
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        hashed = self._hashes.get(serialized_key)
        if hashed is None:
            if len(self._hashes) >= MAX_KEYS:
                self._hashes.clear()
            hashed = self._hashes[serialized_key] = murmur2(serialized_key) & 0x7FFFFFFF
        partitions = sorted(cluster.partitions_for_topic(topic))
        return int(partitions[hashed % len(partitions)])
