"""`./install.sh --local-stack` on a fresh home, then a real Claude Code session: every hook firing lands in
the local stack's PostgreSQL. Without java the same command says so in one line and capture still works.

Offline: a scripted stand-in answers for the Messages API, and the Kafka jars come from the user cache
(linked into the fresh home's cache, as a previous `stack up` would have left them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from omniclaude.doctor import hook_command
from omniclaude.spool import SpoolReader

from tests.harness.claude_code import claude_env, init_git_repo, make_recorder_plugin, read_hook_log, run_claude
from tests.harness.install_fixtures import Installer
from tests.harness.messages_api import MessagesAPI, text, tool
from tests.omniclaude.stack.conftest import processes_of, seed_jar_cache
from tests.omniclaude.stack.test_drills import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.claude]


@pytest.fixture
def fresh_home() -> Iterator[Path]:
    """A new HOME outside pytest's 0700 temp tree (as root, PostgreSQL runs as `nobody`, who must reach it)."""
    home = Path(tempfile.mkdtemp(prefix="omniclaude-home-"))
    home.chmod(0o755)
    (home / ".claude").mkdir()
    (home / "tmp").mkdir()
    seed_jar_cache(home / ".cache" / "omniclaude")
    try:
        yield home
    finally:
        venv = home / ".local" / "share" / "omniclaude" / "venv" / "bin" / "omniclaude"
        if venv.exists():
            subprocess.run(
                [str(venv), "stack", "down", "--purge"],
                env={"HOME": str(home), "PATH": os.defpath},
                capture_output=True,
                timeout=180,
                check=False,
            )
        shutil.rmtree(home, ignore_errors=True)


def _tool_dir(folder: Path, *names: str) -> Path:
    folder.mkdir()
    for name in names:
        found = shutil.which(name)
        assert found is not None, f"{name} is not installed"
        (folder / name).symlink_to(found)
    return folder


def test_install_local_stack_then_a_claude_session_lands_in_postgres(
    installer: Installer, claude_bin: Path, fresh_home: Path, tmp_path: Path
) -> None:
    home = fresh_home
    without_java = installer.path(claude_bin.parent, _tool_dir(tmp_path / "bin-nojava", "setpriv"))
    with_java = installer.path(claude_bin.parent, _tool_dir(tmp_path / "bin", "setpriv", "java"))

    # 1. No java: one line says which and how to get it; the install itself is done and capture works.
    refused = installer.run(home, "--local-stack", path=without_java)
    assert refused.returncode == 1, refused.stdout[-3000:] + refused.stderr[-3000:]
    output = refused.stdout + refused.stderr
    java_lines = [line for line in output.splitlines() if "java not found" in line]
    assert len(java_lines) == 1 and "apt-get install default-jre-headless" in java_lines[0], output[-3000:]
    assert "capture into the spool works" in output
    spool = home / ".local" / "state" / "omniclaude" / "spool"
    hook = subprocess.run(
        ["sh", "-c", hook_command(str(installer.checkout))],
        input=b'{"hook_event_name":"Stop","session_id":"no-java","cwd":"/"}',
        env={"HOME": str(home), "PATH": without_java, "CLAUDE_PLUGIN_ROOT": str(installer.checkout)},
        capture_output=True,
        timeout=60,
    )
    assert hook.returncode == 0 and SpoolReader(str(spool)).pending()[0] >= 1, hook.stderr

    # 2. With java: the same command installs nothing new and starts the stack.
    installed = installer.run(home, "--local-stack", path=with_java)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert "ready: Kafka 127.0.0.1:" in installed.stdout
    config = home / ".config" / "omniclaude"
    assert "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:" in (config / "config.env").read_text()
    secrets = (config / "secrets.env").read_text()
    database_url = next(
        line.split("=", 1)[1] for line in secrets.splitlines() if line.startswith("OMNICLAUDE_DATABASE_URL=")
    )

    # 3. A real session: every hook firing reaches PostgreSQL within 15 s of its end, exactly once.
    project = init_git_repo(tmp_path / "project")
    recorder = make_recorder_plugin(tmp_path / "recorder")
    with MessagesAPI() as api:
        api.add("STACK", tool("Bash", command="true", description="Nothing"), text("done"))
        env = claude_env(home, api.base_url, {"PATH": os.environ["PATH"]})
        outcome = run_claude(claude_bin, "STACK: go", project, env, None, extra_args=["--plugin-dir", str(recorder)])
    assert outcome.returncode == 0, outcome.describe()
    ended = time.monotonic()
    truth = [record["stdin"] for record in read_hook_log(recorder)]
    session = outcome.session_id

    def rows() -> list[tuple[str, str]]:
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            return conn.execute(
                "SELECT event_id::text, hook_event_name FROM claude_hook_events WHERE claude_session_id = %s",
                (session,),
            ).fetchall()

    assert wait_until(lambda: len(rows()) >= len(truth), timeout=15), (len(rows()), len(truth))
    assert time.monotonic() - ended < 20
    stored = rows()
    assert len({row[0] for row in stored}) == len(stored) == len(truth)
    assert Counter(row[1] for row in stored) == Counter(t["hook_event_name"] for t in truth)

    # 4. --uninstall stops the stack and removes its data: no process of this home is left.
    removed = installer.run(home, "--uninstall", path=with_java)
    assert removed.returncode == 0, removed.stdout[-3000:] + removed.stderr[-3000:]
    assert not (home / ".local" / "share" / "omniclaude" / "stack").exists()
    assert wait_until(lambda: not processes_of(home), timeout=20), processes_of(home)
