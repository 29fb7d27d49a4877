"""omniclaude.doctor: each check's ok, warn and fail, mostly without network; the CLI end to end.

`claude plugin list` is faked with pytest-subprocess; Kafka and PostgreSQL failures use a closed local
port; the Kafka and schema checks' ok paths use the harness's real broker and database.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from omniclaude import doctor
from omniclaude.config import Settings, SettingsError
from omniclaude.doctor import (
    FAIL,
    OK,
    PLUGIN_ID,
    WARN,
    Check,
    check_config,
    check_consumer,
    check_database,
    check_hook_latency,
    check_interpreter,
    check_kafka,
    check_plugin,
    check_spool,
    check_usage,
    exec_hook,
    format_check,
    hooks_python,
    list_plugins,
    run_checks,
)
from omniclaude.spool import Spool
from omniclaude.topics import event_topics
from pytest_subprocess import FakeProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
CLAUDE = "/opt/fake/claude"


def settings_in(tmp_path: Path, **values: Any) -> Settings:
    """Settings whose every directory lives under tmp_path/home (OMNICLAUDE_HOME)."""
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", os.defpath), "OMNICLAUDE_HOME": str(tmp_path / "home")}
    return Settings(env, **values)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_format_check_shows_the_fix_unless_ok() -> None:
    assert format_check(Check("spool", OK, "fine", "nothing")) == "ok    spool       fine"
    assert format_check(Check("kafka", WARN, "not configured", "set it")) == (
        "warn  kafka       not configured -> fix: set it"
    )


# -- config ---------------------------------------------------------------------------------------------


def test_config_without_files_is_ok(tmp_path: Path) -> None:
    check = check_config(settings_in(tmp_path))
    assert check.status == OK
    assert "all defaults" in check.detail


def test_config_with_an_invalid_value_fails_naming_the_key(tmp_path: Path) -> None:
    check = check_config(settings_in(tmp_path), SettingsError("OMNICLAUDE_CAPTURE_MODE must be one of full"))
    assert check.status == FAIL
    assert "OMNICLAUDE_CAPTURE_MODE" in check.detail
    assert check.fix is not None and "config.env" in check.fix


def test_config_warns_when_secrets_are_readable_by_others(tmp_path: Path) -> None:
    config_dir = tmp_path / "home" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "config.env").write_text("OMNICLAUDE_TOPIC_PREFIX=x\n")
    secrets = config_dir / "secrets.env"
    secrets.write_text("OMNICLAUDE_DATABASE_URL=postgresql://u:pw@h/d\n")
    secrets.chmod(0o644)
    check = check_config(settings_in(tmp_path))
    assert (check.status, check.fix) == (WARN, f"chmod 600 '{secrets}'")
    secrets.chmod(0o600)
    assert check_config(settings_in(tmp_path)).status == OK


# -- interpreter ------------------------------------------------------------------------------------------


def record(tmp_path: Path, python: str) -> None:
    data = tmp_path / "home" / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "python").write_text(python + "\n")


def test_interpreter_recorded_and_runnable_is_ok(tmp_path: Path) -> None:
    record(tmp_path, sys.executable)
    check = check_interpreter(settings_in(tmp_path), str(REPO_ROOT))
    assert check.status == OK
    assert f"hooks run {sys.executable} (Python {sys.version_info.major}.{sys.version_info.minor}" in check.detail


def test_interpreter_is_what_the_shim_picks(tmp_path: Path) -> None:
    record(tmp_path, sys.executable)
    settings = settings_in(tmp_path)
    shim = subprocess.run(
        ["sh", str(REPO_ROOT / "hooks" / "run"), "--which"],
        env=settings.environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert hooks_python(str(REPO_ROOT), settings) == ([shim.stdout.strip()], f"{REPO_ROOT}/hooks/run --which")


def test_interpreter_not_recorded_warns(tmp_path: Path) -> None:
    check = check_interpreter(settings_in(tmp_path), str(REPO_ROOT))
    assert check.status == WARN
    assert "found on PATH, no interpreter is recorded" in check.detail


def test_interpreter_without_a_plugin_root_warns(tmp_path: Path) -> None:
    check = check_interpreter(settings_in(tmp_path))
    assert (check.status, check.detail) == (WARN, "cannot tell which Python the hooks run: the plugin root is unknown")


def test_interpreter_recorded_but_missing_is_passed_over(tmp_path: Path) -> None:
    record(tmp_path, str(tmp_path / "gone" / "python"))
    check = check_interpreter(settings_in(tmp_path), str(REPO_ROOT))
    assert check.status == WARN  # the shim falls back to python3 from PATH, as the hooks do


def test_interpreter_too_old_or_broken_fails(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 3.8.10\n")
    fake.chmod(0o755)
    settings = settings_in(tmp_path)
    settings.environ["OMNICLAUDE_PYTHON"] = str(fake)  # type: ignore[index]
    check = check_interpreter(settings, str(REPO_ROOT))
    assert check.status == FAIL
    assert "is Python 3.8.10; omniclaude needs >= 3.10" in check.detail
    fake.write_text("#!/bin/sh\nexit 1\n")
    assert "does not run" in check_interpreter(settings, str(REPO_ROOT)).detail


def test_an_exec_form_hook_names_its_interpreter(tmp_path: Path) -> None:
    root = tmp_path / "plugin"
    (root / "hooks").mkdir(parents=True)
    args = ["-I", "-S", "${CLAUDE_PLUGIN_ROOT}/hooks/capture.py"]
    hook = {"type": "command", "command": sys.executable, "args": args}
    (root / "hooks" / "hooks.json").write_text(json.dumps({"hooks": {"Stop": [{"hooks": [hook]}]}}))
    assert hooks_python(str(root), settings_in(tmp_path)) == ([sys.executable], str(root / "hooks" / "hooks.json"))
    assert exec_hook(str(root)) == [sys.executable, "-I", "-S", f"{root}/hooks/capture.py"]


# -- spool ------------------------------------------------------------------------------------------------


def test_spool_not_yet_created_is_ok(tmp_path: Path) -> None:
    check = check_spool(settings_in(tmp_path))
    assert check.status == OK
    assert check.detail == f"{tmp_path / 'home' / 'state' / 'spool'} (created on the first event)"
    assert not (tmp_path / "home").exists()  # doctor creates nothing


def test_spool_reports_its_pending_events(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    spool = Spool(settings.dirs.spool)
    for index in range(3):
        spool.append(json.dumps({"event_id": str(index)}).encode() + b"\n")
    check = check_spool(settings)
    assert check.status == OK
    assert "3 event(s) pending" in check.detail
    assert "kept until Kafka is configured" in check.detail


def test_spool_that_cannot_be_created_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = Settings({"OMNICLAUDE_HOME": str(blocker / "home")})
    check = check_spool(settings)
    assert check.status == FAIL
    assert "is not writable" in check.detail


def test_spool_not_writable_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_in(tmp_path)
    os.makedirs(settings.dirs.spool, mode=0o700)
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root may write anywhere
    check = check_spool(settings)
    assert check.status == FAIL
    assert check.fix == f"chmod u+rwx '{settings.dirs.spool}' (and check its owner)"


# -- plugin (claude faked with pytest-subprocess) -----------------------------------------------------------


def listed(fp: FakeProcess, entries: list[dict[str, Any]]) -> None:
    fp.register([CLAUDE, "plugin", "list", "--json"], stdout=json.dumps(entries))


def test_plugin_installed_and_enabled_is_ok(fp: FakeProcess) -> None:
    listed(fp, [{"id": PLUGIN_ID, "version": "0.1.0", "scope": "user", "enabled": True, "readFromFolder": "/src/oc"}])
    check = check_plugin(CLAUDE, list_plugins(CLAUDE, {}))
    assert check.status == OK
    assert check.detail == f"{PLUGIN_ID}: Claude Code has loaded 0.1.0 (user scope) from /src/oc"
    assert fp.call_count([CLAUDE, "plugin", "list", "--json"]) == 1


def test_plugin_older_than_its_folder_warns_with_the_update_commands(fp: FakeProcess, tmp_path: Path) -> None:
    (tmp_path / ".claude-plugin").mkdir()
    (tmp_path / ".claude-plugin" / "plugin.json").write_text('{"name": "omniclaude", "version": "0.1.0+new"}')
    listed(fp, [{"id": PLUGIN_ID, "version": "0.1.0+old", "enabled": True, "readFromFolder": str(tmp_path)}])
    check = check_plugin(CLAUDE, list_plugins(CLAUDE, {}))
    assert check.status == WARN
    assert check.detail.endswith("but that folder holds 0.1.0+new")
    assert check.fix == f"claude plugin marketplace update omniclaude-local && claude plugin update {PLUGIN_ID}"


def test_plugin_not_installed_fails_with_the_commands(fp: FakeProcess) -> None:
    listed(fp, [{"id": "other@somewhere", "enabled": True}])
    check = check_plugin(CLAUDE, list_plugins(CLAUDE, {}), "/src/oc")
    assert check.status == FAIL
    assert check.fix == f"claude plugin marketplace add '/src/oc' && claude plugin install {PLUGIN_ID}"


def test_plugin_disabled_warns(fp: FakeProcess) -> None:
    listed(fp, [{"id": PLUGIN_ID, "enabled": False}])
    check = check_plugin(CLAUDE, list_plugins(CLAUDE, {}))
    assert (check.status, check.fix) == (WARN, f"claude plugin enable {PLUGIN_ID}")


def test_plugin_from_an_older_claude_without_json(fp: FakeProcess) -> None:
    fp.register([CLAUDE, "plugin", "list", "--json"], returncode=1, stderr="error: unknown option '--json'")
    fp.register([CLAUDE, "plugin", "list"], stdout="Installed plugins:\n  > omniclaude@omniclaude-local\n")
    assert check_plugin(CLAUDE, list_plugins(CLAUDE, {})).status == OK


def test_plugin_listing_that_fails_is_a_failure(fp: FakeProcess) -> None:
    fp.register([CLAUDE, "plugin", "list", "--json"], returncode=1, stderr="boom")
    fp.register([CLAUDE, "plugin", "list"], returncode=1, stderr="boom")
    check = check_plugin(CLAUDE, list_plugins(CLAUDE, {}))
    assert check.status == FAIL
    assert check.detail == "`claude plugin list` exited 1: boom"


def test_plugin_without_claude_warns_with_the_commands() -> None:
    check = check_plugin(None, None, "/src/oc")
    assert check.status == WARN
    assert check.fix is not None and f"claude plugin install {PLUGIN_ID}" in check.fix


# -- hook latency -------------------------------------------------------------------------------------------


def fake_plugin(tmp_path: Path, command: str) -> Path:
    root = tmp_path / "plugin"
    (root / "hooks").mkdir(parents=True)
    hooks = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": command, "timeout": 10}]}]}}
    (root / "hooks" / "hooks.json").write_text(json.dumps(hooks))
    return root


def test_hook_sample_runs_the_real_hook_into_a_throwaway_home(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, python=sys.executable)
    check = check_hook_latency(str(REPO_ROOT), settings)
    assert check.status in (OK, WARN), check  # WARN only on a machine too loaded to start Python in 100 ms
    assert "over 3 run(s) of Stop (budget 100 ms)" in check.detail
    assert not (tmp_path / "home").exists()  # the user's spool is untouched
    assert check_hook_latency(str(REPO_ROOT), settings, runs=1, budget_ms=0).status == WARN


@pytest.mark.parametrize(
    ("command", "detail"),
    [
        ("echo oops >&2; exit 3", "the hook exited 3: oops"),
        ("true", "but it recorded 0 of 3 events"),
        ("cat", "the hook printed on stdout"),
    ],
)
def test_hook_that_fails_records_nothing_or_prints_is_a_failure(tmp_path: Path, command: str, detail: str) -> None:
    check = check_hook_latency(str(fake_plugin(tmp_path, command)), settings_in(tmp_path))
    assert check.status == FAIL
    assert detail in check.detail


def test_hook_without_plugin_root_or_hooks_json(tmp_path: Path) -> None:
    assert check_hook_latency(None, settings_in(tmp_path)).status == WARN
    assert check_hook_latency(str(tmp_path), settings_in(tmp_path)).status == FAIL


# -- Kafka --------------------------------------------------------------------------------------------------


def test_kafka_not_configured_warns(tmp_path: Path) -> None:
    check = check_kafka(settings_in(tmp_path))
    assert check.status == WARN
    assert check.fix is not None and "--kafka-bootstrap-servers" in check.fix


def test_kafka_unreachable_fails_quickly_with_a_fix(tmp_path: Path) -> None:
    servers = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()
    check = check_kafka(settings_in(tmp_path, kafka_bootstrap_servers=servers), timeout_ms=1000)
    assert time.monotonic() - started < 10
    assert check.status == FAIL
    assert check.detail.startswith(f"cannot reach {servers}")
    assert check.fix is not None and f"OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS ({servers})" in check.fix


def test_kafka_sasl_without_user_fails_naming_the_setting(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, kafka_bootstrap_servers="127.0.0.1:9", kafka_security_protocol="SASL_SSL")
    check = check_kafka(settings)
    assert check.status == FAIL
    assert "OMNICLAUDE_KAFKA_SASL_USERNAME" in check.detail


def test_kafka_reachable_reports_missing_topics_then_ok(tmp_path: Path, kafka: Any) -> None:
    from omniclaude.forwarder.admin import ensure_topics

    settings = settings_in(
        tmp_path,
        kafka_bootstrap_servers=kafka.bootstrap,
        topic_prefix=f"doctor-{uuid.uuid4().hex[:8]}",
        topic_partitions=1,
    )
    check = check_kafka(settings)
    assert check.status == WARN
    assert f"{settings.topic_prefix}.dead-letter" in check.detail
    ensure_topics(settings)
    check = check_kafka(settings)
    topics = len(event_topics(settings.topic_prefix)) + 1  # and the dead-letter topic
    assert (check.status, check.detail) == (OK, f"{kafka.bootstrap} reachable; all {topics} topics present")


# -- PostgreSQL -----------------------------------------------------------------------------------------------


def test_database_not_configured_is_ok(tmp_path: Path) -> None:
    assert check_database(settings_in(tmp_path)).status == OK


def test_database_unreachable_fails_without_showing_the_password(tmp_path: Path) -> None:
    url = f"postgresql://omni:pw-hunter2@127.0.0.1:{closed_port()}/events"
    check = check_database(settings_in(tmp_path, database_url=url))
    assert check.status == FAIL
    assert "postgresql://omni:***@127.0.0.1" in check.detail
    assert "hunter2" not in format_check(check)


def test_database_schema_behind_fails_until_upgraded(tmp_path: Path, database_url: str) -> None:
    settings = settings_in(tmp_path, database_url=database_url)
    check = check_database(settings)
    assert check.status == FAIL
    assert "behind by" in check.detail
    assert check.fix == "omniclaude db upgrade"
    subprocess.run(
        [sys.executable, "-m", "omniclaude", "db", "upgrade", "--database-url", database_url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    check = check_database(settings)
    assert check.status == OK
    assert "up to date" in check.detail


# -- the consumer's health endpoint ---------------------------------------------------------------------------


@pytest.fixture
def health_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A local HTTP server answering GET with `answer["status"]` and `answer["body"]`."""
    answer: dict[str, Any] = {"status": 200, "body": {"status": "ok"}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(answer["body"]).encode()
            self.send_response(answer["status"])
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health", answer
    finally:
        server.shutdown()
        server.server_close()


def test_consumer_not_configured_is_ok(tmp_path: Path) -> None:
    assert check_consumer(settings_in(tmp_path)).status == OK


def test_consumer_healthy_then_unhealthy(tmp_path: Path, health_server: tuple[str, dict[str, Any]]) -> None:
    url, answer = health_server
    settings = settings_in(tmp_path, health_url=url)
    check = check_consumer(settings)
    assert (check.status, check.detail) == (OK, f"{url} answered 200: status ok")
    answer.update(status=503, body={"status": "unhealthy", "reasons": ["heartbeat stale"]})
    check = check_consumer(settings)
    assert (check.status, check.detail) == (FAIL, f"{url} answered 503: status unhealthy (heartbeat stale)")


def test_consumer_unreachable_fails(tmp_path: Path) -> None:
    check = check_consumer(settings_in(tmp_path, health_url=f"http://127.0.0.1:{closed_port()}/health"))
    assert check.status == FAIL
    assert "did not answer" in check.detail


# -- transcript usage -----------------------------------------------------------------------------------------


def test_usage_ok_then_warns_about_missing_transcripts_and_unknown_models(tmp_path: Path) -> None:
    from omniclaude.usage.collect import UsageCollector

    settings = settings_in(tmp_path)
    assert check_usage(settings).status == OK
    transcript = tmp_path / "t.jsonl"
    line = {"type": "assistant", "message": {"id": "m1", "model": "claude-imaginary-9", "usage": {}}}
    transcript.write_text(json.dumps(line) + "\n")
    hook = {
        "event_type": "claude_hook",
        "payload": {"hook_event_name": "Stop", "input": {"transcript_path": str(transcript)}},
    }
    collector = UsageCollector(settings.dirs.state, settings.dirs.config)
    collector.collect(
        [
            hook,
            {
                **hook,
                "payload": {"hook_event_name": "Stop", "input": {"transcript_path": str(tmp_path / "gone.jsonl")}},
            },
        ],
        lambda _line: None,
    )
    check = check_usage(settings)
    assert check.status == WARN
    assert "1 missing files" in check.detail and "1 unknown model responses" in check.detail
    assert check.fix is not None and "claude-imaginary-9" in check.fix and "prices.json" in check.fix


def test_usage_fails_on_a_bad_price_file(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    os.makedirs(settings.dirs.config, exist_ok=True)
    Path(settings.dirs.config, "prices.json").write_text("{not json")
    check = check_usage(settings)
    assert check.status == FAIL and "prices.json: not JSON" in check.detail


# -- all of them, and the CLI ---------------------------------------------------------------------------------


def test_run_checks_yields_every_check_and_contains_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(settings: Settings) -> Check:
        raise RuntimeError("spool broke, password s3cret-pw")

    monkeypatch.setattr(doctor, "check_spool", crash)
    settings = settings_in(tmp_path, kafka_sasl_password="s3cret-pw", python=sys.executable)
    checks = list(run_checks(settings, find_claude=False))
    assert [c.name for c in checks] == [
        "config",
        "interpreter",
        "spool",
        "usage",
        "plugin",
        "hook",
        "kafka",
        "database",
        "consumer",
    ]
    spool = checks[2]
    assert spool.status == FAIL
    assert spool.detail == "the check crashed: RuntimeError: spool broke, password ***"


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "HOME": str(tmp_path),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.defpath,
        "OMNICLAUDE_HOME": str(tmp_path / "home"),
        "OMNICLAUDE_PYTHON": sys.executable,
    }
    env.update(extra)
    return env


def test_cli_prints_one_line_per_check_and_exits_1_on_a_failure(tmp_path: Path) -> None:
    url = f"postgresql://omni:pw-hunter2@127.0.0.1:{closed_port()}/events"
    env = cli_env(tmp_path, OMNICLAUDE_DATABASE_URL=url, OMNICLAUDE_KAFKA_SASL_PASSWORD="kafka-hunter2")
    done = subprocess.run(
        [sys.executable, "-m", "omniclaude", "doctor", "--plugin-root", str(REPO_ROOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [
        "config",
        "interpreter",
        "spool",
        "usage",
        "plugin",
        "hook",
        "kafka",
        "database",
        "consumer",
    ]
    assert all(line.split()[0] in ("ok", "warn", "fail") for line in lines)
    database = lines[7]
    assert database.startswith("fail  database    cannot connect to postgresql://omni:***@127.0.0.1:")
    assert "-> fix: check OMNICLAUDE_DATABASE_URL" in database
    assert "hunter2" not in done.stdout + done.stderr


def test_cli_json_and_exit_0_without_failures(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "omniclaude", "doctor", "--json"],
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    checks = json.loads(done.stdout)
    assert done.returncode == (1 if any(c["status"] == FAIL for c in checks) else 0)
    assert {c["name"]: c["status"] for c in checks}["kafka"] == WARN
    assert set(checks[0]) == {"name", "status", "detail", "fix"}
    assert done.returncode == 0, checks


def test_importing_doctor_loads_no_client_library() -> None:
    code = (
        "import sys, omniclaude.doctor, omniclaude.cli.doctor\n"
        "print(sorted(m for m in ('kafka', 'psycopg', 'httpx', 'pydantic') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_secrets_env_mode_reported_in_octal(tmp_path: Path) -> None:
    config_dir = tmp_path / "home" / "config"
    config_dir.mkdir(parents=True)
    secrets = config_dir / "secrets.env"
    secrets.write_text("")
    secrets.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP)
    assert "(mode 0640)" in check_config(settings_in(tmp_path)).detail
