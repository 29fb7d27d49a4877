"""The one Kafka client configuration: the forwarder, the consumer, its dead-letter producer and doctor.

Each takes the settings fields it needs (`KafkaSettings`: the client `Settings` and the consumer's
settings share these `kafka_*` names) and never reads the environment itself.

- `client_config(settings, client_id)`: kafka-python arguments every client shares: servers, identity,
  security and bounded timeouts. SSL options go with SSL and SASL_SSL only, with hostname verification
  always on; SASL ones with SASL_PLAINTEXT and SASL_SSL (mechanism PLAIN, SCRAM-SHA-256 or
  SCRAM-SHA-512, default PLAIN; kafka-python takes the SCRAM user and password through the same
  `sasl_plain_*` arguments). Raises `KafkaConfigError` naming a missing setting, never a secret. The
  result holds the SASL password: never log it.
- `producer_config` adds delivery guarantees (acks=all, idempotence, one request in flight, so a retry
  never overtakes a later batch: a session's events stay in order), gzip and bounded waits;
  `admin_config` a bounded bootstrap.
- `ensure_topics(settings, names, partitions, client_id)` creates the missing topics with the broker's
  default replication; each topic's outcome is reported on its own (`TopicsReport`).
- `diagnose(settings)` says in one line why the brokers cannot be used: unreachable, not speaking TLS,
  a certificate from an unknown CA, a certificate for another host name, or failed authentication.
  kafka-python itself only reports "Unable to bootstrap"; every caller that fails to connect raises
  `KafkaUnavailable` with this line (doctor, `omniclaude flush`, the consumer's log and `/ready`).

`api_version` is given, so constructing a client never blocks on a down broker. It is a ceiling, not a
pin: kafka-python asks each broker for its versions and uses the lower. (4, 0) is verified against the
Kafka 4.1 test broker. kafka is imported inside the functions that use it: importing this module
loads the standard library only.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from omniclaude.config import env_name

log = logging.getLogger("omniclaude.kafka")

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
DIAGNOSE_TIMEOUT_S = 5.0

SSL_PROTOCOLS = ("SSL", "SASL_SSL")
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")
_NO_ERROR = 0
_TOPIC_ALREADY_EXISTS = 36
# OpenSSL verify codes: the certificate names another host (62) or IP address (64).
_NAME_MISMATCH = (62, 64)
_SASL_FAILED = "SaslAuthenticationFailedError"


class KafkaSettings(Protocol):
    """The settings fields this module reads (both deployables' settings have them)."""

    @property
    def kafka_bootstrap_servers(self) -> str | None: ...
    @property
    def kafka_security_protocol(self) -> str: ...
    @property
    def kafka_sasl_mechanism(self) -> str | None: ...
    @property
    def kafka_sasl_username(self) -> str | None: ...
    @property
    def kafka_sasl_password(self) -> str | None: ...
    @property
    def kafka_ssl_cafile(self) -> str | None: ...
    @property
    def kafka_ssl_certfile(self) -> str | None: ...
    @property
    def kafka_ssl_keyfile(self) -> str | None: ...


class KafkaConfigError(ValueError):
    """The Kafka settings cannot work; the message names the setting, never a secret value."""


class KafkaUnavailable(Exception):
    """The brokers cannot be used now; the message is one line saying why and what to check."""


def bootstrap_servers(settings: KafkaSettings) -> list[str]:
    """Returns the configured `host:port` list; raises KafkaConfigError when there is none."""
    servers = [part.strip() for part in (settings.kafka_bootstrap_servers or "").split(",") if part.strip()]
    if not servers:
        raise KafkaConfigError(f"Kafka is not configured: set {env_name('kafka_bootstrap_servers')}")
    return servers


def client_config(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    """Returns the kafka-python arguments every client shares (see the module docstring)."""
    protocol = settings.kafka_security_protocol or "PLAINTEXT"
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": client_id,
        "security_protocol": protocol,
        "api_version": API_VERSION,
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        "retry_backoff_ms": RETRY_BACKOFF_MS,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        "metadata_max_age_ms": METADATA_MAX_AGE_MS,
    }
    if protocol in SSL_PROTOCOLS:
        config["ssl_check_hostname"] = True
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            value = getattr(settings, f"kafka_{name}")
            if value:
                config[name] = value
    if protocol in SASL_PROTOCOLS:
        for name in ("kafka_sasl_username", "kafka_sasl_password"):
            if not getattr(settings, name):
                raise KafkaConfigError(f"{env_name(name)} is needed with {protocol}")
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism or "PLAIN"
        config["sasl_plain_username"] = settings.kafka_sasl_username
        config["sasl_plain_password"] = settings.kafka_sasl_password
    return config


def producer_config(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    """Returns a producer's arguments: `client_config` plus delivery guarantees and bounded waits.

    `max_block_ms` bounds `send()` waiting for metadata, `request_timeout_ms` a request and
    `delivery_timeout_ms` a record from `send()` to its acknowledgement, retries included, so every
    future resolves within it and `flush()` returns.
    """
    config = client_config(settings, client_id)
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


def admin_config(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    """Returns an admin client's arguments: `client_config` with a bounded bootstrap."""
    config = client_config(settings, client_id)
    config["bootstrap_timeout_ms"] = BOOTSTRAP_TIMEOUT_MS
    return config


def create_admin(settings: KafkaSettings, client_id: str, timeout_ms: int = BOOTSTRAP_TIMEOUT_MS) -> Any:
    """Returns a connected `kafka.KafkaAdminClient`, waiting at most `timeout_ms` for the brokers.

    Raises KafkaConfigError for unusable settings and KafkaUnavailable (the `diagnose` line) when the
    brokers cannot be used.
    """
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    config = admin_config(settings, client_id)
    config.update(
        bootstrap_timeout_ms=timeout_ms,
        request_timeout_ms=max(timeout_ms, 1000),
        reconnect_backoff_max_ms=min(RECONNECT_BACKOFF_MAX_MS, timeout_ms),
    )
    with _auth_failures() as failures:
        try:
            return KafkaAdminClient(**config)
        except (KafkaError, OSError, ValueError) as exc:
            raise KafkaUnavailable(diagnose(settings, failures, exc)) from None


@dataclass
class TopicsReport:
    """What `ensure_topics` did: topics created, topics that were there, and per-topic failures."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def ensure_topics(settings: KafkaSettings, names: Sequence[str], partitions: int, client_id: str) -> TopicsReport:
    """Creates those of `names` that are missing, with `partitions` partitions and the broker's default
    replication factor (1 for brokers older than 2.4, which cannot apply their default). A topic created
    meanwhile by another client counts as existing; any other per-topic error is in `failed`.

    Raises KafkaUnavailable when the brokers cannot be used at all.
    """
    from kafka.errors import IncompatibleBrokerVersion, KafkaError

    admin = create_admin(settings, client_id)
    report = TopicsReport()
    try:
        present = set(admin.list_topics())
        report.existing = [name for name in names if name in present]
        missing = [name for name in names if name not in present]
        if not missing:
            return report

        def request(replication: int) -> list[dict[str, Any]]:
            spec = {name: {"num_partitions": partitions, "replication_factor": replication} for name in missing}
            result: list[dict[str, Any]] = admin.create_topics(spec, timeout_ms=REQUEST_TIMEOUT_MS, raise_errors=False)[
                "topics"
            ]
            return result

        try:
            results = request(-1)
        except IncompatibleBrokerVersion:
            results = request(1)
    except KafkaError as exc:
        raise KafkaUnavailable(f"cannot create topics: {describe(exc)}") from None
    finally:
        try:
            admin.close()
        except Exception:
            log.debug("closing the admin client failed", exc_info=True)
    for entry in results:
        name, code = str(entry.get("name")), entry.get("error_code", _NO_ERROR)
        if code == _NO_ERROR:
            report.created.append(name)
        elif code == _TOPIC_ALREADY_EXISTS:
            report.existing.append(name)
        else:
            report.failed[name] = str(entry.get("error_message") or f"error code {code}")
    if report.created:
        log.info("created topics %s", ", ".join(report.created))
    return report


def describe(exc: BaseException) -> str:
    """`ClassName: text` of a kafka-python error, one line."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    return text if text.startswith(name) else f"{name}: {text}" if text else name


# -- why a connection fails ----------------------------------------------------------------------------


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    """The TLS context kafka-python builds from the same settings: TLS >= 1.2, hostname verification on,
    the CA file (else the system's CAs) and the client certificate when given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    if settings.kafka_ssl_cafile:
        context.load_verify_locations(settings.kafka_ssl_cafile)
    else:
        context.load_default_certs()
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    return context


class _AuthFailures(logging.Handler):
    """Collects the authentication failures kafka-python logs (it raises only a bootstrap timeout).

    Runs on kafka-python's IO thread: it must never raise, or that thread dies."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # By name and in the text: another handler's filter may have formatted the record already.
            if _SASL_FAILED in record.getMessage():
                self.found.append(record.getMessage())
        except Exception:
            return


@contextmanager
def _auth_failures() -> Iterator[list[str]]:
    handler = _AuthFailures()
    logger = logging.getLogger("kafka")
    logger.addHandler(handler)
    try:
        yield handler.found
    finally:
        logger.removeHandler(handler)


def _split(server: str) -> tuple[str, int]:
    host, _sep, port = server.rpartition(":")
    host = host.strip("[]") or "localhost"
    return host, int(port) if port.isdigit() else 9092


def diagnose(
    settings: KafkaSettings,
    auth_failures: Sequence[str] = (),
    error: BaseException | None = None,
    timeout: float = DIAGNOSE_TIMEOUT_S,
) -> str:
    """One line saying why the brokers cannot be used, and what to check. Never raises.

    Connects to each bootstrap server (TCP, then the TLS handshake with the same checks kafka-python
    makes); a SASL failure is taken from `auth_failures` (the log lines kafka-python wrote about it while
    the client tried).
    """
    try:
        servers = bootstrap_servers(settings)
    except KafkaConfigError as exc:
        return str(exc)
    protocol = settings.kafka_security_protocol or "PLAINTEXT"
    problems = []
    for server in servers:
        problem = _probe(settings, server, protocol, timeout)
        if problem is None:
            break
        problems.append(problem)
    else:
        return problems[0] if len(problems) == 1 else f"no broker usable: {'; '.join(problems)}"
    if auth_failures or protocol in SASL_PROTOCOLS:
        # The broker closes the connection on bad credentials; kafka-python does not always see why.
        user = settings.kafka_sasl_username or "?"
        how = "" if auth_failures else " (the broker closed the connection during SASL authentication)"
        return (
            f"authentication failed for user {user!r} ({settings.kafka_sasl_mechanism or 'PLAIN'}){how}: "
            f"check {env_name('kafka_sasl_username')}, {env_name('kafka_sasl_password')} and "
            f"{env_name('kafka_sasl_mechanism')}"
        )
    cause = describe(error) if error is not None else "no answer"
    return (
        f"{', '.join(servers)} accepted the connection but did not serve requests ({cause}): check "
        f"{env_name('kafka_security_protocol')} ({protocol}) and the SASL settings"
    )


def _probe(settings: KafkaSettings, server: str, protocol: str, timeout: float) -> str | None:
    """Why `server` cannot be used at the TCP/TLS level, or None when the handshake works."""
    host, port = _split(server)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return (
            f"cannot reach {server}: {exc.strerror or exc}: check "
            f"{env_name('kafka_bootstrap_servers')} and that the broker runs"
        )
    with sock:
        if protocol not in SSL_PROTOCOLS:
            return None
        try:
            context = ssl_context(settings)
        except (OSError, ssl.SSLError) as exc:
            return (
                f"cannot load the TLS files ({exc}): check {env_name('kafka_ssl_cafile')}, "
                f"{env_name('kafka_ssl_certfile')} and {env_name('kafka_ssl_keyfile')}"
            )
        try:
            with context.wrap_socket(sock, server_hostname=host):
                return None
        except ssl.SSLCertVerificationError as exc:
            if exc.verify_code in _NAME_MISMATCH:
                return (
                    f"the TLS certificate of {server} is not valid for the name {host!r} (hostname "
                    "verification is on): connect by a name or address the certificate lists"
                )
            return (
                f"the TLS certificate of {server} is not trusted ({exc.verify_message}): set "
                f"{env_name('kafka_ssl_cafile')} to the CA that signed it"
            )
        except (ssl.SSLError, OSError) as exc:
            return (
                f"TLS handshake with {server} failed ({getattr(exc, 'reason', None) or exc}): is it a TLS "
                f"listener? check {env_name('kafka_security_protocol')} ({protocol})"
            )
