"""Creates the forwarder's topics (every event topic and the dead-letter topic) when they are missing.

The forwarder never relies on broker auto-creation. Topics get `settings.topic_partitions` partitions
and the broker's default replication factor (`default.replication.factor`: 1 on a single-node
cluster, whatever the operator chose elsewhere); brokers older than 2.4, which cannot apply their
default, get 1. A topic that already exists is fine, whatever its layout.
"""

from __future__ import annotations

import logging
from typing import Any

from omniclaude import topics
from omniclaude.config import Settings
from omniclaude.forwarder.errors import DeliveryError
from omniclaude.forwarder.producer import REQUEST_TIMEOUT_MS, create_admin

log = logging.getLogger("omniclaude.forwarder")

_NO_ERROR = 0
_TOPIC_ALREADY_EXISTS = 36


def wanted_topics(prefix: str) -> list[str]:
    """Returns every topic the forwarder writes to: the event topics and the dead-letter topic."""
    return [*topics.event_topics(prefix), topics.dead_letter_topic(prefix)]


def _create(admin: Any, missing: list[str], partitions: int) -> list[dict[str, Any]]:
    from kafka.errors import IncompatibleBrokerVersion

    def request(replication: int) -> list[dict[str, Any]]:
        spec = {name: {"num_partitions": partitions, "replication_factor": replication} for name in missing}
        result = admin.create_topics(spec, timeout_ms=REQUEST_TIMEOUT_MS, raise_errors=False)
        created: list[dict[str, Any]] = result["topics"]
        return created

    try:
        return request(-1)
    except IncompatibleBrokerVersion:
        return request(1)


def ensure_topics(settings: Settings) -> list[str]:
    """Creates the missing topics; returns the names it created. Raises DeliveryError when it cannot."""
    from kafka.errors import KafkaError

    wanted = wanted_topics(settings.topic_prefix)
    try:
        admin = create_admin(settings)
    except KafkaError as exc:
        raise DeliveryError(f"cannot reach Kafka to create topics: {exc}") from exc
    try:
        existing = set(admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        results = _create(admin, missing, settings.topic_partitions)
    except KafkaError as exc:
        raise DeliveryError(f"cannot create topics: {exc}") from exc
    finally:
        try:
            admin.close()
        except Exception:
            log.debug("closing the admin client failed", exc_info=True)
    created = []
    for entry in results:
        code = entry.get("error_code", _NO_ERROR)
        if code == _NO_ERROR:
            created.append(entry["name"])
        elif code != _TOPIC_ALREADY_EXISTS:
            message = entry.get("error_message") or f"error code {code}"
            raise DeliveryError(f"cannot create topic {entry['name']}: {message}")
    if created:
        log.info("created topics %s", ", ".join(created))
    return created
