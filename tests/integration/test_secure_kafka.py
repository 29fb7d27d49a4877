"""The forwarder and the consumer against a broker that requires TLS, and TLS with SCRAM-SHA-512.

End to end over each listener: spool -> `omniclaude flush` -> Kafka -> `omniclaude-consumer` -> PostgreSQL.
Then the three ways a secured connection is commonly misconfigured (wrong password, a CA that did not
sign the broker's certificate, a host name the certificate does not list): each gives one clear line
naming the problem in doctor, in `omniclaude flush`, and in the consumer's log and `/ready`, within a
bounded time and without a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from omniclaude.config import load_settings
from omniclaude.doctor import FAIL, check_kafka
from omniclaude_consumer.settings import ConsumerSettings

from tests.consumer.conftest import ConsumerProcess, http_get, wait_until
from tests.harness import HarnessError
from tests.harness.secure_kafka import SCRAM_MECHANISM, SecureKafka
from tests.omniclaude.forwarder.helpers import write_events

pytestmark = [pytest.mark.kafka]

REPO = Path(__file__).resolve().parents[2]
EVENTS = 40


@pytest.fixture(scope="module")
def secure_kafka() -> Iterator[SecureKafka]:
    broker = SecureKafka()
    try:
        try:
            broker.start()
        except HarnessError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield broker
    finally:
        broker.close()


def kafka_env(broker: SecureKafka, listener: str, **overrides: str) -> dict[str, str]:
    """The OMNICLAUDE_KAFKA_* variables for one listener (both deployables read the same names)."""
    env = {"OMNICLAUDE_KAFKA_SSL_CAFILE": broker.ca_file}
    if listener == "SSL":
        env.update(OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS=broker.ssl_bootstrap, OMNICLAUDE_KAFKA_SECURITY_PROTOCOL="SSL")
    else:
        env.update(
            OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS=broker.sasl_ssl_bootstrap,
            OMNICLAUDE_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
            OMNICLAUDE_KAFKA_SASL_MECHANISM=SCRAM_MECHANISM,
            OMNICLAUDE_KAFKA_SASL_USERNAME=broker.username,
            OMNICLAUDE_KAFKA_SASL_PASSWORD=broker.password,
        )
    env.update(overrides)
    return env


def client_env(home: Path, prefix: str, kafka: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNICLAUDE_")}
    env.update(kafka, OMNICLAUDE_HOME=str(home), OMNICLAUDE_TOPIC_PREFIX=prefix)
    return env


def flush(env: dict[str, str], timeout: float) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "omniclaude", "flush", "--timeout", str(timeout), "--json"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout + 60, check=False,
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout), done.stderr


def consumer(tmp_path: Path, url: str, prefix: str, kafka: dict[str, str]) -> ConsumerProcess:
    values: dict[str, Any] = {key[len("OMNICLAUDE_") :].lower(): value for key, value in kafka.items()}
    settings = ConsumerSettings(
        database_url=url, topic_prefix=prefix, consumer_group=f"{prefix}-group", consumer_health_port=0,
        consumer_poll_timeout_ms=200, consumer_session_timeout_ms=6000, consumer_retry_backoff_ms=100,
        consumer_retry_backoff_max_ms=1000, **values,
    )  # fmt: skip
    return ConsumerProcess(settings, tmp_path / f"consumer-{prefix}.log", tmp_path / "consumer-home")


def health_port(process: ConsumerProcess) -> int:
    found: list[int] = []

    def listening() -> bool:
        for line in process.log_path.read_text(errors="replace").splitlines():
            if "health server on http://" in line:
                found.append(int(line.rsplit(":", 1)[1]))
                return True
        return False

    wait_until(listening, 60, "the consumer's health server")
    return found[0]


def count_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM agent_actions").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("listener", ["SSL", "SASL_SSL"])
def test_forwarder_and_consumer_end_to_end(
    secure_kafka: SecureKafka, migrated_url: str, tmp_path: Path, listener: str
) -> None:
    prefix = "s" + uuid.uuid4().hex[:10]
    kafka = kafka_env(secure_kafka, listener)
    home = tmp_path / "client"
    write_events(home / "state" / "spool", EVENTS)
    code, report, stderr = flush(client_env(home, prefix, kafka), timeout=60)
    assert code == 0 and report["delivered"] == EVENTS, (report, stderr)

    checked = check_kafka(load_settings(client_env(home, prefix, kafka)))
    assert checked.status != FAIL, checked

    process = consumer(tmp_path, migrated_url, prefix, kafka)
    process.start()
    try:
        port = health_port(process)
        wait_until(lambda: count_rows(migrated_url) == EVENTS, 90, f"{EVENTS} rows over {listener}")
        wait_until(lambda: http_get(port, "/ready")[0] == 200, 30, "/ready")
    finally:
        process.signal(15)
        assert process.wait(30) == 0, process.log_tail()
    assert "Traceback" not in process.log_path.read_text(errors="replace")


MISCONFIGURED = {
    "wrong-password": ("SASL_SSL", {"OMNICLAUDE_KAFKA_SASL_PASSWORD": "not-the-password"}, "authentication failed"),
    "unknown-ca": ("SSL", {"OMNICLAUDE_KAFKA_SSL_CAFILE": "OTHER_CA"}, "is not trusted"),
    "wrong-hostname": ("SSL", {"OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "LOCALHOST"}, "is not valid for the name"),
}


@pytest.mark.parametrize("case", sorted(MISCONFIGURED))
def test_misconfigured_security_gives_one_clear_line_everywhere(
    secure_kafka: SecureKafka, migrated_url: str, tmp_path: Path, case: str
) -> None:
    listener, overrides, phrase = MISCONFIGURED[case]
    values = {
        key: value.replace("OTHER_CA", secure_kafka.other_ca_file).replace(
            "LOCALHOST", secure_kafka.ssl_bootstrap.replace("127.0.0.1", "localhost")
        )
        for key, value in overrides.items()
    }
    kafka = kafka_env(secure_kafka, listener, **values)
    prefix = "m" + uuid.uuid4().hex[:10]
    home = tmp_path / "client"

    doctor = check_kafka(load_settings(client_env(home, prefix, kafka)))
    assert doctor.status == FAIL and phrase in doctor.detail, doctor
    assert "\n" not in doctor.detail and secure_kafka.password not in doctor.detail

    write_events(home / "state" / "spool", 3)
    code, report, stderr = flush(client_env(home, prefix, kafka), timeout=8)
    assert code == 1 and report["pending"] == 3, report
    assert phrase in report["last_error"], report
    assert "Traceback" not in stderr and secure_kafka.password not in stderr + report["last_error"]

    process = consumer(tmp_path, migrated_url, prefix, kafka)
    process.start()
    try:
        port = health_port(process)
        reasons: list[str] = []

        def not_ready_with_the_reason() -> bool:
            status, body = http_get(port, "/ready")
            reasons[:] = [json.dumps(body)]
            return status == 503 and phrase in reasons[0]

        wait_until(not_ready_with_the_reason, 60, f"/ready naming {phrase!r}")
        wait_until(lambda: phrase in process.log_path.read_text(errors="replace"), 30, "the log line")
    finally:
        process.signal(15)
        code = process.wait(30)
    log = process.log_path.read_text(errors="replace")
    assert code == 0, log
    assert "Traceback" not in log and secure_kafka.password not in log
