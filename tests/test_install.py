"""install.sh, run for real with dash into temporary home directories.

Each run gets a bare environment: HOME is a temporary folder (no OMNICLAUDE_HOME, no XDG_*, so the
default XDG locations under HOME are used), PATH holds only a folder of symlinked tools, a `python3`
and, where the test wants one, a fake `claude` that logs its arguments. The installs run from a copy
of the checkout (others may edit the real one meanwhile) and pip installs from a wheelhouse built once
per session (`--pip-args "--no-index --find-links ..."`), so only the first build touches the network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from omniclaude.config import parse_env_file

from tests.harness.install_fixtures import Installer

REPO_ROOT = Path(__file__).resolve().parents[1]
PLUGIN_ID = "omniclaude@omniclaude-local"

FAKE_CLAUDE = """#!/bin/sh
# A stand-in for Claude Code's CLI: logs each call's arguments and keeps the marketplace and the plugin
# as files, so `list --json` answers what `add` and `install` did.
state="@STATE@"
printf '%s\\n' "$*" >> "$state/log"
case "$*" in
  "plugin marketplace list --json")
    if [ -f "$state/marketplace" ]; then
      printf '[{"name": "omniclaude-local", "source": "directory", "path": "%s"}]\\n' "$(cat "$state/marketplace")"
    else
      echo '[]'
    fi ;;
  "plugin marketplace add "*) printf '%s' "$4" > "$state/marketplace"; echo "added" ;;
  "plugin marketplace update omniclaude-local") echo "updated" ;;
  "plugin update omniclaude@omniclaude-local") echo "updated" ;;
  "plugin marketplace remove omniclaude-local")
    [ -f "$state/marketplace" ] || { echo "not found" >&2; exit 1; }
    rm "$state/marketplace" ;;
  "plugin list --json")
    if [ -f "$state/plugin" ]; then
      echo '[{"id": "omniclaude@omniclaude-local", "version": "0.1.0", "scope": "user", "enabled": true}]'
    else
      echo '[]'
    fi ;;
  "plugin install omniclaude@omniclaude-local") : > "$state/plugin"; echo "installed" ;;
  "plugin uninstall omniclaude@omniclaude-local") rm "$state/plugin" ;;
  *) echo "fake claude: unexpected arguments: $*" >&2; exit 1 ;;
esac
"""


def fake_claude(folder: Path) -> Path:
    """Writes the fake `claude` into `folder/bin`; its log and state live in `folder/state`."""
    (folder / "bin").mkdir(parents=True)
    (folder / "state").mkdir()
    claude = folder / "bin" / "claude"
    claude.write_text(FAKE_CLAUDE.replace("@STATE@", str(folder / "state")))
    claude.chmod(0o755)
    return folder


def claude_calls(folder: Path, *, changes_only: bool = True) -> list[str]:
    log = folder / "state" / "log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if not (changes_only and " list" in f" {line}")]


# -- what a run leaves behind ---------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, str]:
    """Every path under `root` with its type and mode, and for files the sha256, for links the target."""
    entries: dict[str, str] = {}
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            path = Path(directory, name)
            info = path.lstat()
            rel = str(path.relative_to(root))
            mode = f"{stat.S_IMODE(info.st_mode):04o}"
            if stat.S_ISLNK(info.st_mode):
                entries[rel] = f"link -> {os.readlink(path)}"
            elif stat.S_ISDIR(info.st_mode):
                entries[rel] = f"dir {mode}"
            else:
                entries[rel] = f"file {mode} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return entries


def ours(root: Path) -> list[str]:
    """The paths under `root` that belong to omniclaude."""
    return sorted(rel for rel in snapshot(root) if "omniclaude" in Path(rel).parts)


def dirs_of(home: Path) -> dict[str, Path]:
    return {
        "config": home / ".config" / "omniclaude",
        "data": home / ".local" / "share" / "omniclaude",
        "state": home / ".local" / "state" / "omniclaude",
        "plugin": home / ".local" / "share" / "omniclaude" / "plugin",
        "bin": home / ".local" / "bin",
    }


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done.stdout


def record_one_event(installer: Installer, home: Path) -> Path:
    """Fires the installed hook once, as Claude Code would; returns the spool folder."""
    env = installer.env(home, extra={"CLAUDE_PLUGIN_ROOT": str(dirs_of(home)["plugin"])})
    payload = json.dumps({"session_id": "s-1", "hook_event_name": "Stop", "cwd": str(home)})
    subprocess.run(
        ["sh", "-c", '"${CLAUDE_PLUGIN_ROOT}/hooks/run" hooks/capture.py Stop'],
        input=payload,
        text=True,
        env=env,
        check=True,
        timeout=30,
    )
    spool = dirs_of(home)["state"] / "spool"
    assert sum(p.read_text().count("\n") for p in spool.glob("*.jsonl")) == 1
    return spool


# -- the install, twice, then the uninstall --------------------------------------------------------------


def test_install_twice_changes_nothing_and_uninstall_reverses_it(installer: Installer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    claude = fake_claude(tmp_path / "claude")
    path = installer.path(claude / "bin")
    dirs = dirs_of(home)

    first = ok(installer.run(home, path=path))
    venv_python = dirs["data"] / "venv" / "bin" / "python"
    assert (dirs["data"] / "python").read_text() == f"{venv_python}\n"
    assert (
        subprocess.run([str(venv_python), "-c", "import omniclaude.doctor, kafka, psycopg"], check=False).returncode
        == 0
    )
    assert stat.S_IMODE(dirs["config"].stat().st_mode) == 0o700
    for name in ("config.env", "secrets.env"):
        assert stat.S_IMODE((dirs["config"] / name).stat().st_mode) == 0o600
    plugin = dirs["plugin"]
    assert claude_calls(claude) == [f"plugin marketplace add {plugin}", f"plugin install {PLUGIN_ID}"]
    assert "ok    plugin" in first and "ok    interpreter" in first, first
    for name in ("omniclaude", "omniclaude-consumer"):
        assert os.readlink(dirs["bin"] / name) == str(dirs["data"] / "venv" / "bin" / name)
    assert f'export PATH="{dirs["bin"]}:$PATH"' in first  # the bin dir is not on this PATH
    assert "warn  kafka       not configured" in first  # no Kafka: still a success
    before = snapshot(home)

    second = ok(installer.run(home, path=path))
    assert snapshot(home) == before
    assert claude_calls(claude) == [f"plugin marketplace add {plugin}", f"plugin install {PLUGIN_ID}"]
    assert "up to date in the venv" in second
    assert f"marketplace omniclaude-local already added from {plugin}" in second
    assert f"plugin {PLUGIN_ID} already installed" in second

    # --dry-run, installed or not, changes nothing either
    ok(installer.run(home, "--dry-run", "--topic-prefix", "other", path=path))
    ok(installer.run(home, "--uninstall", "--dry-run", path=path))
    assert snapshot(home) == before

    spool = record_one_event(installer, home)
    out = ok(installer.run(home, "--uninstall", "--keep-data", path=path))
    assert claude_calls(claude)[2:] == [f"plugin uninstall {PLUGIN_ID}", "plugin marketplace remove omniclaude-local"]
    assert f"keeping {dirs['state']}" in out
    assert all(rel.startswith(".local/state/omniclaude") for rel in ours(home)), ours(home)
    assert sum(p.read_text().count("\n") for p in spool.glob("*.jsonl")) == 1

    ok(installer.run(home, "--uninstall", path=path))  # Kafka is not configured: nothing to flush
    assert ours(home) == []


def test_dry_run_on_a_fresh_home_prints_every_step_and_changes_nothing(installer: Installer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    claude = fake_claude(tmp_path / "claude")
    out = ok(
        installer.run(
            home,
            "--dry-run",
            "--kafka-bootstrap-servers",
            "k:9092",
            "--database-url",
            "postgresql://me:hunter2@db/x",
            path=installer.path(claude / "bin"),
        )
    )
    assert snapshot(home) == {}
    assert claude_calls(claude, changes_only=False) == []
    dirs = dirs_of(home)
    for expected in (
        f"would create {dirs['config']} (mode 0700)",
        f"would create {dirs['config'] / 'config.env'}",
        f"would create {dirs['config'] / 'secrets.env'}",
        "set OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS=k:9092",
        "set OMNICLAUDE_DATABASE_URL=postgresql://me:***@db/x",
        f"-m venv {dirs['data'] / 'venv'}",
        "would run: " + str(dirs["data"] / "venv" / "bin" / "python") + " -m pip install",
        f"recording {dirs['data'] / 'venv' / 'bin' / 'python'} in {dirs['data'] / 'python'}",
        f"plugin marketplace add {dirs['plugin']}",
        f"plugin install {PLUGIN_ID}",
        f"would link {dirs['bin'] / 'omniclaude'} -> {dirs['data'] / 'venv' / 'bin' / 'omniclaude'}",
        "would run: " + str(dirs["data"] / "venv" / "bin" / "omniclaude") + " doctor",
        "dry run complete: nothing was changed",
    ):
        assert expected in out
    assert "hunter2" not in out


# -- Python missing, too old, broken, without venv ---------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            None,
            "python3 is not on PATH: omniclaude needs Python >= 3.10 (Debian/Ubuntu: apt-get install python3 "
            "python3-venv; macOS: brew install python), or pass --python /path/to/python3",
        ),
        ("echo 3.8.10", "is Python 3.8.10, but omniclaude needs Python >= 3.10: install a newer Python"),
        (
            "echo 'error while loading shared libraries' >&2; exit 1",
            "does not run (it exited with an error): omniclaude needs a working Python >= 3.10",
        ),
        (
            'case "$*" in *"import venv"*) exit 1 ;; *) echo 3.11.4 ;; esac',
            "(Python 3.11.4) has no venv module or no ensurepip: install the package python3-venv "
            "(Debian/Ubuntu: apt-get install python3-venv, or python3.11-venv)",
        ),
    ],
    ids=["missing", "too-old", "broken", "no-venv"],
)
def test_an_unusable_python_is_named_exactly(
    installer: Installer, tmp_path: Path, script: str | None, message: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    fake = tmp_path / "fake"
    fake.mkdir()
    if script is not None:
        (fake / "python3").write_text(f"#!/bin/sh\n{script}\n")
        (fake / "python3").chmod(0o755)
    done = installer.run(home, path=os.pathsep.join([str(fake), str(installer.tools)]))
    assert done.returncode == 1
    assert message in done.stderr
    if script is not None:
        assert f"install.sh: {fake / 'python3'}" in done.stderr
    assert snapshot(home) == {}


def test_usage_errors_exit_2(installer: Installer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for args in (["--bogus"], ["--keep-data"], ["--topic-prefix"], ["--uninstall", "--topic-prefix", "x"]):
        done = installer.run(home, *args, pip=False)
        assert done.returncode == 2, args
        assert "see ./install.sh --help" in done.stderr
    help_text = ok(installer.run(home, "--help", pip=False))
    for flag in (
        "--kafka-bootstrap-servers",
        "--kafka-security-protocol",
        "--kafka-sasl-mechanism",
        "--kafka-sasl-username",
        "--kafka-sasl-password",
        "--kafka-ssl-cafile",
        "--kafka-ssl-certfile",
        "--kafka-ssl-keyfile",
        "--topic-prefix",
        "--database-url",
        "--capture-mode",
        "--reset-config",
        "--dry-run",
        "--uninstall",
        "--keep-data",
        "--pip-args",
        "--python",
    ):
        assert flag in help_text
    assert snapshot(home) == {}


# -- the settings files ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(
    checkout: Path, wheelhouse: Path, tools: Path, python_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Installer, Path]]:
    """One installed home (no claude on PATH) shared by the settings tests; each resets the files first."""
    scratch = tmp_path_factory.mktemp("settings")
    home = scratch / "home"
    home.mkdir()
    installer = Installer(checkout, wheelhouse, tools, python_dir, scratch)
    ok(installer.run(home))
    yield installer, home


def settings_of(home: Path) -> tuple[dict[str, str], dict[str, str]]:
    config = dirs_of(home)["config"]
    return (parse_env_file((config / "config.env").read_text()), parse_env_file((config / "secrets.env").read_text()))


def test_flags_replace_env_fills_and_reset_rewrites(installed: tuple[Installer, Path]) -> None:
    installer, home = installed
    out = ok(
        installer.run(
            home,
            "--reset-config",
            "--capture-mode",
            "hash",
            "--kafka-sasl-password",
            " s3cr=t ",
            "--database-url",
            "postgresql://me:hunter2@db:5432/x",
            "--kafka-ssl-cafile",
            "ca.pem",
            extra={"OMNICLAUDE_TOPIC_PREFIX": "team"},
        )
    )
    config, secrets = settings_of(home)
    assert config == {
        "OMNICLAUDE_CAPTURE_MODE": "hash",
        "OMNICLAUDE_TOPIC_PREFIX": "team",
        "OMNICLAUDE_KAFKA_SSL_CAFILE": str(installer.scratch / "ca.pem"),
    }  # made absolute
    assert secrets == {
        "OMNICLAUDE_KAFKA_SASL_PASSWORD": " s3cr=t ",
        "OMNICLAUDE_DATABASE_URL": "postgresql://me:hunter2@db:5432/x",
    }
    assert "hunter2" not in out and "s3cr=t" not in out
    assert "set OMNICLAUDE_DATABASE_URL=postgresql://me:***@db:5432/x" in out
    assert "set OMNICLAUDE_KAFKA_SASL_PASSWORD=***" in out

    # the environment only fills what the files lack; a flag replaces; an empty flag removes
    config_file = dirs_of(home)["config"] / "config.env"
    config_file.write_text(config_file.read_text() + "# mine\nOMNICLAUDE_HEALTH_URL=http://127.0.0.1:9/health\n")
    out = ok(
        installer.run(
            home,
            "--capture-mode",
            "",
            "--topic-prefix",
            "ops",
            extra={
                "OMNICLAUDE_KAFKA_SASL_USERNAME": "bob",
                "OMNICLAUDE_TOPIC_PREFIX": "ignored",
                "OMNICLAUDE_DATABASE_URL": "postgresql://other@db/y",
            },
        )
    )
    config, secrets = settings_of(home)
    assert config["OMNICLAUDE_TOPIC_PREFIX"] == "ops"
    assert config["OMNICLAUDE_KAFKA_SASL_USERNAME"] == "bob"
    assert "OMNICLAUDE_CAPTURE_MODE" not in config
    assert config["OMNICLAUDE_HEALTH_URL"] == "http://127.0.0.1:9/health"  # a hand-added line is kept
    assert "# mine" in config_file.read_text()
    assert secrets["OMNICLAUDE_DATABASE_URL"] == "postgresql://me:hunter2@db:5432/x"
    assert "kept OMNICLAUDE_DATABASE_URL=postgresql://me:***@db:5432/x from the file" in out
    assert "removed OMNICLAUDE_CAPTURE_MODE" in out

    # nothing to change: the files stay byte for byte, and a wrong mode is repaired
    before = snapshot(dirs_of(home)["config"])
    ok(installer.run(home, "--topic-prefix", "ops"))
    assert snapshot(dirs_of(home)["config"]) == before
    (dirs_of(home)["config"] / "secrets.env").chmod(0o644)
    ok(installer.run(home))
    assert stat.S_IMODE((dirs_of(home)["config"] / "secrets.env").stat().st_mode) == 0o600

    ok(installer.run(home, "--reset-config"))
    assert settings_of(home) == ({}, {})


def test_an_invalid_setting_is_refused_before_anything_changes(installed: tuple[Installer, Path]) -> None:
    installer, home = installed
    before = snapshot(home)
    done = installer.run(home, "--capture-mode", "everything")
    assert done.returncode == 2
    assert "install.sh: --capture-mode must be one of full, redacted, hash, off" in done.stderr
    done = installer.run(home, extra={"OMNICLAUDE_KAFKA_SECURITY_PROTOCOL": "TLS"}, pip=False)
    assert done.returncode == 2
    assert "OMNICLAUDE_KAFKA_SECURITY_PROTOCOL must be one of PLAINTEXT" in done.stderr
    assert snapshot(home) == before


# -- the real Claude Code ----------------------------------------------------------------------------------


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.claude
def test_the_real_claude_code_gets_the_clean_plugin_and_each_update(installer: Installer, tmp_path: Path) -> None:
    from tests.harness.claude_code import ClaudeCodeUnavailable, claude_env, ensure_claude_code

    try:
        claude = ensure_claude_code()
    except ClaudeCodeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    # A checkout after `scripts/test`: a .venv (and caches) next to the sources must not reach Claude Code.
    checkout = tmp_path / "checkout"
    shutil.copytree(installer.checkout, checkout)
    (checkout / ".venv" / "lib").mkdir(parents=True)
    (checkout / ".venv" / "lib" / "big.bin").write_bytes(b"\0" * (4 << 20))
    installer = dataclasses.replace(installer, checkout=checkout)
    home = tmp_path / "home"
    home.mkdir()
    env = claude_env(home, "http://127.0.0.1:9")  # offline: nothing here talks to the API
    path = installer.path(claude.parent)
    extra = {key: value for key, value in env.items() if key not in ("PATH", "HOME") and not key.startswith("XDG_")}
    extra["TMPDIR"] = str(home / "tmp")
    (home / "tmp").mkdir()
    plugin = dirs_of(home)["plugin"]

    out = ok(installer.run(home, path=path, extra=extra))
    assert "ok    plugin      omniclaude@omniclaude-local" in out

    def listing(*args: str) -> list[dict[str, object]]:
        done = subprocess.run(
            [str(claude), "plugin", *args, "--json"],
            env={**env, "PATH": path},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        parsed: list[dict[str, object]] = json.loads(done.stdout)
        return parsed

    entry = {e["id"]: e for e in listing("list")}[PLUGIN_ID]
    assert entry["readFromFolder"] == str(plugin)
    assert entry["enabled"] is True
    assert f"Claude Code has loaded {entry['version']}" in out
    assert {"name": "omniclaude-local", "path": str(plugin)}.items() <= {
        key: value
        for e in listing("marketplace", "list")
        if e["name"] == "omniclaude-local"
        for key, value in e.items()
    }.items()
    cache = home / ".claude" / "plugins" / "cache"
    assert not list(cache.rglob(".venv")) and not list(plugin.rglob(".venv"))
    assert tree_size(cache) <= tree_size(plugin) < 5 << 20
    assert sorted(p.name for p in plugin.iterdir()) == [".claude-plugin", "hooks", "lib", "skills"]

    # an edit to a hook file, then install.sh: the plugin folder and Claude Code's copy have it
    capture = checkout / "hooks" / "capture.py"
    capture.write_text(capture.read_text() + "# edited\n")
    out = ok(installer.run(home, path=path, extra=extra))
    assert (plugin / "hooks" / "capture.py").read_text().endswith("# edited\n")
    updated = {e["id"]: e for e in listing("list")}[PLUGIN_ID]
    assert updated["version"] != entry["version"]
    assert Path(str(updated["installPath"]), "hooks", "capture.py").read_text().endswith("# edited\n")
    assert f"Claude Code has loaded {updated['version']}" in out

    ok(installer.run(home, "--uninstall", path=path, extra=extra))
    assert PLUGIN_ID not in {e["id"] for e in listing("list")}
    assert "omniclaude-local" not in {e["name"] for e in listing("marketplace", "list")}
    assert not plugin.exists()
    # what is left is Claude Code's own copy in its plugin cache, marked orphaned, which it cleans itself
    assert [rel for rel in ours(home) if not rel.startswith(".claude/plugins/cache/")] == []


@pytest.mark.postgres
def test_the_readme_commands_run_by_their_bare_names(installed: tuple[Installer, Path], database_url: str) -> None:
    installer, home = installed
    bin_dir = dirs_of(home)["bin"]
    path = installer.path(bin_dir)
    out = ok(installer.run(home, path=path))
    assert "add this line to your shell" not in out  # the bin dir is on this PATH
    env = installer.env(home, path=path, extra={"OMNICLAUDE_DATABASE_URL": database_url})
    for command in (
        ["omniclaude", "status"],
        ["omniclaude", "tail"],
        ["omniclaude", "db", "upgrade"],
        ["omniclaude-consumer", "--help"],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, (command, done.stdout, done.stderr)


# -- Kafka: the uninstall ships what waits in the spool first -----------------------------------------------


def test_uninstall_flushes_the_spool_to_kafka_first(installer: Installer, tmp_path: Path, kafka: Any) -> None:
    home = tmp_path / "home"
    home.mkdir()
    ok(installer.run(home))
    record_one_event(installer, home)  # Kafka not configured yet: no forwarder ships it
    prefix = f"install-{uuid.uuid4().hex[:8]}"
    out = ok(installer.run(home, "--kafka-bootstrap-servers", kafka.bootstrap, "--topic-prefix", prefix))
    assert f"set OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS={kafka.bootstrap}" in out

    out = ok(installer.run(home, "--uninstall"))
    assert "spool: flushing 1 pending event(s) to Kafka before removing it" in out
    assert "flushed 1 event(s) to Kafka" in out
    assert ours(home) == []
