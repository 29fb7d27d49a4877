"""The whole pipeline as a user runs it: install.sh, the real Claude Code, Kafka, the consumer, PostgreSQL.

Offline: a scripted stand-in answers for the Messages API. The plugin comes from install.sh (marketplace
add + install at user scope); a recorder plugin beside it logs what Claude Code actually fired, which is
the ground truth every row is checked against.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from omniclaude.forwarder.state import read_state
from omniclaude.launcher import forwarder_running

from tests.harness.claude_code import (
    claude_env,
    init_git_repo,
    make_recorder_plugin,
    prepare_home,
    read_hook_log,
    run_claude,
)
from tests.harness.install_fixtures import Installer
from tests.harness.messages_api import MessagesAPI, text, tool

Row = tuple[Any, ...]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Any, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def dead_letters(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values()) if partitions else 0
    finally:
        consumer.close()


@pytest.fixture
def consumer_process(installer: Installer, kafka: Any, tmp_path: Path) -> Iterator[Any]:
    """Starts the installed consumer for one test; yields a function (home, prefix, db_url) -> health URL."""
    started: list[subprocess.Popen[bytes]] = []

    def start(home: Path, prefix: str, database_url: str) -> str:
        port = free_port()
        venv = home / ".local" / "share" / "omniclaude" / "venv" / "bin"
        env = {
            "HOME": str(home),
            "PATH": os.environ["PATH"],
            "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
            "OMNICLAUDE_TOPIC_PREFIX": prefix,
            "OMNICLAUDE_DATABASE_URL": database_url,
            "OMNICLAUDE_CONSUMER_GROUP": f"{prefix}-group",
            "OMNICLAUDE_CONSUMER_HEALTH_PORT": str(port),
        }
        log = (tmp_path / "consumer.log").open("wb")
        started.append(subprocess.Popen([str(venv / "omniclaude-consumer")], env=env, stdout=log, stderr=log))
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(ready, timeout=60), (tmp_path / "consumer.log").read_text()[-3000:]
        return url

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


@pytest.mark.claude
def test_two_projects_from_install_to_sql(
    installer: Installer, claude_bin: Path, kafka: Any, postgres: Any, consumer_process: Any, tmp_path: Path
) -> None:
    prefix = f"e2e{uuid.uuid4().hex[:10]}"
    database_url = postgres.create_database()
    home = prepare_home(tmp_path / "home")
    api = MessagesAPI().start()
    try:
        # 1. install.sh with the real Claude Code on PATH, then the schema and the consumer.
        installed = installer.run(
            home,
            f"--kafka-bootstrap-servers={kafka.bootstrap}",
            f"--topic-prefix={prefix}",
            f"--database-url={database_url}",
            path=installer.path(claude_bin.parent),
        )
        assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
        venv = home / ".local" / "share" / "omniclaude" / "venv" / "bin"
        upgrade = subprocess.run(
            [str(venv / "omniclaude"), "db", "upgrade"],
            env={"HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert upgrade.returncode == 0, upgrade.stderr
        health = consumer_process(home, prefix, database_url)

        # 2. Two sessions in two projects: a subagent, a failing tool call, and skill calls.
        alpha = init_git_repo(tmp_path / "alpha-service")
        beta = init_git_repo(tmp_path / "beta-web")
        skills = home / ".local" / "share" / "omniclaude" / "plugin" / "skills"  # the installed plugin
        correlation = f"corr-{uuid.uuid4().hex[:8]}"
        lifecycle = (
            f"eid=$(python3 {skills}/log-execution/execute.py start --agent e2e-agent --correlation-id {correlation}"
            " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"execution_id\"])') && "
            f"python3 {skills}/log-execution/execute.py progress --execution-id $eid --stage build --percent 50 && "
            f"sleep 0.05 && python3 {skills}/log-execution/execute.py complete --execution-id $eid --status success"
            f" --quality-score 0.8 && python3 {skills}/log-routing-decision/execute.py --agent e2e-agent"
            f" --confidence 0.9 --strategy keyword --latency-ms 4 --correlation-id {correlation}"
        )
        api.add(
            "E2E-ALPHA",
            tool("Write", file_path=str(alpha / "notes.md"), content="alpha\n"),
            tool("Bash", command="false", description="Fail on purpose"),
            tool(
                "Agent",
                description="Look around",
                prompt="E2E-SUB: look",
                subagent_type="general-purpose",
                run_in_background=False,
            ),
            tool("Skill", skill="omniclaude:log-execution"),
            tool("Bash", command=lifecycle, description="Record the execution"),
            text("alpha done"),
        )
        api.add("E2E-SUB", tool("Bash", command="ls", description="List"), text("sub done"))
        api.add("E2E-BETA", tool("Read", file_path=str(beta / "README.md")), text("beta done"))
        recorder = make_recorder_plugin(tmp_path / "recorder")
        env = claude_env(home, api.base_url, {"PATH": os.environ["PATH"]})
        sessions = {}
        for project, prompt in ((alpha, "E2E-ALPHA: work"), (beta, "E2E-BETA: read")):
            outcome = run_claude(claude_bin, prompt, project, env, None, extra_args=["--plugin-dir", str(recorder)])
            assert outcome.returncode == 0, outcome.describe()
            sessions[outcome.session_id] = project
        ended = time.monotonic()
        assert api.errors == []
        lifecycle_result = api.requests_for("E2E-ALPHA")[-1].tool_results()[-1]
        assert not lifecycle_result.get("is_error"), lifecycle_result

        # 3. Everything reaches PostgreSQL, exactly once, within 15 s of the last session's end.
        truth = [record["stdin"] for record in read_hook_log(recorder)]
        assert {t["session_id"] for t in truth} == set(sessions)

        def rows(query: str, *params: object) -> list[Row]:
            with psycopg.connect(database_url) as connection:
                return connection.execute(query, params).fetchall()

        def complete() -> bool:
            hooks = rows("SELECT count(*) FROM claude_hook_events WHERE claude_session_id = ANY(%s)", list(sessions))
            done = rows("SELECT count(*) FROM agent_execution_logs WHERE status = 'success'")
            routed = rows("SELECT count(*) FROM agent_routing_decisions")
            return hooks[0][0] >= len(truth) and done[0][0] == 1 and routed[0][0] == 1

        assert wait_for(complete, timeout=15), "the pipeline did not deliver everything within 15 s"
        assert time.monotonic() - ended < 15

        stored = rows(
            "SELECT event_id, hook_event_name, tool_name, tool_use_id, agent_id, claude_session_id, project_name,"
            " working_directory FROM claude_hook_events"
        )
        assert len({row[0] for row in stored}) == len(stored) == len(truth)
        assert Counter(row[1:6] for row in stored) == Counter(
            (t["hook_event_name"], t.get("tool_name"), t.get("tool_use_id"), t.get("agent_id"), t["session_id"])
            for t in truth
        )
        for row in stored:
            project = sessions[row[5]]
            assert (row[6], row[7]) == (project.name, str(project)), row
        assert {row[2] for row in stored if row[1] == "PostToolUseFailure"} == {"Bash"}
        assert any(row[1] == "SubagentStart" for row in stored)

        [execution] = rows(
            "SELECT execution_id::text, agent_name, status, started_at, completed_at, duration_ms, quality_score,"
            " progress_stage, progress_percent, correlation_id, project_name, claude_session_id"
            " FROM agent_execution_logs"
        )
        assert execution[1:3] == ("e2e-agent", "success")
        assert execution[3] is not None and execution[4] is not None and execution[4] >= execution[3]
        assert execution[5] is not None and execution[5] >= 0
        assert (float(execution[6]), execution[7], execution[8]) == (0.8, "build", 50)
        assert execution[10] == "alpha-service" and sessions[execution[11]] == alpha
        [routing] = rows("SELECT selected_agent, correlation_id, project_name FROM agent_routing_decisions")
        assert routing == ("e2e-agent", execution[9], "alpha-service") and execution[9] == correlation
        activity = rows(
            "SELECT agent_name, status FROM agent_activity_realtime WHERE execution_id::text = %s", execution[0]
        )
        assert activity == [("e2e-agent", "success")]
        by_session = {
            row[0]: row[1:]
            for row in rows("SELECT claude_session_id, project_name, prompt_count, failure_count FROM claude_sessions")
        }
        assert {sessions[s].name for s in by_session} == {"alpha-service", "beta-web"}

        # 4. Nothing dead-lettered, and the consumer is healthy.
        assert dead_letters(kafka.bootstrap, f"{prefix}.dead-letter") == 0
        assert httpx.get(f"{health}/health", timeout=2).status_code == 200
        metrics = httpx.get(f"{health}/metrics", timeout=2).text
        assert "omniclaude" in metrics
    finally:
        api.stop()
        spool = home / ".local" / "state" / "omniclaude" / "spool"
        pid = read_state(str(spool)).get("pid") if spool.exists() else None
        if isinstance(pid, int) and forwarder_running(str(spool)):
            os.kill(pid, signal.SIGTERM)
