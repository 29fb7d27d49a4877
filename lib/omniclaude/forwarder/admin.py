"""Creates the forwarder's topics (every event topic and the dead-letter topic) when they are missing.

The forwarder never relies on broker auto-creation. The work is `omniclaude.kafka.ensure_topics`'s;
here a broker that cannot be used, or a topic that cannot be created, becomes a `DeliveryError` (the
batch stays in the spool and is retried), whose message is the one line that says why.
"""

from __future__ import annotations

from omniclaude import kafka, topics
from omniclaude.config import Settings
from omniclaude.forwarder.errors import DeliveryError


def wanted_topics(prefix: str) -> list[str]:
    """Returns every topic the forwarder writes to: the event topics and the dead-letter topic."""
    return [*topics.event_topics(prefix), topics.dead_letter_topic(prefix)]


def ensure_topics(settings: Settings) -> list[str]:
    """Creates the missing topics; returns the names it created. Raises DeliveryError when it cannot."""
    try:
        report = kafka.ensure_topics(
            settings, wanted_topics(settings.topic_prefix), settings.topic_partitions, settings.kafka_client_id
        )
    except kafka.KafkaUnavailable as exc:
        raise DeliveryError(f"cannot use Kafka: {exc}") from None
    if report.failed:
        name, message = next(iter(report.failed.items()))
        raise DeliveryError(f"cannot create topic {name}: {message}")
    return report.created
