"""Tokens, cost and code changes, from the real Claude Code to PostgreSQL, checked against the client's own figures.

The stand-in Messages API answers every request with a different usage (cache reads and 5-minute and 1-hour
cache writes included; some subagent requests above haiku's 100,000-token context tier). After each
`claude -p --output-format json`, the `llm_usage` sums per session and model must equal the run's
`modelUsage` exactly in the four token kinds, and the cost within 0.5% of its `costUSD`. Sessions: one with
a subagent, its `--resume`, and one in a second project on another model. Lines added/removed and the
commit come from real git in the project; the pull request from a stand-in `gh` on PATH.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from omniclaude.db.migrations import upgrade
from omniclaude.forwarder.state import read_state
from omniclaude.launcher import forwarder_running

from tests.harness.claude_code import init_git_repo
from tests.harness.claude_fixtures import ClaudeSession
from tests.harness.messages_api import text, tool

ROOT = Path(__file__).resolve().parents[2]
KINDS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheReadInputTokens": "cache_read_input_tokens",
    "cacheCreationInputTokens": "cache_creation_input_tokens",
}


class ChangingUsage:
    """A different usage for every reply; haiku-class requests alternate below and above 100,000 tokens."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            n = next(self._n)
        five, hour = 100 + 17 * n, 29 * (n % 3)
        read = 120_000 + n if "haiku" in str(body.get("model")) and n % 2 else 1_000 + 211 * n
        return {
            "input_tokens": 50 + 37 * n,
            "output_tokens": 20 + 13 * n,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": five + hour,
            "cache_creation": {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour},
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def consumer(kafka: Any, postgres: Any, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A consumer process on a fresh, migrated database; yields (topic prefix, database URL)."""
    prefix = f"usage{uuid.uuid4().hex[:10]}"
    database_url = postgres.create_database()
    with psycopg.connect(database_url) as connection:
        upgrade(connection)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "OMNICLAUDE_HOME": str(tmp_path / "consumer"),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "OMNICLAUDE_TOPIC_PREFIX": prefix,
        "OMNICLAUDE_DATABASE_URL": database_url,
        "OMNICLAUDE_CONSUMER_GROUP": f"{prefix}-group",
        "OMNICLAUDE_CONSUMER_HEALTH_PORT": str(free_port()),
    }
    log = (tmp_path / "consumer.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "omniclaude_consumer"], env=env, stdout=log, stderr=log)
    try:
        yield prefix, database_url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def sums(database_url: str, session: str) -> dict[str, dict[str, Any]]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT model, sum(input_tokens), sum(output_tokens), sum(cache_read_input_tokens),"
            " sum(cache_creation_input_tokens), sum(cost_usd) FROM llm_usage WHERE claude_session_id = %s"
            " GROUP BY model",
            (session,),
        ).fetchall()
    return {row[0]: dict(zip([*KINDS.values(), "cost_usd"], row[1:], strict=True)) for row in rows}


def matches(database_url: str, session: str, model_usage: dict[str, Any]) -> bool:
    stored = sums(database_url, session)
    return set(stored) == set(model_usage) and all(
        stored[model][column] == model_usage[model][key] for model in model_usage for key, column in KINDS.items()
    )


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return bool(condition())


def check_run(database_url: str, outcome: Any, log: Path) -> dict[str, Any]:
    assert outcome.returncode == 0, outcome.describe()
    model_usage = outcome.result["modelUsage"]
    session = outcome.session_id
    arrived = wait_for(lambda: matches(database_url, session, model_usage), timeout=45)
    stored = sums(database_url, session)
    assert arrived, f"PostgreSQL {stored} != modelUsage {model_usage}\n{log.read_text()[-2000:]}"
    for model, figures in model_usage.items():
        assert float(stored[model]["cost_usd"]) == pytest.approx(figures["costUSD"], rel=0.005), model
    return stored


@pytest.mark.claude
def test_usage_per_session_and_model_equals_claude_codes_own(
    claude_session: ClaudeSession, kafka: Any, consumer: tuple[str, str], tmp_path: Path
) -> None:
    prefix, database_url = consumer
    api = claude_session.api
    api.usage = ChangingUsage()
    alpha = claude_session.project
    beta = init_git_repo(tmp_path / "beta-web")
    home = tmp_path / "oc"
    tools = tmp_path / "bin"  # a stand-in `gh` that prints what `gh pr create` prints
    tools.mkdir()
    (tools / "gh").write_text(
        "#!/bin/sh\necho 'Creating pull request for main'\necho https://github.com/acme/alpha/pull/7\n"
    )
    (tools / "gh").chmod(0o755)
    env = {
        "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
        "OMNICLAUDE_HOME": str(home),
        "OMNICLAUDE_PYTHON": sys.executable,
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "OMNICLAUDE_TOPIC_PREFIX": prefix,
        "OMNICLAUDE_FORWARDER_IDLE_SECONDS": "20",
    }
    commit = "git add -A && git -c user.name=t -c user.email=t@t.invalid commit -m 'Add notes'"
    api.add(
        "USAGE-ALPHA",
        tool("Write", file_path=str(alpha / "notes.md"), content="one\ntwo\nthree\n"),
        tool("Read", file_path=str(alpha / "README.md")),
        tool(
            "Edit",
            file_path=str(alpha / "README.md"),
            old_string="# scratch project",
            new_string="# Alpha\n\nA project.",
        ),
        tool("Bash", command=commit, description="Commit"),
        tool("Bash", command="gh pr create --fill", description="Open a pull request"),
        tool(
            "Agent",
            description="Look around",
            prompt="USAGE-SUB: look",
            subagent_type="general-purpose",
            model="haiku",
            run_in_background=False,
        ),
        text("alpha done"),
    )
    api.add("USAGE-SUB", tool("Bash", command="ls", description="List"), tool("Bash", command="pwd"), text("sub done"))
    api.add("USAGE-BETA", tool("Read", file_path=str(beta / "README.md")), text("beta done"))
    log = tmp_path / "consumer.log"
    try:
        # 1. A session with a subagent.
        first = claude_session("USAGE-ALPHA: work", plugin_dir=ROOT, env=env)
        stored = check_run(database_url, first, log)
        assert len(stored) >= 2, "the subagent ran on another model"
        session = first.session_id

        # 2. Resumed: same session id, modelUsage is the whole session's running total.
        resumed = claude_session(
            "USAGE-ALPHA: one more thing", plugin_dir=ROOT, env=env, extra_args=["--resume", str(session)]
        )
        assert resumed.session_id == session
        check_run(database_url, resumed, log)

        # 3. Another project, another model.
        other = claude_session(
            "USAGE-BETA: read", plugin_dir=ROOT, cwd=beta, env=env, extra_args=["--model", "claude-sonnet-5-5"]
        )
        check_run(database_url, other, log)
        assert api.errors == []

        with psycopg.connect(database_url) as connection:
            by_agent: dict[str | None, int] = dict(
                connection.execute(
                    "SELECT agent_type, count(DISTINCT agent_id) FROM llm_usage WHERE claude_session_id = %s"
                    " GROUP BY agent_type",
                    (session,),
                ).fetchall()
            )
            usage_rows = connection.execute(
                "SELECT project_name, lines_added, lines_removed, commits, pull_requests FROM session_usage"
                " WHERE claude_session_id = %s",
                (session,),
            ).fetchall()
            [(sha, branch)] = connection.execute(
                "SELECT commit_sha, commit_branch FROM claude_hook_events WHERE commit_sha IS NOT NULL"
            ).fetchall()
            pull_requests = connection.execute(
                "SELECT pr_url FROM claude_hook_events WHERE pr_url IS NOT NULL"
            ).fetchall()
            projects = {row[0] for row in connection.execute("SELECT project_name FROM daily_usage")}
            agents = {row[0] for row in connection.execute("SELECT agent_type FROM agent_usage")}
        assert by_agent == {None: 0, "general-purpose": 1}
        assert projects == {alpha.name, beta.name}
        assert agents == {"main", "general-purpose"}

        # 4. Code changes against real git.
        numstat = subprocess.run(
            ["git", "diff", "--numstat", "HEAD~1", "HEAD"], cwd=alpha, check=True, capture_output=True, text=True
        ).stdout.splitlines()
        added = sum(int(line.split()[0]) for line in numstat)
        removed = sum(int(line.split()[1]) for line in numstat)
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=alpha, check=True, capture_output=True, text=True
        ).stdout.strip()
        assert {row[1:] for row in usage_rows} == {(added, removed, 1, 1)} and (added, removed) == (6, 1)
        assert pull_requests == [("https://github.com/acme/alpha/pull/7",)]
        assert {row[0] for row in usage_rows} == {alpha.name}
        assert head.startswith(sha) and branch == "main"
    finally:
        spool = home / "state" / "spool"
        pid = read_state(str(spool)).get("pid") if spool.exists() else None
        if isinstance(pid, int) and forwarder_running(str(spool)):
            os.kill(pid, signal.SIGTERM)
