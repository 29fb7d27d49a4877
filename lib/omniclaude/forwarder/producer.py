"""Kafka client settings from `omniclaude.config.Settings`, in one place, and the client factories.

`client_config` maps the settings to kafka-python keyword arguments shared by the producer and the
admin client; `producer_config` and `admin_config` add their own. They are pure (no broker needed) and
the result holds the SASL password: never log it.

Choices, each bounded so that nothing waits on kafka-python's 60 s defaults:

- `api_version` is given, so constructing a producer never blocks on a down broker (kafka-python 3
  otherwise bootstraps in the constructor for up to 30 s). It is a ceiling, not a pin: on every
  connection kafka-python asks the broker for its versions and uses the lower of the two, so older
  brokers work too. (4, 0) is verified against the Kafka 4.1 test broker.
- acks=all and the idempotent producer; one request in flight per connection, so a retried request
  can never overtake a later one: a session's events stay in spool order.
- gzip: the standard library has it (lz4, zstd and snappy need extra packages), and event JSON
  shrinks about 5-10x on the wire; its cost is measured in bench/forward.py.
- `max_block_ms` bounds `send()` waiting for metadata; `request_timeout_ms` a request;
  `delivery_timeout_ms` a record from `send()` to its acknowledgement, retries included, so every
  future resolves (success or error) within it and `flush()` returns.
"""

from __future__ import annotations

from typing import Any

from omniclaude.config import Settings, env_name
from omniclaude.forwarder.errors import ForwarderConfigError

API_VERSION = (4, 0)
COMPRESSION = "gzip"
LINGER_MS = 10
BATCH_SIZE = 256 * 1024
MAX_BLOCK_MS = 5_000
REQUEST_TIMEOUT_MS = 10_000
DELIVERY_TIMEOUT_MS = 20_000
BOOTSTRAP_TIMEOUT_MS = 5_000
RETRY_BACKOFF_MS = 200
RECONNECT_BACKOFF_MAX_MS = 2_000
METADATA_MAX_AGE_MS = 60_000
MAX_REQUEST_SIZE = 1024 * 1024
# How long `flush()` may take: every record resolves within the delivery timeout, plus slack.
FLUSH_TIMEOUT_S = DELIVERY_TIMEOUT_MS / 1000 + 5.0

_SSL_PROTOCOLS = ("SSL", "SASL_SSL")
_SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")


def bootstrap_servers(settings: Settings) -> list[str]:
    """Returns the configured `host:port` list; raises ForwarderConfigError when there is none."""
    servers = [part.strip() for part in (settings.kafka_bootstrap_servers or "").split(",") if part.strip()]
    if not servers:
        raise ForwarderConfigError(f"Kafka is not configured: set {env_name('kafka_bootstrap_servers')}")
    return servers


def client_config(settings: Settings) -> dict[str, Any]:
    """Returns the kafka-python arguments every client shares: servers, identity, security, timeouts.

    SSL options are passed with SSL and SASL_SSL only; SASL ones with SASL_PLAINTEXT and SASL_SSL
    (the mechanism defaults to PLAIN; kafka-python takes the SCRAM user and password through the
    same `sasl_plain_*` arguments). Raises ForwarderConfigError naming a missing setting.
    """
    protocol = settings.kafka_security_protocol or "PLAINTEXT"
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": settings.kafka_client_id,
        "security_protocol": protocol,
        "api_version": API_VERSION,
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        "retry_backoff_ms": RETRY_BACKOFF_MS,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        "metadata_max_age_ms": METADATA_MAX_AGE_MS,
    }
    if protocol in _SSL_PROTOCOLS:
        config["ssl_check_hostname"] = True
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            value = getattr(settings, f"kafka_{name}")
            if value:
                config[name] = value
    if protocol in _SASL_PROTOCOLS:
        for name in ("kafka_sasl_username", "kafka_sasl_password"):
            if not getattr(settings, name):
                raise ForwarderConfigError(f"{env_name(name)} is needed with {protocol}")
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism or "PLAIN"
        config["sasl_plain_username"] = settings.kafka_sasl_username
        config["sasl_plain_password"] = settings.kafka_sasl_password
    return config


def producer_config(settings: Settings) -> dict[str, Any]:
    """Returns the producer's arguments: `client_config` plus delivery guarantees and batching."""
    config = client_config(settings)
    config.update(
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=1,
        retries=5,
        compression_type=COMPRESSION,
        linger_ms=LINGER_MS,
        batch_size=BATCH_SIZE,
        max_request_size=MAX_REQUEST_SIZE,
        max_block_ms=MAX_BLOCK_MS,
        delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
        allow_auto_create_topics=False,
    )
    return config


def admin_config(settings: Settings) -> dict[str, Any]:
    """Returns the admin client's arguments: `client_config` with a bounded bootstrap."""
    config = client_config(settings)
    config["bootstrap_timeout_ms"] = BOOTSTRAP_TIMEOUT_MS
    return config


def create_producer(settings: Settings) -> Any:
    """Returns a new `kafka.KafkaProducer`; does not block on the broker (see `API_VERSION`)."""
    from kafka import KafkaProducer

    from omniclaude.forwarder.partitioner import CachingPartitioner

    return KafkaProducer(partitioner=CachingPartitioner(), **producer_config(settings))


def create_admin(settings: Settings) -> Any:
    """Returns a new `kafka.KafkaAdminClient`; blocks at most `BOOTSTRAP_TIMEOUT_MS` (raises KafkaError)."""
    from kafka import KafkaAdminClient

    return KafkaAdminClient(**admin_config(settings))
