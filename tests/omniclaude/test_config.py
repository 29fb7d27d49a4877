import os
import re
from pathlib import Path

import pytest
from omniclaude.config import (
    FIELDS,
    Settings,
    SettingsError,
    config_paths,
    load_settings,
    parse_env_file,
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path), "OMNICLAUDE_HOME": str(tmp_path / "oc"), **extra}


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(_env(tmp_path))
    assert settings.kafka_bootstrap_servers is None and not settings.kafka_configured
    assert settings.capture_mode == "redacted"
    assert settings.topic_prefix == "omniclaude"
    assert settings.spool_max_bytes == 512 * 1024 * 1024
    assert settings.event_max_bytes == 256 * 1024
    assert settings.forwarder_idle_seconds == 30.0
    assert settings.dirs.spool == str(tmp_path / "oc" / "state" / "spool")


def test_environment_beats_secrets_beats_config_file(tmp_path: Path) -> None:
    env = _env(tmp_path)
    config, secrets = config_paths(env)
    os.makedirs(os.path.dirname(config))
    Path(config).write_text(
        "# comment\nOMNICLAUDE_TOPIC_PREFIX=fromfile\nexport OMNICLAUDE_CAPTURE_MODE='hash'\n"
        "OMNICLAUDE_KAFKA_SASL_PASSWORD=fromconfig\nnot a line\n"
    )
    Path(secrets).write_text('OMNICLAUDE_KAFKA_SASL_PASSWORD="s3cret"\n')
    settings = load_settings({**env, "OMNICLAUDE_TOPIC_PREFIX": "fromenv"})
    assert settings.topic_prefix == "fromenv"
    assert settings.capture_mode == "hash"
    assert settings.kafka_sasl_password == "s3cret"


def test_numbers_are_parsed(tmp_path: Path) -> None:
    settings = load_settings(_env(tmp_path, OMNICLAUDE_TOPIC_PARTITIONS="6", OMNICLAUDE_FORWARDER_IDLE_SECONDS="0.5"))
    assert settings.topic_partitions == 6
    assert settings.forwarder_idle_seconds == 0.5


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("OMNICLAUDE_TOPIC_PARTITIONS", "many"),
        ("OMNICLAUDE_TOPIC_PARTITIONS", "0"),
        ("OMNICLAUDE_CAPTURE_MODE", "everything"),
        ("OMNICLAUDE_KAFKA_SECURITY_PROTOCOL", "TLS"),
        ("OMNICLAUDE_KAFKA_SASL_MECHANISM", "GSSAPI"),
        ("OMNICLAUDE_FORWARDER_IDLE_SECONDS", "-1"),
    ],
)
def test_invalid_values_name_the_key_not_the_value(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env(tmp_path, **{key: value}))
    assert key in str(error.value)
    assert value not in str(error.value).replace(key, "")


def test_repr_hides_secrets(tmp_path: Path) -> None:
    settings = load_settings(
        _env(tmp_path, OMNICLAUDE_KAFKA_SASL_PASSWORD="hunter2", OMNICLAUDE_DATABASE_URL="postgresql://u:pw@h/db")
    )
    assert "hunter2" not in repr(settings) and "pw@" not in repr(settings)


def test_every_field_is_documented() -> None:
    assert all(field.doc for field in FIELDS)
    assert set(Settings.__annotations__) == {field.name for field in FIELDS}


def test_extra_redact_patterns(tmp_path: Path) -> None:
    settings = load_settings(_env(tmp_path, OMNICLAUDE_REDACT_PATTERNS="abc\\d+\n\n  xyz  "))
    assert settings.extra_redact_patterns == ("abc\\d+", "xyz")


def test_parse_env_file_never_raises() -> None:
    assert parse_env_file("=\n\x00\nA=1=2\n B = ' x ' \n") == {"": "", "A": "1=2", "B": " x "}


def test_only_config_reads_the_environment() -> None:
    lib = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("lib", "consumer", "hooks", "skills"):
        for path in (lib / folder).rglob("*.py"):
            text = path.read_text()
            if re.search(r"(?<!`)\bos\.(environ|getenv)\b", text):
                offenders.append(str(path.relative_to(lib)))
    # the installer hands the environment to pip, claude and doctor, and fills settings from it
    assert set(offenders) <= {
        "consumer/omniclaude_consumer/settings.py",
        "lib/omniclaude/config.py",
        "lib/omniclaude/installer.py",
    }


def test_the_readme_documents_every_setting() -> None:
    from omniclaude_consumer.settings import SETTINGS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    names = [f"`{field.env}`" for field in FIELDS] + [f"`{setting.env}`" for setting in SETTINGS]
    assert [name for name in names if name not in readme] == []


def _table(rows: list[tuple[str, object, str]]) -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for env, default, doc in rows:
        lines.append(f"| `{env}` | {'' if default is None else default} | {doc} |")
    return "\n".join(lines) + "\n"


def test_the_readme_tables_are_the_declarations() -> None:
    from omniclaude_consumer.settings import SETTINGS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    client = _table([(field.env, field.default, field.doc) for field in FIELDS])
    consumer = _table([(s.env, s.default, s.doc[0].upper() + s.doc[1:] + ".") for s in SETTINGS])
    assert "Client side (hook, skills, forwarder, CLI):\n\n" + client in readme, client
    assert "Consumer (`omniclaude-consumer`):\n\n" + consumer in readme, consumer
