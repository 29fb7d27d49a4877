"""The consumer's settings: the one place the consumer reads its configuration.

Sources, highest first (the same files and rules as the client side, `omniclaude.config`):
`OMNICLAUDE_*` environment variables, then `<config dir>/secrets.env`, then `<config dir>/config.env`.
Every setting is one row of `ConsumerSettings`: its name (the variable is `OMNICLAUDE_` + NAME), type,
default, doc string and validator (like kafka-connect-jdbc's `JdbcSinkConfig`); `SETTINGS` and the
README's consumer table are derived from those rows. The Kafka connection settings have the
same names as the client's. `load_settings(environ)` takes a mapping (tests pass their own) and raises
`SettingsError` naming the variable, never its value. Secrets (the SASL password, the database URL's
password) never appear in `repr()`, `describe()` or logs: see `mask_url`.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from omniclaude.config import FIELDS, PREFIX, SettingsError, config_paths, parse_env_file
from omniclaude.kafka import client_config
from omniclaude.masking import mask_url, url_passwords

__all__ = ["SETTINGS", "ConsumerSettings", "Setting", "SettingsError", "load_settings"]

Validator = Callable[[Any], "str | None"]

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
OFFSET_RESETS = ("earliest", "latest")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_TOPIC_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")
_INSTANCE_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")
DYNAMIC_MEMBERSHIP = "dynamic"


@dataclass(frozen=True)
class Setting:
    """One setting: name, type, default, documentation, validator, and whether it is a secret."""

    name: str
    kind: type
    default: Any
    doc: str
    validator: Validator | None = None
    secret: bool = False
    required: bool = False

    @property
    def env(self) -> str:
        """The environment variable (and config-file key) that sets it."""
        return PREFIX + self.name.upper()

    def parse(self, raw: str) -> Any:
        """Converts the text of a variable; raises SettingsError naming the variable, not the value."""
        if self.kind is int:
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{self.env} must be an integer") from None
        if self.kind is float:
            try:
                return float(raw)
            except ValueError:
                raise SettingsError(f"{self.env} must be a number") from None
        return raw

    def validate(self, value: Any) -> None:
        """Raises SettingsError when the value is missing but required, or fails the validator."""
        if value is None:
            if self.required:
                raise SettingsError(f"{self.env} is required ({self.doc})")
            return
        if self.validator is not None:
            problem = self.validator(value)
            if problem:
                raise SettingsError(f"{self.env} {problem}")


def one_of(*choices: str) -> Validator:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


def between(low: float, high: float) -> Validator:
    return lambda value: None if low <= value <= high else f"must be between {low:g} and {high:g}"


def _share(value: float) -> str | None:
    return None if 0 < value <= 1 else "must be greater than 0 and at most 1"


def _topic_prefix(value: str) -> str | None:
    return None if _TOPIC_CHARS.match(value) and len(value) <= 200 else "must be letters, digits, '.', '_' or '-'"


def _not_blank(value: str) -> str | None:
    return None if value.strip() else "must not be blank"


def _instance_id(value: str) -> str | None:
    return None if _INSTANCE_CHARS.match(value) and len(value) <= 249 else "must be 1-249 of A-Z a-z 0-9 . _ -"


def _database_url(value: str) -> str | None:
    if value.startswith(("postgresql://", "postgres://")) or "=" in value:
        return None
    return "must be a postgresql:// URL or a libpq key=value string"


def setting(
    default: Any, doc: str, validator: Validator | None = None, *, secret: bool = False, required: bool = False
) -> Any:
    """One row of the declaration below: a dataclass field whose metadata is its `Setting`."""
    return field(default=default, metadata={"setting": (doc, validator, secret, required)})


_CLIENT_ROWS = {row.name: row for row in FIELDS}


def shared(name: str, validator: Validator | None = None, *, required: bool = False, doc: str = "") -> Any:
    """A row the consumer shares with the client (the Kafka connection): its default, doc and secrecy come
    from the client's declaration in `omniclaude.config`, its fixed choices become the validator; `doc`
    replaces the client's where the meaning differs on the consumer side."""
    row = _CLIENT_ROWS[name]
    if validator is None and row.choices:
        validator = one_of(*row.choices)
    return setting(row.default, doc or row.doc.rstrip("."), validator, secret=row.secret, required=required)


@dataclass(frozen=True)
class ConsumerSettings:
    """Every setting of the consumer deployable, declared once: each row is the attribute, its type, its
    default, its doc (the README's consumer table) and its validator. Adding a setting is one row."""

    kafka_bootstrap_servers: str = shared(
        "kafka_bootstrap_servers", _not_blank, required=True, doc="Kafka bootstrap servers, host:port[,host:port...]"
    )
    kafka_security_protocol: str = shared("kafka_security_protocol")
    kafka_sasl_mechanism: str | None = shared("kafka_sasl_mechanism")
    kafka_sasl_username: str | None = shared("kafka_sasl_username")
    kafka_sasl_password: str | None = shared("kafka_sasl_password")
    kafka_ssl_cafile: str | None = shared("kafka_ssl_cafile")
    kafka_ssl_certfile: str | None = shared("kafka_ssl_certfile")
    kafka_ssl_keyfile: str | None = shared("kafka_ssl_keyfile")
    topic_prefix: str = shared("topic_prefix", _topic_prefix)
    topic_partitions: int = setting(
        3, "partitions of the topics the consumer creates when they are missing", between(1, 10_000)
    )
    consumer_group: str = setting("omniclaude-consumer", "Kafka consumer group id", _not_blank)
    consumer_client_id: str = setting("omniclaude-consumer", "Kafka client id", _not_blank)
    consumer_instance_id: str | None = setting(
        None,
        "static group membership id, stable per deployment (default: <group>-<host name>; give each "
        "consumer on one host its own; `dynamic` turns static membership off)",
        _instance_id,
    )
    database_url: str = setting(
        None,
        "PostgreSQL URL; its query string (sslmode, sslrootcert, ...) goes to libpq unchanged",
        _database_url,
        secret=True,
        required=True,
    )
    database_sslmode: str | None = setting(None, "libpq sslmode, overriding the URL's", one_of(*SSL_MODES))
    consumer_max_poll_records: int = setting(
        5000, "most messages per poll, and so per database transaction", between(1, 100_000)
    )
    consumer_poll_timeout_ms: int = setting(1000, "longest wait for messages in one poll, in ms", between(10, 60_000))
    consumer_message_max_bytes: int = setting(
        1_048_576, "larger message values are dead-lettered (too_large)", between(1, 1 << 30)
    )
    consumer_session_timeout_ms: int = setting(
        45_000,
        "Kafka group session timeout in ms: how long a dead consumer keeps its partitions",
        between(1000, 3_600_000),
    )
    consumer_auto_offset_reset: str = setting(
        "earliest", "where a new group starts: earliest or latest", one_of(*OFFSET_RESETS)
    )
    consumer_retry_backoff_ms: int = setting(200, "first backoff after a transient failure, in ms", between(1, 600_000))
    consumer_retry_backoff_max_ms: int = setting(30_000, "cap of the exponential backoff, in ms", between(1, 3_600_000))
    consumer_dlq_window: int = setting(
        1000, "number of recent messages the dead-letter limit looks at", between(1, 10_000_000)
    )
    consumer_dlq_max_share: float = setting(
        0.25, "largest dead-lettered share of the window before the consumer stops (1 = never stop)", _share
    )
    consumer_health_host: str = setting("127.0.0.1", "address of the /health, /ready and /metrics server", _not_blank)
    consumer_health_port: int = setting(8089, "port of the health server (0: any free port)", between(0, 65535))
    consumer_stall_seconds: float = setting(
        30.0, "/health fails when the poll loop made no progress for this long", between(1, 3600)
    )
    consumer_log_level: str = setting("INFO", "log level", one_of(*LOG_LEVELS))

    def __post_init__(self) -> None:
        for setting in SETTINGS:
            setting.validate(getattr(self, setting.name))
        if self.consumer_retry_backoff_max_ms < self.consumer_retry_backoff_ms:
            raise SettingsError(
                f"{_BY_NAME['consumer_retry_backoff_max_ms'].env} must not be less than "
                f"{_BY_NAME['consumer_retry_backoff_ms'].env}"
            )
        if self.kafka_security_protocol.startswith("SASL") and not self.kafka_sasl_mechanism:
            raise SettingsError(
                f"{_BY_NAME['kafka_sasl_mechanism'].env} is required with {self.kafka_security_protocol}"
            )

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.describe().items())
        return f"ConsumerSettings({shown})"

    def describe(self) -> dict[str, str | int | float | None]:
        """Every setting by name, secrets masked: fit for logs."""
        out: dict[str, str | int | float | None] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if setting.name == "database_url":
                value = mask_url(value)
            elif setting.secret and value is not None:
                value = "***"
            out[setting.name] = value
        return out

    def secrets(self) -> list[str]:
        """Every secret setting's value and every credential of the database URL, for log scrubbing."""
        values = [getattr(self, s.name) for s in SETTINGS if s.secret and s.name != "database_url"]
        return [value for value in values if isinstance(value, str)] + url_passwords(self.database_url)

    @property
    def group_instance_id(self) -> str | None:
        """The static membership id given to Kafka (None: dynamic membership).

        A restarted consumer with the same id takes its partitions back at once instead of waiting out
        the session timeout; two live consumers with one id fence each other, so each needs its own.
        """
        if self.consumer_instance_id == DYNAMIC_MEMBERSHIP:
            return None
        if self.consumer_instance_id:
            return self.consumer_instance_id
        host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()) or "host"
        return f"{self.consumer_group}-{host}"[:249]

    @property
    def database_url_masked(self) -> str:
        return mask_url(self.database_url)

    def kafka_config(self) -> dict[str, Any]:
        """kafka-python connection arguments shared by the consumer and the dead-letter producer
        (`omniclaude.kafka.client_config`; raises its KafkaConfigError)."""
        return client_config(self, self.consumer_client_id)


def _kind(annotation: object) -> type:
    """The parse type of a field from its annotation ("int", "float | None", "str", ...)."""
    text = str(annotation)
    return int if text.startswith("int") else float if text.startswith("float") else str


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, _kind(f.type), f.default, *f.metadata["setting"]) for f in fields(ConsumerSettings)
)
_BY_NAME = {s.name: s for s in SETTINGS}


def _read(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_env_file(handle.read())
    except (OSError, UnicodeDecodeError):
        return {}


def load_settings(environ: Mapping[str, str] | None = None) -> ConsumerSettings:
    """Reads the settings from `environ` (default: the process environment) and the config files.

    Raises SettingsError for a missing required or an invalid setting.
    """
    env = dict(os.environ if environ is None else environ)
    config_path, secrets_path = config_paths(env)
    merged = _read(config_path)
    merged.update(_read(secrets_path))
    merged.update({key: value for key, value in env.items() if key.startswith(PREFIX)})
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = merged.get(setting.env)
        if raw is not None and raw.strip():
            values[setting.name] = setting.parse(raw if setting.secret else raw.strip())
    for setting in SETTINGS:
        if setting.required and setting.name not in values:
            raise SettingsError(f"{setting.env} is required ({setting.doc})")
    return ConsumerSettings(**values)
