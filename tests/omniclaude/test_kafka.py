"""The one Kafka client configuration: settings -> kafka-python arguments (no broker needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from omniclaude import kafka
from omniclaude.config import Settings
from omniclaude.kafka import (
    API_VERSION,
    DELIVERY_TIMEOUT_MS,
    LINGER_MS,
    REQUEST_TIMEOUT_MS,
    KafkaConfigError,
)

from tests.omniclaude.forwarder.helpers import make_settings


def client_config(settings: Settings) -> dict[str, Any]:
    return kafka.client_config(settings, settings.kafka_client_id)


def producer_config(settings: Settings) -> dict[str, Any]:
    return kafka.producer_config(settings, settings.kafka_client_id)


def admin_config(settings: Settings) -> dict[str, Any]:
    return kafka.admin_config(settings, settings.kafka_client_id)


def test_plaintext(tmp_path: Path) -> None:
    config = client_config(make_settings(tmp_path, " k1:9092, k2:9092 ,", kafka_client_id="me"))
    assert config["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert config["client_id"] == "me"
    assert config["security_protocol"] == "PLAINTEXT"
    assert config["api_version"] == API_VERSION
    assert not any(key.startswith(("ssl_", "sasl_")) for key in config)


def test_not_configured(tmp_path: Path) -> None:
    with pytest.raises(KafkaConfigError, match="OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS"):
        client_config(make_settings(tmp_path, None))


@pytest.mark.parametrize("mechanism", [None, "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl(tmp_path: Path, mechanism: str | None) -> None:
    settings = make_settings(
        tmp_path,
        "k:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="svc",
        kafka_sasl_password="s3cret",
        kafka_ssl_cafile="/etc/ca.pem",
    )
    config = client_config(settings)
    assert config["security_protocol"] == "SASL_SSL"
    assert config["sasl_mechanism"] == (mechanism or "PLAIN")
    assert (config["sasl_plain_username"], config["sasl_plain_password"]) == ("svc", "s3cret")
    assert config["ssl_cafile"] == "/etc/ca.pem"
    assert "ssl_certfile" not in config
    assert config["ssl_check_hostname"] is True


def test_sasl_plaintext_has_no_ssl_options(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        "k:9093",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="svc",
        kafka_sasl_password="pw",
        kafka_ssl_cafile="/etc/ca.pem",
    )
    config = client_config(settings)
    assert config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert not any(key.startswith("ssl_") for key in config)


def test_ssl_with_client_certificate(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        "k:9093",
        kafka_security_protocol="SSL",
        kafka_ssl_cafile="/ca",
        kafka_ssl_certfile="/cert",
        kafka_ssl_keyfile="/key",
    )
    config = client_config(settings)
    assert (config["ssl_cafile"], config["ssl_certfile"], config["ssl_keyfile"]) == ("/ca", "/cert", "/key")
    assert not any(key.startswith("sasl_") for key in config)


@pytest.mark.parametrize("missing", ["kafka_sasl_username", "kafka_sasl_password"])
def test_sasl_needs_user_and_password(tmp_path: Path, missing: str) -> None:
    values: dict[str, str | None] = {"kafka_sasl_username": "u", "kafka_sasl_password": "pw-4f9a"}
    values[missing] = None
    settings = make_settings(tmp_path, "k:1", kafka_security_protocol="SASL_PLAINTEXT", **values)
    with pytest.raises(KafkaConfigError, match=missing.upper()) as caught:
        client_config(settings)
    assert "pw-4f9a" not in str(caught.value)


def test_producer_guarantees_and_bounded_waits(tmp_path: Path) -> None:
    config = producer_config(make_settings(tmp_path, "k:1"))
    assert config["acks"] == "all"
    assert config["enable_idempotence"] is True
    assert config["max_in_flight_requests_per_connection"] == 1
    assert config["allow_auto_create_topics"] is False
    assert config["compression_type"] == "gzip"
    assert config["linger_ms"] == LINGER_MS
    assert config["max_block_ms"] <= 10_000
    assert config["request_timeout_ms"] == REQUEST_TIMEOUT_MS
    assert config["delivery_timeout_ms"] == DELIVERY_TIMEOUT_MS >= REQUEST_TIMEOUT_MS + LINGER_MS


def test_kafka_python_accepts_the_arguments(tmp_path: Path) -> None:
    from kafka import KafkaProducer

    settings = make_settings(tmp_path, "127.0.0.1:1")
    producer = KafkaProducer(**producer_config(settings))  # api_version given: no connection attempt here
    producer.close(timeout=1)
    from kafka import KafkaAdminClient

    assert set(admin_config(settings)) <= set(KafkaAdminClient.DEFAULT_CONFIG)
