"""Install and run the real Claude Code client, offline, for tests.

* :func:`ensure_claude_code` installs ``@anthropic-ai/claude-code`` from the
  npm registry into the user cache directory once per version and returns the
  ``claude`` executable; later calls only check a marker file.
* :func:`prepare_home` and :func:`claude_env` build an isolated ``HOME`` and
  environment: the session reads and writes nothing outside the test's
  directories and talks to nothing but the loopback stand-in of the Messages
  API (``tests/harness/messages_api.py``).
* :func:`run_claude` runs one non-interactive session
  (``claude -p <prompt> --dangerously-skip-permissions --output-format json``);
  :func:`validate_plugin` runs ``claude plugin validate``;
  :func:`install_plugin` installs a plugin through a directory marketplace,
  the way users install omniclaude.
* :func:`make_recorder_plugin` writes a throw-away plugin whose command hook,
  registered on every hook event, appends each hook's stdin to a JSON-lines
  file (the format of ``tests/fixtures/claude-code-2.1.328-session.jsonl``);
  :func:`read_hook_log` reads it back.

What the client needs to run offline (checked with 2.1.328): nothing in the
home directory. In ``-p`` mode there is no onboarding, no trust dialog and no
API-key approval; ``ANTHROPIC_API_KEY`` is used as given. As root,
``--dangerously-skip-permissions`` also needs ``IS_SANDBOX=1``. With
``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`` the only connections the client
opens go to ``ANTHROPIC_BASE_URL``; without it, it resolves other hosts and
sends ``HEAD /api/hello`` to the base URL.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_VERSION",
    "HOOK_EVENTS",
    "ClaudeCodeUnavailable",
    "ClaudeResult",
    "cache_root",
    "claude_env",
    "ensure_claude_code",
    "init_git_repo",
    "install_plugin",
    "make_recorder_plugin",
    "prepare_home",
    "read_hook_log",
    "run_claude",
    "validate_plugin",
]

DEFAULT_VERSION = "2.1.328"
PACKAGE = "@anthropic-ai/claude-code"
MARKER_FILE = ".omniclaude-installed"
DUMMY_API_KEY = "sk-ant-api03-omniclaude-offline-test-key"

# Variables carried over from the caller's environment; everything else (notably
# CLAUDE_*, ANTHROPIC_* and OMNICLAUDE_* of an outer session) is dropped.
PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "SHELL")

# Every hook event Claude Code 2.1.328 accepts in hooks.json, in its own order.
HOOK_EVENTS = (
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "SessionStart",
    "SessionEnd",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "PreModelSwitch",
    "PostModelSwitch",
    "PermissionRequest",
    "PermissionDenied",
    "Setup",
    "TeammateIdle",
    "TaskCreated",
    "TaskCompleted",
    "Elicitation",
    "ElicitationResult",
    "ConfigChange",
    "WorktreeCreate",
    "WorktreeRemove",
    "InstructionsLoaded",
    "CwdChanged",
    "FileChanged",
    "DirectoryAdded",
    "MessageDisplay",
)


class ClaudeCodeUnavailable(RuntimeError):
    """The client cannot be installed here (no npm, or the install failed)."""


# installing ---------------------------------------------------------------


def cache_root() -> Path:
    """``platformdirs.user_cache_dir("omniclaude")``, with the XDG rule as fallback."""
    try:
        import platformdirs
    except ImportError:  # the test venv has it; keep the module usable without
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "omniclaude"
    return Path(platformdirs.user_cache_dir("omniclaude"))


def ensure_claude_code(version: str = DEFAULT_VERSION, root: Path | None = None) -> Path:
    """Return the ``claude`` executable of ``version``, installing it on first use.

    The install lives in ``<root>/claude-code-<version>/`` (``root`` defaults
    to :func:`cache_root`); npm's cache is ``npm-cache/`` inside it and is
    deleted after success, so npm writes nowhere else. A marker file is
    written once ``claude --version`` reports ``version``; while it exists,
    nothing runs. Concurrent callers serialize on a lock file. Raises
    :class:`ClaudeCodeUnavailable` with a one-line reason when npm is missing
    or the install fails.
    """
    prefix = (root or cache_root()) / f"claude-code-{version}"
    claude = prefix / "node_modules" / ".bin" / "claude"
    marker = prefix / MARKER_FILE
    if marker.is_file() and claude.exists():
        return claude
    npm = shutil.which("npm")
    if npm is None:
        raise ClaudeCodeUnavailable("npm not found on PATH: install Node.js with npm to run the claude tests")
    prefix.mkdir(parents=True, exist_ok=True)
    with _locked(prefix / ".install.lock"):
        if marker.is_file() and claude.exists():  # another process finished meanwhile
            return claude
        _npm_install(npm, prefix, f"{PACKAGE}@{version}")
        reported = _version_of(claude)
        if not reported.startswith(version):
            # npm may skip the postinstall that puts the native binary in place.
            _run_postinstall(prefix)
            reported = _version_of(claude)
        if not reported.startswith(version):
            raise ClaudeCodeUnavailable(f"{claude} reports {reported!r}, expected {version}")
        shutil.rmtree(prefix / "npm-cache", ignore_errors=True)
        marker.write_text(f"{PACKAGE}@{version} installed {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n")
    return claude


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _npm_install(npm: str, prefix: Path, spec: str) -> None:
    command = [
        npm,
        "install",
        "--prefix",
        str(prefix),
        "--cache",
        str(prefix / "npm-cache"),
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--loglevel=error",
        spec,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ClaudeCodeUnavailable(f"npm install {spec} failed with exit {done.returncode}: {last}")


def _run_postinstall(prefix: Path) -> None:
    node = shutil.which("node")
    script = prefix / "node_modules" / PACKAGE / "install.cjs"
    if node is not None and script.is_file():
        subprocess.run([node, str(script)], cwd=script.parent, capture_output=True, check=False)


def _version_of(claude: Path) -> str:
    try:
        done = subprocess.run([str(claude), "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not runnable: {exc}"
    return done.stdout.strip() or done.stderr.strip()


# environment ----------------------------------------------------------------


def prepare_home(home: Path) -> Path:
    """Make ``home`` an empty, isolated home directory for the client; return it.

    Creates ``home/.claude/`` and ``home/tmp/`` (the session's ``TMPDIR``).
    No settings are needed; the client writes ``~/.claude.json`` itself.
    """
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    (home / "tmp").mkdir(exist_ok=True)
    return home


def claude_env(home: Path, base_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for an isolated, offline Claude Code session.

    Starts from nothing but the :data:`PASSTHROUGH` variables of this process,
    so an outer Claude Code session or a developer's configuration cannot leak
    in. ``HOME``, ``XDG_*`` and the temporary directories (``TMPDIR``,
    ``CLAUDE_CODE_TMPDIR``, ``XDG_RUNTIME_DIR``, where the client keeps its
    task files and sockets) point into ``home``; the API goes to ``base_url``
    with a dummy key; updates, telemetry, error reporting, feature flags and
    all other non-essential traffic are off. ``extra`` is applied last and
    wins. Hooks and Bash tool calls inherit this environment.
    """
    tmp = home / "tmp"
    env = {key: os.environ[key] for key in PASSTHROUGH if key in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_RUNTIME_DIR=str(tmp),
        TMPDIR=str(tmp),
        CLAUDE_CODE_TMPDIR=str(tmp),
        TERM="dumb",
        ANTHROPIC_BASE_URL=base_url,
        ANTHROPIC_API_KEY=DUMMY_API_KEY,
        IS_SANDBOX="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_UPDATES="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        DISABLE_GROWTHBOOK="1",
        CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY="1",
    )
    env.update(extra or {})
    return env


def init_git_repo(path: Path) -> Path:
    """Create ``path`` as a git repository on branch ``main`` with one commit; return it."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "README.md").write_text("# scratch project\n")
    identity = ["-c", "user.name=omniclaude tests", "-c", "user.email=tests@omniclaude.invalid"]
    steps = (["init", "-q", "-b", "main"], ["add", "README.md"], [*identity, "commit", "-q", "-m", "init"])
    for args in steps:
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path


# running ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaudeResult:
    """A finished ``claude -p`` run: the process and the JSON object it printed.

    ``result`` is what ``--output-format json`` prints (keys include
    ``result``, ``is_error``, ``num_turns``, ``session_id``, ``subtype``);
    ``None`` when stdout was not one JSON object.
    """

    process: subprocess.CompletedProcess[str]
    result: dict[str, Any] | None

    @property
    def returncode(self) -> int:
        """The client's exit status."""
        return self.process.returncode

    @property
    def session_id(self) -> str | None:
        """The session id the client reported, if any."""
        value = (self.result or {}).get("session_id")
        return value if isinstance(value, str) else None

    def describe(self) -> str:
        """Exit status, stdout and stderr, for assertion messages."""
        return f"exit {self.process.returncode}\n--- stdout\n{self.process.stdout}\n--- stderr\n{self.process.stderr}"


def run_claude(
    claude: Path,
    prompt: str,
    cwd: Path,
    env: Mapping[str, str],
    plugin_dir: Path | None = None,
    *,
    extra_args: Sequence[str] = (),
    timeout: float = 120.0,
) -> ClaudeResult:
    """Run one session ``claude -p <prompt>`` in ``cwd`` and wait for it to end.

    Permissions are bypassed, ``plugin_dir`` (if any) is loaded for this
    session only (``--plugin-dir``), stdin is empty, and the result is
    printed as one JSON object. The call returns after ``SessionEnd`` hooks
    have run. Raises :class:`subprocess.TimeoutExpired` after ``timeout``
    seconds; a non-zero exit is returned, not raised.
    """
    command = [str(claude), "-p", prompt, "--dangerously-skip-permissions", "--output-format", "json"]
    if plugin_dir is not None:
        command += ["--plugin-dir", str(plugin_dir)]
    command += list(extra_args)
    done = subprocess.run(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    try:
        parsed = json.loads(done.stdout)
    except ValueError:
        parsed = None
    return ClaudeResult(done, parsed if isinstance(parsed, dict) else None)


def validate_plugin(
    claude: Path,
    target: Path,
    env: Mapping[str, str] | None = None,
    *,
    strict: bool = False,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``claude plugin validate --json [--strict] <target>``; return the process.

    ``target`` is a plugin directory, a marketplace directory or one manifest
    file. For a directory holding both manifests the client validates the
    marketplace and, through its ``"source": "./"`` entry, the plugin's
    manifest, hooks and skills. Exit 0 means valid; ``strict`` also fails on
    warnings (such as an unknown hook event, which the runtime ignores).
    stdout is the JSON report (``success``, ``manifest.errors``,
    ``manifest.warnings``, ``provides``). ``env`` defaults to this process's
    environment; pass :func:`claude_env` output to isolate ``HOME``.
    """
    command = [str(claude), "plugin", "validate", "--json"]
    if strict:
        command.append("--strict")
    command.append(str(target))
    return subprocess.run(
        command,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def install_plugin(
    claude: Path, marketplace_dir: Path, plugin_id: str, env: Mapping[str, str], timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Add ``marketplace_dir`` as a marketplace and install ``plugin_id`` (``name@marketplace``).

    Both steps work offline and write only under ``$HOME/.claude`` (user
    scope). The plugin directory is copied, all but ``.git`` (a ``.venv``
    inside it too), to ``~/.claude/plugins/cache/<marketplace>/<name>/<version>/``,
    yet sessions run a directory marketplace's plugin from its source folder:
    ``CLAUDE_PLUGIN_ROOT`` is the source directory and ``CLAUDE_PLUGIN_DATA``
    is ``~/.claude/plugins/data/<name>-<marketplace>/``. Returns the first
    failing step's process, else the install's.
    """
    for args in (["plugin", "marketplace", "add", str(marketplace_dir)], ["plugin", "install", plugin_id]):
        done = subprocess.run(
            [str(claude), *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            break
    return done


# hook recording -----------------------------------------------------------------

HOOK_LOG = "hook-events.jsonl"

_RECORDER = '''\
"""Append this hook's stdin and CLAUDE*/OMNICLAUDE* environment to hook-events.jsonl."""
import fcntl
import json
import os
import sys
import time

raw = sys.stdin.read()
try:
    payload = json.loads(raw)
except ValueError:
    payload = {"unparsed": raw}
env = {k: v for k, v in os.environ.items() if k.startswith(("CLAUDE", "OMNICLAUDE"))}
line = json.dumps({"received_at": time.time(), "stdin": payload, "env": env}) + "\\n"
log = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "hook-events.jsonl")
with open(log, "a", encoding="utf-8") as handle:
    fcntl.flock(handle, fcntl.LOCK_EX)
    handle.write(line)
'''


def make_recorder_plugin(
    directory: Path, name: str = "recorder", events: Iterable[str] = HOOK_EVENTS, timeout: int = 10
) -> Path:
    """Write a plugin into ``directory`` that records every hook it receives; return ``directory``.

    The plugin has ``.claude-plugin/plugin.json`` and ``hooks/hooks.json``
    registering, for each of ``events`` (matcher ``*``), a command hook that
    runs ``hooks/record.py`` with this interpreter. Each hook call appends
    ``{"received_at", "stdin", "env"}`` as one line to
    ``directory/hook-events.jsonl``; read it with :func:`read_hook_log`.
    Add skills or other files to ``directory`` as needed.
    """
    (directory / ".claude-plugin").mkdir(parents=True, exist_ok=True)
    (directory / "hooks").mkdir(exist_ok=True)
    manifest = {
        "name": name,
        "version": "0.0.1",
        "description": "Records every hook call (test helper).",
        "author": {"name": "omniclaude tests"},
    }
    (directory / ".claude-plugin" / "plugin.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (directory / "hooks" / "record.py").write_text(_RECORDER)
    command = f'"{sys.executable}" "${{CLAUDE_PLUGIN_ROOT}}/hooks/record.py"'
    handler = {"type": "command", "command": command, "timeout": timeout}
    hooks = {
        "description": "Test recorder: appends each hook's input to hook-events.jsonl and never decides.",
        "hooks": {event: [{"matcher": "*", "hooks": [handler]}] for event in events},
    }
    (directory / "hooks" / "hooks.json").write_text(json.dumps(hooks, indent=2) + "\n")
    return directory


def read_hook_log(plugin_dir: Path) -> list[dict[str, Any]]:
    """The records a :func:`make_recorder_plugin` plugin wrote, in the order written ([] if none).

    That is the order the events fired, except among hooks Claude Code runs
    concurrently (a background subagent's hooks interleave with the main
    agent's).
    """
    log = plugin_dir / HOOK_LOG
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


if __name__ == "__main__":  # python tests/harness/claude_code.py [VERSION]: install, print the path
    print(ensure_claude_code(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_VERSION))
