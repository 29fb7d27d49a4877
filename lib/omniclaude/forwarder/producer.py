"""The forwarder's Kafka producer: `omniclaude.kafka`'s producer configuration plus the partitioner.

Everything about connecting (servers, security, timeouts, delivery guarantees) is `omniclaude.kafka`'s;
this module only adds what is the forwarder's own: its client id (`kafka_client_id`), the caching
partitioner and how long a `flush()` may take.
"""

from __future__ import annotations

from typing import Any

from omniclaude import kafka
from omniclaude.config import Settings

# How long `flush()` may take: every record resolves within the delivery timeout, plus slack.
FLUSH_TIMEOUT_S = kafka.DELIVERY_TIMEOUT_MS / 1000 + 5.0


def producer_config(settings: Settings) -> dict[str, Any]:
    """Returns the forwarder producer's arguments (raises KafkaConfigError for unusable settings)."""
    return kafka.producer_config(settings, settings.kafka_client_id)


def create_producer(settings: Settings) -> Any:
    """Returns a new `kafka.KafkaProducer`; does not block on the broker (see `kafka.API_VERSION`)."""
    from kafka import KafkaProducer

    from omniclaude.forwarder.partitioner import CachingPartitioner

    return KafkaProducer(partitioner=CachingPartitioner(), **producer_config(settings))
