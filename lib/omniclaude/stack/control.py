"""`omniclaude stack up|down|status|logs` as library calls: start, stop, inspect and read the local stack.

Contract:
- :func:`up` is idempotent and safe to run twice at once (``up.lock``): with a supervisor already running
  it only waits until the stack is ready. Otherwise it checks for java and the PostgreSQL server binaries
  (one line each when missing), fetches the Kafka jars once (checksummed), picks the ports (the recorded
  ones, else the defaults; one in use by another program is replaced by a free one, with a line saying
  so) and records them, starts the detached supervisor, waits until every part is ready, and points the
  client settings at the stack. A part that cannot start makes it stop what started and raise.
- :func:`down` stops the supervisor (which stops every part cleanly), anything left of the parts, and the
  spool's forwarder; the data stays. ``purge=True`` also removes the data and the client settings that
  still point at the stack.
- :func:`status` probes each part: port, pid, health, data size and memory (RSS).
- Nothing here prints: lines for the user go to the ``say`` callable. Secrets (the database password)
  never appear in them. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omniclaude.paths import resolve_dirs
from omniclaude.stack.jars import ensure_kafka_jars
from omniclaude.stack.layout import DEFAULT_PORTS, OPTIONAL_PARTS, PARTS, Layout, read_json, write_json
from omniclaude.stack.parts import client_environment, dashboard_available, http_ok, require_tools
from omniclaude.stack.process import StackError, free_port, log_tail, port_free, port_open

__all__ = ["PartStatus", "down", "layout_for", "logs", "status", "supervisor_running", "up"]

Say = Callable[[str], None]
UP_TIMEOUT_S = 300.0
DOWN_TIMEOUT_S = 90.0
START_ATTEMPTS = 3
_PORT_NAMES = {
    "postgres": "PostgreSQL",
    "kafka": "Kafka",
    "kafka_controller": "Kafka controller",
    "consumer": "consumer health",
    "dashboard": "dashboard",
}


def layout_for(environ: Mapping[str, str]) -> Layout:
    """The stack's layout for this user (inside omniclaude's data dir)."""
    return Layout.for_data_dir(resolve_dirs(environ).data)


@contextlib.contextmanager
def _locked(layout: Layout) -> Iterator[None]:
    layout.ensure()
    with layout.up_lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def supervisor_running(layout: Layout) -> bool:
    """Whether a supervisor holds this stack's lock now."""
    try:
        fd = os.open(layout.supervisor_lock, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _supervisor_pid(layout: Layout) -> int | None:
    try:
        return int(layout.pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _choose_ports(recorded: Mapping[str, int], say: Say) -> dict[str, int]:
    chosen: dict[str, int] = {}
    for name, default in DEFAULT_PORTS.items():
        wanted = recorded.get(name) or default
        if wanted in chosen.values() or not port_free(wanted):
            port = free_port()
            while port in chosen.values():
                port = free_port()
            kind = "recorded" if recorded.get(name) else "default"
            say(f"port {wanted} ({kind} for {_PORT_NAMES[name]}) is in use by another program: using {port} instead")
            wanted = port
        chosen[name] = wanted
    return chosen


def _part_errors(layout: Layout) -> list[str]:
    """The parts that failed to start ``START_ATTEMPTS`` times in a row (a first failure may be passing:
    the processes of a crashed stack take a moment to go)."""
    parts = read_json(layout.state).get("parts", {})
    return [
        f"{name}: {entry.get('error')}"
        for name, entry in parts.items()
        if isinstance(entry, dict)
        and name not in OPTIONAL_PARTS
        and entry.get("state") == "failed"
        and entry.get("failures", 0) >= START_ATTEMPTS
    ]


def _wait_ready(layout: Layout, process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_json(layout.state)
        if state.get("ready") and not state.get("stopping") and supervisor_running(layout):
            return
        failed = _part_errors(layout)
        exited = process is not None and process.poll() is not None
        if failed or exited or (process is None and not supervisor_running(layout)):
            detail = "; ".join(failed) or f"the supervisor exited; its log {layout.supervisor_log}:\n" + log_tail(
                layout.supervisor_log, 20
            )
            raise StackError(f"the local stack did not start: {detail}")
        time.sleep(0.3)
    raise StackError(f"the local stack was not ready after {timeout:.0f} s; see {layout.supervisor_log}")


def up(environ: Mapping[str, str], *, say: Say, timeout: float = UP_TIMEOUT_S) -> dict[str, Any]:
    """Start the stack unless it runs; the record (ports and password). Raises StackError (its subclass
    MissingToolError for a missing java or PostgreSQL) when it cannot."""
    layout = layout_for(environ)
    with _locked(layout):
        if supervisor_running(layout):
            _wait_ready(layout, None, timeout)
            say(f"the local stack already runs (supervisor pid {_supervisor_pid(layout)})")
            return read_json(layout.record)
        _kill_leftovers(layout)
        require_tools(environ)
        ensure_kafka_jars(Path(resolve_dirs(environ).cache), on_fetch=say)
        record = read_json(layout.record)
        record["ports"] = _choose_ports(record.get("ports") or {}, say)
        record["postgres_password"] = record.get("postgres_password") or secrets.token_urlsafe(24)
        write_json(layout.record, record)
        layout.state.unlink(missing_ok=True)
        with layout.supervisor_log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "omniclaude.stack.supervisor", str(layout.root)],
                env=dict(environ),
                cwd=layout.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        say(f"starting the local stack in {layout.root} (supervisor pid {process.pid})")
        try:
            _wait_ready(layout, process, timeout)
        except StackError:
            _stop_supervisor(layout, process.pid)
            _kill_leftovers(layout)
            raise
    from omniclaude.stack.client import apply_settings

    wanted = client_environment(record)
    changed = apply_settings(environ, wanted)
    if changed:
        say(f"client settings now point at the local stack: {', '.join(changed)}")
    for key in wanted:
        if key in environ and environ[key] != wanted[key]:
            say(f"note: {key} is set in your environment and wins over the settings files: unset it to use the stack")
    return record


def _stop_supervisor(layout: Layout, pid: int | None) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + DOWN_TIMEOUT_S
    while supervisor_running(layout) and time.monotonic() < deadline:
        time.sleep(0.2)
    if supervisor_running(layout):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _command_line(pid: int) -> str:
    try:
        return subprocess.run(
            ["ps", "-p", str(pid), "-o", "args="], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _kill_leftovers(layout: Layout) -> None:
    """SIGKILL what is left of the parts the state still names (after a crash of the supervisor): the
    members of each part's process group that are still ours (their command line names the stack's folder
    or an omniclaude program, or they are PostgreSQL's helper processes)."""
    parts = read_json(layout.state).get("parts", {})
    groups = {entry.get("pid") for entry in parts.values() if isinstance(entry, dict)}
    groups = {pid for pid in groups if isinstance(pid, int) and pid > 1}
    if not groups:
        return
    marks = (str(layout.root), "omniclaude_consumer", "omniclaude dashboard")
    for pid, pgid, line in _processes():
        if pgid in groups and (any(mark in line for mark in marks) or line.startswith("postgres")):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _processes() -> list[tuple[int, int, str]]:
    """(pid, process group, command line) of every process, from ps."""
    try:
        text = subprocess.run(
            ["ps", "-A", "-o", "pid=,pgid=,args="], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in text.splitlines():
        fields = line.split(None, 2)
        if len(fields) == 3 and fields[0].isdigit() and fields[1].isdigit():
            found.append((int(fields[0]), int(fields[1]), fields[2]))
    return found


def _stop_forwarder(environ: Mapping[str, str], say: Say) -> None:
    from omniclaude.forwarder.state import read_state
    from omniclaude.launcher import forwarder_running

    spool = resolve_dirs(environ).spool
    if not os.path.isdir(spool) or not forwarder_running(spool):
        return
    pid = read_state(spool).get("pid")
    if not isinstance(pid, int) or "forward" not in _command_line(pid):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while forwarder_running(spool) and time.monotonic() < deadline:
        time.sleep(0.1)
    say(f"stopped the spool's forwarder (pid {pid}); events wait in the spool until the next `stack up`")


def down(environ: Mapping[str, str], *, say: Say, purge: bool = False) -> None:
    """Stop the stack (keeping its data unless ``purge``)."""
    layout = layout_for(environ)
    if not layout.root.exists():
        say("no local stack here: nothing to stop")
        return
    with _locked(layout):
        if supervisor_running(layout):
            pid = _supervisor_pid(layout)
            say(f"stopping the local stack (supervisor pid {pid})")
            _stop_supervisor(layout, pid)
        else:
            say("the local stack is not running")
        _kill_leftovers(layout)
        _stop_forwarder(environ, say)
        if purge:
            record = read_json(layout.record)
            if record.get("ports"):
                from omniclaude.stack.client import remove_settings

                removed = remove_settings(environ, client_environment(record))
                if removed:
                    say(f"removed the client settings that pointed at it: {', '.join(removed)}")
            shutil.rmtree(layout.root, ignore_errors=True)
            say(f"removed {layout.root} (every event stored in the local stack)")
    if not purge:
        say(f"stopped; the data stays in {layout.root} (`omniclaude stack up` brings it back)")


@dataclass(frozen=True)
class PartStatus:
    """One line of `stack status`."""

    name: str
    state: str
    port: int | None
    pid: int | None
    health: str
    data_bytes: int
    rss_bytes: int
    restarts: int


def _disk_usage(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


def _rss_by_group() -> dict[int, int]:
    """RSS in bytes summed per process group, and per process (keyed by pid, negated)."""
    try:
        text = subprocess.run(
            ["ps", "-A", "-o", "pid=,pgid=,rss="], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    groups: dict[int, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 3 or not all(f.isdigit() for f in fields):
            continue
        pid, pgid, rss = (int(f) for f in fields)
        groups[pgid] = groups.get(pgid, 0) + rss * 1024
        groups[-pid] = rss * 1024
    return groups


def _health(name: str, port: int | None, record: Mapping[str, Any]) -> str:
    if port is None:
        return "-"
    if name == "postgres":
        import psycopg

        from omniclaude.stack.parts import database_url

        try:
            with psycopg.connect(database_url(record), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return "down"
        return "ok"
    if name == "kafka":
        from omniclaude.stack.kafka import kafka_probe

        return "ok" if kafka_probe(f"127.0.0.1:{port}") is None else "down"
    if name == "consumer":
        return "ok" if http_ok(f"http://127.0.0.1:{port}/health") else "down"
    return "ok" if port_open(port) else "down"


def status(environ: Mapping[str, str]) -> list[PartStatus]:
    """Every part of the stack, and the supervisor first, as the stack's files and probes see it now."""
    layout = layout_for(environ)
    record = read_json(layout.record)
    ports = record.get("ports") or {}
    running = supervisor_running(layout)
    state = read_json(layout.state) if running else {}
    rss = _rss_by_group()
    pid = _supervisor_pid(layout) if running else None
    rows = [
        PartStatus(
            "supervisor",
            "running" if running else "stopped",
            None,
            pid,
            "ok" if running else "-",
            0,
            rss.get(-pid, 0) if pid else 0,
            0,
        )
    ]
    names = [name for name in PARTS if name != "dashboard" or dashboard_available() or name in state.get("parts", {})]
    for name in names:
        entry = state.get("parts", {}).get(name, {})
        part_pid = entry.get("pid") if running else None
        port = ports.get(name)
        health = _health(name, port, record) if running and port else "-"
        rows.append(
            PartStatus(
                name,
                entry.get("state", "stopped") if running else "stopped",
                port,
                part_pid,
                health,
                _disk_usage(layout.part_dir(name)),
                rss.get(part_pid, 0) if isinstance(part_pid, int) else 0,
                int(entry.get("restarts", 0)),
            )
        )
    return rows


def log_parts() -> tuple[str, ...]:
    """The names `stack logs` accepts."""
    return ("supervisor", *PARTS)


def logs(environ: Mapping[str, str], part: str, *, lines: int, follow: bool, say: Say) -> int:
    """Print the last ``lines`` lines of a part's log (then follow it); 1 when there is no such log."""
    path = layout_for(environ).log_path(part)
    if not path.is_file():
        say(f"no log yet at {path}")
        return 1
    say(log_tail(path, lines))
    if not follow:
        return 0
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                chunk = handle.read()
                if chunk:
                    say(chunk.decode("utf-8", "replace").rstrip("\n"))
                else:
                    time.sleep(0.5)
    return 0
