"""No credential from a setting, a URL, a query string or a malformed URL reaches any output line.

doctor, `omniclaude db`, `flush` (and forwarder.log), install.sh --dry-run and the consumer's log run with a
secret in every URL form; each secret is a distinct marker, asserted absent from every line they print.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omniclaude.cli import main
from omniclaude.masking import MaskingFilter
from omniclaude_consumer.settings import load_settings as load_consumer_settings

from tests.harness.install_fixtures import Installer

# (database URL, the secret in it, health URL, the secret in it): every form a password takes
FORMS = [
    (
        "postgresql://u:Zq1userinfo@127.0.0.1:1/db",
        "Zq1userinfo",
        "http://127.0.0.1:1/health?token=Zq1querytoken",
        "Zq1querytoken",
    ),
    (
        "postgresql://u:Zq2pct%40encoded@127.0.0.1:1/db",
        "Zq2pct",
        "http://svc:Zq2healthpw@127.0.0.1:1/health",
        "Zq2healthpw",
    ),
    (
        "postgresql://u:Zq3with/slash@127.0.0.1:1/db",
        "Zq3with",
        "http://127.0.0.1:1/health?x=1&api_key=Zq3apikey",
        "Zq3apikey",
    ),
    (
        "postgresql://u@127.0.0.1:1/db?password=Zq4querypw",
        "Zq4querypw",
        "http://svc:Zq4malformed@[::1/health",
        "Zq4malformed",
    ),
    (
        "postgresql://u@127.0.0.1:1/db?sslmode=disable&sslpassword=Zq5sslpw",
        "Zq5sslpw",
        "https://Zq5tokenasusername0123456789@127.0.0.1:1/health",
        "Zq5tokenasusername",
    ),
    (
        "postgresql://u:Zq6malformed@[::1/db",
        "Zq6malformed",
        "http://127.0.0.1:1/health?password=Zq6healthquery#frag",
        "Zq6healthquery",
    ),
    (
        "host=127.0.0.1 port=1 password=Zq7keyword junk",
        "Zq7keyword",
        "http://127.0.0.1:1/health;sig=Zq7signature",
        "Zq7signature",
    ),
    ("postgresql://u:Zq8with space@127.0.0.1:1/db", "Zq8with", "http://u:Zq8p@ss@127.0.0.1:1/health", "Zq8p"),
]
IDS = [f"form{index}" for index in range(1, len(FORMS) + 1)]
SASL_SECRET = "Zq9saslpassword"


def assert_clean(text: str, *secrets: str) -> None:
    for line in text.splitlines():
        for secret in secrets:
            assert secret not in line, f"{secret!r} printed in: {line}"


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith(("OMNICLAUDE_", "CLAUDE_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin")
    return tmp_path


@pytest.mark.parametrize(("database_url", "db_secret", "health_url", "health_secret"), FORMS, ids=IDS)
def test_db_and_doctor_never_print_a_secret(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db_secret: str,
    health_url: str,
    health_secret: str,
) -> None:
    assert main(["db", "status", "--database-url", database_url]) == 1
    out, err = capsys.readouterr()
    assert "cannot connect to" in err
    assert_clean(out + err, db_secret)

    monkeypatch.setenv("OMNICLAUDE_DATABASE_URL", database_url)
    monkeypatch.setenv("OMNICLAUDE_HEALTH_URL", health_url)
    monkeypatch.setenv("OMNICLAUDE_KAFKA_SASL_PASSWORD", SASL_SECRET)
    assert main(["db", "status"]) == 1
    main(["doctor"])
    main(["doctor", "--json"])
    out, err = capsys.readouterr()
    assert "database" in out and "consumer" in out
    assert_clean(out + err, db_secret, health_secret, SASL_SECRET)


def test_flush_and_the_forwarder_log_never_print_a_secret(tmp_path: Path) -> None:
    spool = tmp_path / "home" / "state" / "spool"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "OMNICLAUDE_HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "OMNICLAUDE_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "OMNICLAUDE_KAFKA_SASL_MECHANISM": "PLAIN",
        "OMNICLAUDE_KAFKA_SASL_USERNAME": "svc",
        "OMNICLAUDE_KAFKA_SASL_PASSWORD": SASL_SECRET,
        "OMNICLAUDE_DATABASE_URL": FORMS[5][0],
        "OMNICLAUDE_HEALTH_URL": FORMS[0][2],
    }
    forward = subprocess.run(
        [sys.executable, "-m", "omniclaude", "forward", "--idle-seconds", "0.2", "--max-failure-seconds", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    flushed = subprocess.run(
        [sys.executable, "-m", "omniclaude", "flush", "--timeout", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log_text = (spool / "forwarder.log").read_text()
    assert "forwarder started" in log_text
    assert_clean(
        forward.stdout + forward.stderr + flushed.stdout + flushed.stderr + log_text,
        SASL_SECRET,
        FORMS[5][1],
        FORMS[0][3],
    )


@pytest.fixture
def dry_installer(checkout: Path, tools: Path, python_dir: Path, tmp_path: Path) -> Installer:
    """install.sh from the checkout copy; --dry-run needs no wheelhouse."""
    return Installer(checkout, tmp_path / "no-wheels", tools, python_dir, tmp_path)


def test_install_dry_run_never_prints_a_secret(dry_installer: Installer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    secrets = []
    for database_url, db_secret, health_url, health_secret in FORMS[2:6]:  # malformed, query, slash, token
        done = dry_installer.run(
            home,
            "--dry-run",
            "--database-url",
            database_url,
            "--health-url",
            health_url,
            "--kafka-sasl-password",
            SASL_SECRET,
            pip=False,
        )
        assert done.returncode == 0, done.stderr
        assert "set OMNICLAUDE_HEALTH_URL=" in done.stdout
        secrets += [db_secret, health_secret]
        assert_clean(done.stdout + done.stderr, db_secret, health_secret, SASL_SECRET)
    assert len(secrets) == 8


def test_the_consumer_log_never_prints_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    database_url, db_secret, _health, _secret = FORMS[5]
    settings = load_consumer_settings(
        {
            "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
            "OMNICLAUDE_DATABASE_URL": database_url,
            "OMNICLAUDE_KAFKA_SASL_MECHANISM": "PLAIN",
            "OMNICLAUDE_KAFKA_SASL_PASSWORD": SASL_SECRET,
        }
    )
    log = logging.getLogger("omniclaude_consumer.test")
    caplog.handler.addFilter(MaskingFilter(settings.secrets()))
    with caplog.at_level(logging.INFO, logger="omniclaude_consumer.test"):
        log.info("starting: %r", settings)
        log.error('end of string reached when looking for matching "]" in URI: "%s"', database_url)
        log.warning("transient failure: password=%s sasl %s", "Zq6malformed", SASL_SECRET)
        try:
            raise RuntimeError(f"cannot connect to {database_url}")
        except RuntimeError:
            log.exception("failed")
    text = caplog.text + json.dumps([record.getMessage() for record in caplog.records])
    assert "starting" in text
    assert_clean(text, db_secret, SASL_SECRET)
