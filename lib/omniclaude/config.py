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

PREFIX = "OMNICLAUDE_"
CONFIG_FILE = "config.env"
SECRETS_FILE = "secrets.env"
CAPTURE_MODES = ("full", "redacted", "hash", "off")
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class Field:
    """One client setting, declared once: the settings object, install.sh's options, the template of the
    settings files and the README table are all derived from these rows. Adding a setting is one row.

    `name` is the attribute (the variable is OMNICLAUDE_ + NAME); `kind` is str, int or float; a `secret`
    lives in secrets.env and is never printed; `doc` is one sentence (the README's "meaning" column and the
    settings files' comment); `choices` are the allowed values when they are a fixed set; `option` is the
    metavar of install.sh's `--name-with-dashes` option ("" when install.sh offers none).
    """

    __slots__ = ("choices", "default", "doc", "kind", "name", "option", "secret")

    def __init__(self, name: str, kind: type, default: object, secret: bool, doc: str, *,
                 choices: tuple[str, ...] = (), option: str = "") -> None:
        self.name = name
        self.kind = kind
        self.default = default
        self.secret = secret
        self.doc = doc
        self.choices = choices
        self.option = option

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


FIELDS: tuple[Field, ...] = (
    Field("home", str, None, False, "One folder for all of omniclaude's files, instead of the platform's user dirs."),
    Field("kafka_bootstrap_servers", str, None, False,
          "Kafka bootstrap servers (host:port,...). Unset: events wait in the spool.", option="HOST:PORT[,...]"),
    Field("kafka_security_protocol", str, "PLAINTEXT", False, "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
          choices=SECURITY_PROTOCOLS, option="P"),
    Field("kafka_sasl_mechanism", str, None, False, "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.",
          choices=SASL_MECHANISMS, option="M"),
    Field("kafka_sasl_username", str, None, False, "SASL user name.", option="USER"),
    Field("kafka_sasl_password", str, None, True, "SASL password (kept in secrets.env).", option="PW"),
    Field("kafka_ssl_cafile", str, None, False, "CA bundle for SSL.", option="FILE"),
    Field("kafka_ssl_certfile", str, None, False, "Client certificate for SSL.", option="FILE"),
    Field("kafka_ssl_keyfile", str, None, False, "Client private key for SSL.", option="FILE"),
    Field("kafka_client_id", str, "omniclaude", False, "Kafka client id."),
    Field("topic_prefix", str, "omniclaude", False, "Prefix of every topic name.", option="PREFIX"),
    Field("topic_partitions", int, 3, False, "Partitions of the topics the forwarder creates."),
    Field("capture_mode", str, "redacted", False, "Prompt capture: full, redacted, hash or off.",
          choices=CAPTURE_MODES, option="MODE"),
    Field("redact_patterns", str, None, False, "Extra regular expressions to redact, one per line."),
    Field("prompt_hash_key", str, None, True,
          "HMAC key for `hash` capture mode (kept in secrets.env; made by the forwarder on first use)."),
    Field("spool_max_bytes", int, 512 * 1024 * 1024, False,
          "Spool cap in bytes; when full, the oldest events are dropped."),
    Field("event_max_bytes", int, 256 * 1024, False, "Largest event in bytes; longer strings are truncated to fit."),
    Field("forwarder_idle_seconds", float, 30.0, False, "The forwarder exits after this long with nothing to send."),
    Field("database_url", str, None, True, "PostgreSQL URL for `omniclaude db` and doctor (kept in secrets.env).",
          option="URL"),
    Field("python", str, None, False, "Interpreter for the hooks and the forwarder (recorded by install.sh)."),
    Field("health_url", str, None, False, "The consumer's health endpoint, checked by doctor.", option="URL"),
)


class SettingsError(ValueError):
    """A setting is present but invalid; the message names the key, never the value."""


class Settings:
    """Every setting of omniclaude's client side (hook, skills, forwarder, CLI). Immutable by convention."""

    home: str | None
    kafka_bootstrap_servers: str | None
    kafka_security_protocol: str
    kafka_sasl_mechanism: str | None
    kafka_sasl_username: str | None
    kafka_sasl_password: str | None
    kafka_ssl_cafile: str | None
    kafka_ssl_certfile: str | None
    kafka_ssl_keyfile: str | None
    kafka_client_id: str
    topic_prefix: str
    topic_partitions: int
    capture_mode: str
    redact_patterns: str | None
    prompt_hash_key: str | None
    spool_max_bytes: int
    event_max_bytes: int
    forwarder_idle_seconds: float
    database_url: str | None
    python: str | None
    health_url: str | None

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
            line = line[len("export "):].lstrip()
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
