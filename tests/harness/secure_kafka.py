"""A real Kafka broker that requires TLS, and TLS with SCRAM-SHA-512: how production Kafka is run.

:class:`SecureKafka` generates, at test time with ``openssl``, a CA, a server certificate for
``IP:127.0.0.1`` signed by it, and a second CA that signed nothing (for the "unknown CA" case). It then
starts a :class:`~tests.harness.kafka.KafkaBroker` with two extra listeners through the broker's
extension hook (extra listeners, extra ``server.properties`` lines, extra storage-format arguments):

* ``SSL``: TLS only, at :attr:`SecureKafka.ssl_bootstrap`;
* ``SASL_SSL``: TLS plus SCRAM-SHA-512 for the user :attr:`SecureKafka.username`, created when the
  storage is formatted (``kafka-storage format --add-scram``), at :attr:`SecureKafka.sasl_ssl_bootstrap`.

The certificate names ``127.0.0.1`` only, so connecting by ``localhost`` is a host-name mismatch.
Hostname verification stays on in every client; nothing here turns it off.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import HarnessError, MissingToolError
from .kafka import KafkaBroker

__all__ = ["SecureKafka", "make_certificates"]

SCRAM_MECHANISM = "SCRAM-SHA-512"
_SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required;"


def _openssl(*args: str, cwd: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise MissingToolError("openssl not found (the TLS test broker needs it): apt-get install openssl")
    done = subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise HarnessError(f"openssl {args[0]} failed: {done.stderr.strip()[-500:]}")


def _make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key.name, "-out", cert.name, "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return key, cert


def make_certificates(directory: Path) -> dict[str, Path]:
    """Writes the test PKI into `directory`; returns paths: ca, server_keystore (key + chain, PEM),
    other_ca (a CA that signed nothing)."""
    ca_key, ca_cert = _make_ca(directory, "omniclaude-test-ca")
    _other_key, other_cert = _make_ca(directory, "omniclaude-unknown-ca")
    (directory / "server.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
        encoding="utf-8",
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", ca_cert.name, "-CAkey", ca_key.name, "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=directory,
    )  # fmt: skip
    keystore = directory / "server-keystore.pem"
    keystore.write_text(
        (directory / "server.key").read_text(encoding="ascii") + (directory / "server.pem").read_text(encoding="ascii"),
        encoding="ascii",
    )
    for path in directory.iterdir():
        path.chmod(0o600)
    return {"ca": ca_cert, "server_keystore": keystore, "other_ca": other_cert}


class SecureKafka:
    """A KafkaBroker with an SSL and a SASL_SSL (SCRAM-SHA-512) listener; see the module docstring."""

    username = "omniclaude-test"

    def __init__(self) -> None:
        self.password = secrets.token_urlsafe(18)
        self._pki_dir = Path(tempfile.mkdtemp(prefix="omniclaude-pki-"))
        self._paths: dict[str, Path] = {}
        self.broker: KafkaBroker | None = None

    @property
    def ca_file(self) -> str:
        """The CA that signed the broker's certificate."""
        return str(self._paths["ca"])

    @property
    def other_ca_file(self) -> str:
        """A CA that did not sign the broker's certificate."""
        return str(self._paths["other_ca"])

    def _port(self, listener: str) -> int:
        if self.broker is None:
            raise HarnessError("SecureKafka has not been started")
        return self.broker.listener_port(listener)

    @property
    def ssl_bootstrap(self) -> str:
        """``127.0.0.1:PORT`` of the TLS-only listener."""
        return f"127.0.0.1:{self._port('SSL')}"

    @property
    def sasl_ssl_bootstrap(self) -> str:
        """``127.0.0.1:PORT`` of the TLS + SCRAM-SHA-512 listener."""
        return f"127.0.0.1:{self._port('SASL_SSL')}"

    @property
    def plaintext_bootstrap(self) -> str:
        """The broker's PLAINTEXT listener (for test set-up only)."""
        if self.broker is None:
            raise HarnessError("SecureKafka has not been started")
        return self.broker.bootstrap

    def start(self) -> None:
        """Generates the certificates and starts the broker (see KafkaBroker.start for errors)."""
        self._paths = make_certificates(self._pki_dir)
        keystore = str(self._paths["server_keystore"])
        self.broker = KafkaBroker(
            listeners={"SSL": "SSL", "SASL_SSL": "SASL_SSL"},
            properties={
                "ssl.keystore.type": "PEM",
                "ssl.keystore.location": keystore,
                "ssl.client.auth": "none",
                "sasl.enabled.mechanisms": SCRAM_MECHANISM,
                "listener.name.sasl_ssl.sasl.enabled.mechanisms": SCRAM_MECHANISM,
                f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": _SCRAM_LOGIN,
            },
            format_args=["--add-scram", f"{SCRAM_MECHANISM}=[name={self.username},password={self.password}]"],
        )
        self.broker.start()

    def close(self) -> None:
        """Stops the broker and deletes its files and the certificates. Idempotent."""
        try:
            if self.broker is not None:
                self.broker.close()
        finally:
            shutil.rmtree(self._pki_dir, ignore_errors=True)
