import os
from pathlib import Path

import pytest
from omniclaude_consumer.settings import SETTINGS, ConsumerSettings, SettingsError, load_settings

URL = "postgresql://writer:s3cr3t-pw@db.internal:5432/omniclaude?sslmode=verify-full&sslrootcert=/ca.pem"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {
        "HOME": str(tmp_path),
        "OMNICLAUDE_HOME": str(tmp_path / "oc"),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "k1:9092, k2:9092",
        "OMNICLAUDE_DATABASE_URL": URL,
    }
    base.update(extra)
    return base


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(_env(tmp_path))
    assert settings.consumer_group == "omniclaude-consumer"
    assert settings.topic_prefix == "omniclaude"
    assert settings.consumer_health_host == "127.0.0.1"
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert settings.consumer_dlq_window == 1000
    assert settings.kafka_config()["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert settings.database_url == URL  # passed to libpq unchanged: sslmode and friends go through


def test_every_setting_is_a_field_with_a_doc() -> None:
    names = {f for f in ConsumerSettings.__dataclass_fields__}
    assert names == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        assert setting.doc and setting.env == "OMNICLAUDE_" + setting.name.upper()


def test_environment_wins_over_the_files(tmp_path: Path) -> None:
    env = _env(tmp_path, OMNICLAUDE_CONSUMER_GROUP="from-env")
    config_dir = tmp_path / "oc" / "config"
    os.makedirs(config_dir)
    (config_dir / "config.env").write_text(
        "OMNICLAUDE_CONSUMER_GROUP=from-file\nOMNICLAUDE_TOPIC_PREFIX=filed\nOMNICLAUDE_KAFKA_SASL_PASSWORD=config\n"
    )
    (config_dir / "secrets.env").write_text("OMNICLAUDE_KAFKA_SASL_PASSWORD=from-secrets\n")
    settings = load_settings(env)
    assert settings.consumer_group == "from-env"
    assert settings.topic_prefix == "filed"
    assert settings.kafka_sasl_password == "from-secrets"


def test_required_settings(tmp_path: Path) -> None:
    env = _env(tmp_path)
    del env["OMNICLAUDE_DATABASE_URL"]
    with pytest.raises(SettingsError, match="OMNICLAUDE_DATABASE_URL is required"):
        load_settings(env)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OMNICLAUDE_CONSUMER_MAX_POLL_RECORDS", "lots", "must be an integer"),
        ("OMNICLAUDE_CONSUMER_MAX_POLL_RECORDS", "0", "between"),
        ("OMNICLAUDE_CONSUMER_DLQ_MAX_SHARE", "1.5", "at most 1"),
        ("OMNICLAUDE_CONSUMER_HEALTH_PORT", "70000", "between"),
        ("OMNICLAUDE_KAFKA_SECURITY_PROTOCOL", "TLS", "must be one of"),
        ("OMNICLAUDE_DATABASE_SSLMODE", "sometimes", "must be one of"),
        ("OMNICLAUDE_TOPIC_PREFIX", "bad prefix!", "letters"),
        ("OMNICLAUDE_DATABASE_URL", "mysql://u:topsecret@h/db", "postgresql://"),
        ("OMNICLAUDE_CONSUMER_RETRY_BACKOFF_MAX_MS", "10", "must not be less than"),
    ],
)
def test_invalid_values_name_the_variable_never_the_value(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env(tmp_path, **{name: value}))
    text = str(caught.value)
    assert message in text
    assert "topsecret" not in text and "sometimes" not in text


def test_sasl_needs_a_mechanism(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="OMNICLAUDE_KAFKA_SASL_MECHANISM"):
        load_settings(_env(tmp_path, OMNICLAUDE_KAFKA_SECURITY_PROTOCOL="SASL_SSL"))
    settings = load_settings(
        _env(
            tmp_path,
            OMNICLAUDE_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
            OMNICLAUDE_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
            OMNICLAUDE_KAFKA_SASL_USERNAME="u",
            OMNICLAUDE_KAFKA_SASL_PASSWORD="kafka-pw",
            OMNICLAUDE_KAFKA_SSL_CAFILE="/ca",
        )
    )
    config = settings.kafka_config()
    assert config["sasl_mechanism"] == "SCRAM-SHA-512" and config["sasl_plain_password"] == "kafka-pw"
    assert config["ssl_cafile"] == "/ca" and config["security_protocol"] == "SASL_SSL"


def test_secrets_are_masked_in_repr_and_describe(tmp_path: Path) -> None:
    settings = load_settings(
        _env(
            tmp_path,
            OMNICLAUDE_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
            OMNICLAUDE_KAFKA_SASL_MECHANISM="PLAIN",
            OMNICLAUDE_KAFKA_SASL_PASSWORD="kafka-pw",
        )
    )
    for text in (repr(settings), str(settings.describe())):
        assert "s3cr3t-pw" not in text and "kafka-pw" not in text
        assert "writer:***@db.internal:5432" in text
        assert "sslmode=verify-full" in text


def test_static_membership_id_defaults_to_group_and_host_and_can_be_turned_off(tmp_path: Path) -> None:
    import re
    import socket

    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())
    assert load_settings(_env(tmp_path)).group_instance_id == f"omniclaude-consumer-{host}"
    assert load_settings(_env(tmp_path, OMNICLAUDE_CONSUMER_INSTANCE_ID="east-1")).group_instance_id == "east-1"
    assert load_settings(_env(tmp_path, OMNICLAUDE_CONSUMER_INSTANCE_ID="dynamic")).group_instance_id is None
    with pytest.raises(SettingsError, match="OMNICLAUDE_CONSUMER_INSTANCE_ID"):
        load_settings(_env(tmp_path, OMNICLAUDE_CONSUMER_INSTANCE_ID="a b"))
