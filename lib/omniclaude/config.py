"""The settings object: the one module that reads the process environment.

`load_settings()` merges, highest first: `OMNICLAUDE_*` environment variables, then
`<config dir>/secrets.env`, then `<config dir>/config.env` (lines of `OMNICLAUDE_KEY=value`, `#` comments,
optional quotes, optional `export `). The standard library only, and cheap to import, so the hook can use
it. A value that does not parse raises `SettingsError` naming the key, never the value (it may be a
secret). `repr()` leaves secrets out.
"""

from __future__ import annotations

import os

from omniclaude.paths import Dirs, resolve_dirs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

PREFIX = "OMNICLAUDE_"
CONFIG_FILE = "config.env"
SECRETS_FILE = "secrets.env"
CAPTURE_MODES = ("full", "redacted", "hash", "off")
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class Field:
    """One client setting, declared once as a row of `Settings`: the settings object, install.sh's options,
    the template of the settings files and the README table are all derived from these rows.

    `name` is the attribute (the variable is OMNICLAUDE_ + NAME); `kind` (str, int or float) comes from its
    annotation; a `secret` lives in secrets.env and is never printed; `doc` is one sentence (the README's
    "meaning" column and the settings files' comment); `choices` are the allowed values when they are a
    fixed set; `option` is the metavar of install.sh's `--name-with-dashes` option ("" when it has none).
    """

    __slots__ = ("choices", "default", "doc", "kind", "name", "option", "secret")

    def __init__(
        self, default: object, doc: str, *, secret: bool = False, choices: tuple[str, ...] = (), option: str = ""
    ) -> None:
        self.name = ""
        self.kind: type = str
        self.default = default
        self.secret = secret
        self.doc = doc
        self.choices = choices
        self.option = option

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        annotation = str(owner.__annotations__.get(name, "str"))
        self.kind = int if annotation.startswith("int") else float if annotation.startswith("float") else str

    def __repr__(self) -> str:
        return f"Field({self.name!r})"

    @property
    def env(self) -> str:
        """The environment variable (and settings-file key) that sets it."""
        return PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        """install.sh's option for it."""
        return "--" + self.name.replace("_", "-")


def setting(default: object, doc: str, *, secret: bool = False, choices: tuple[str, ...] = (), option: str = "") -> Any:
    """One row of `Settings` (see `Field`); typed Any so that the row's annotation is the attribute's type."""
    return Field(default, doc, secret=secret, choices=choices, option=option)


class SettingsError(ValueError):
    """A setting is present but invalid; the message names the key, never the value."""


class Settings:
    """Every setting of omniclaude's client side (hook, skills, forwarder, CLI), one row each. Immutable by
    convention. Adding a setting is one row here (and one in the README table, which a test checks)."""

    home: str | None = setting(None, "One folder for all of omniclaude's files, instead of the platform's user dirs.")
    kafka_bootstrap_servers: str | None = setting(
        None, "Kafka bootstrap servers (host:port,...). Unset: events wait in the spool.", option="HOST:PORT[,...]"
    )
    kafka_security_protocol: str = setting(
        "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.", choices=SECURITY_PROTOCOLS, option="P"
    )
    kafka_sasl_mechanism: str | None = setting(
        None, "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.", choices=SASL_MECHANISMS, option="M"
    )
    kafka_sasl_username: str | None = setting(None, "SASL user name.", option="USER")
    kafka_sasl_password: str | None = setting(None, "SASL password (kept in secrets.env).", secret=True, option="PW")
    kafka_ssl_cafile: str | None = setting(None, "CA bundle for SSL.", option="FILE")
    kafka_ssl_certfile: str | None = setting(None, "Client certificate for SSL.", option="FILE")
    kafka_ssl_keyfile: str | None = setting(None, "Client private key for SSL.", option="FILE")
    kafka_client_id: str = setting("omniclaude", "Kafka client id.")
    topic_prefix: str = setting("omniclaude", "Prefix of every topic name.", option="PREFIX")
    topic_partitions: int = setting(3, "Partitions of the topics the forwarder creates.")
    capture_mode: str = setting(
        "redacted", "Prompt capture: full, redacted, hash or off.", choices=CAPTURE_MODES, option="MODE"
    )
    redact_patterns: str | None = setting(None, "Extra regular expressions to redact, one per line.")
    prompt_hash_key: str | None = setting(
        None, "HMAC key for `hash` capture mode (kept in secrets.env; made by the forwarder on first use).", secret=True
    )
    spool_max_bytes: int = setting(512 * 1024 * 1024, "Spool cap in bytes; when full, the oldest events are dropped.")
    event_max_bytes: int = setting(256 * 1024, "Largest event in bytes; longer strings are truncated to fit.")
    forwarder_idle_seconds: float = setting(30.0, "The forwarder exits after this long with nothing to send.")
    forwarder_workers: int = setting(
        1, "Processes that prepare large batches beside the forwarder (0: it prepares everything itself)."
    )
    database_url: str | None = setting(
        None, "PostgreSQL URL for `omniclaude db` and doctor (kept in secrets.env).", secret=True, option="URL"
    )
    python: str | None = setting(None, "Interpreter for the hooks and the forwarder (recorded by install.sh).")
    health_url: str | None = setting(None, "The consumer's health endpoint, checked by doctor.", option="URL")
    dashboard_token: str | None = setting(
        None, "Token `omniclaude dashboard` requires of every request; needed to listen beyond loopback.", secret=True
    )

    def __init__(self, environ: Mapping[str, str] | None = None, **values: object) -> None:
        for field in FIELDS:
            setattr(self, field.name, values.pop(field.name, field.default))
        if values:
            raise TypeError(f"unknown settings: {', '.join(sorted(values))}")
        self.environ: Mapping[str, str] = dict(environ or {})

    def __repr__(self) -> str:
        from omniclaude.masking import mask_url

        shown = ", ".join(
            f"{field.name}={mask_url(value) if field.name.endswith('_url') and value else value!r}"
            for field in FIELDS
            if not field.secret
            for value in [getattr(self, field.name)]
        )
        return f"Settings({shown})"

    @property
    def dirs(self) -> Dirs:
        """omniclaude's per-user directories."""
        return resolve_dirs(self.environ)

    @property
    def kafka_configured(self) -> bool:
        """True when events should travel to Kafka."""
        return bool(self.kafka_bootstrap_servers)

    @property
    def extra_redact_patterns(self) -> tuple[str, ...]:
        """The configured extra redaction patterns, one per non-blank line."""
        text = self.redact_patterns or ""
        return tuple(line.strip() for line in text.splitlines() if line.strip())


FIELDS: tuple[Field, ...] = tuple(row for row in vars(Settings).values() if isinstance(row, Field))
"""The rows of `Settings`, in order."""


def env_name(name: str) -> str:
    """Returns the environment variable that sets the field `name`."""
    return PREFIX + name.upper()


def parse_env_file(text: str) -> dict[str, str]:
    """Parses `KEY=value` lines; ignores blanks, comments and malformed lines; never raises."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value.replace("\\n", "\n")
    return values


def _read_file(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_env_file(handle.read())
    except (OSError, UnicodeDecodeError):
        return {}


def _convert(name: str, kind: type, raw: str) -> object:
    if kind is int or kind is float:
        try:
            return kind(raw)
        except ValueError:
            raise SettingsError(f"{env_name(name)} must be a number") from None
    return raw


def _validate(settings: Settings) -> None:
    for field in FIELDS:
        value = getattr(settings, field.name)
        if field.choices and value is not None and value not in field.choices:
            raise SettingsError(f"{field.env} must be one of {', '.join(field.choices)}")
    for name in ("topic_partitions", "spool_max_bytes", "event_max_bytes"):
        if getattr(settings, name) <= 0:
            raise SettingsError(f"{env_name(name)} must be positive")
    if settings.forwarder_idle_seconds < 0:
        raise SettingsError(f"{env_name('forwarder_idle_seconds')} must not be negative")
    if settings.forwarder_workers < 0:
        raise SettingsError(f"{env_name('forwarder_workers')} must not be negative")


def config_paths(environ: Mapping[str, str]) -> tuple[str, str]:
    """Returns the paths of the user's config file and secrets file (either may not exist)."""
    config_dir = resolve_dirs(environ).config
    return os.path.join(config_dir, CONFIG_FILE), os.path.join(config_dir, SECRETS_FILE)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Returns the settings from `environ` (default: the process environment) and the config files.

    Raises SettingsError when a value is invalid.
    """
    env = dict(os.environ if environ is None else environ)
    config_path, secrets_path = config_paths(env)
    merged = _read_file(config_path)
    merged.update(_read_file(secrets_path))
    merged.update({key: value for key, value in env.items() if key.startswith(PREFIX)})
    values: dict[str, object] = {}
    for field in FIELDS:
        raw = merged.get(field.env)
        if raw:
            values[field.name] = _convert(field.name, field.kind, raw)
    settings = Settings(env, **values)
    _validate(settings)
    return settings


def load_settings_or_defaults(environ: Mapping[str, str] | None = None) -> Settings:
    """Like `load_settings`, but an invalid value falls back to all defaults; never raises."""
    try:
        return load_settings(environ)
    except SettingsError:
        return Settings(dict(os.environ if environ is None else environ))
