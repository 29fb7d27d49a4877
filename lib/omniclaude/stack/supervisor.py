"""The stack's supervisor: a detached process that starts every part, restarts any that dies, and stops
them all on SIGTERM.

Run by ``stack up`` as ``python -m omniclaude.stack.supervisor <stack dir>`` in its own session, with its
output in ``supervisor.log``. It holds ``supervisor.lock`` for its whole life (the sign that a stack
runs), writes its pid to ``supervisor.pid`` and its view of the parts to ``state.json``:
``{"supervisor": pid, "ready": bool, "stopping": bool, "parts": {name: {"pid", "state", "restarts",
"failures" (failed starts in a row), "error"}}}``. Start order: PostgreSQL (then the ``omniclaude``
database and the migrations), Kafka, the consumer, the dashboard; each is started (and retried) until it
runs before the next one, but for the dashboard, which is optional: the stack is ready without it, and it
is retried in the background. A part that exits is started again
after a pause that doubles with each quick failure (1 s up to 60 s; back to 1 s once it stayed up a
minute). SIGTERM or SIGINT stops the parts in
reverse order (consumer first, so it commits what is durable; PostgreSQL last) and exits 0.
The parts run with ``--pdeathsig KILL`` where ``setpriv`` exists, so they die with the supervisor.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from omniclaude.stack.layout import DATABASE, OPTIONAL_PARTS, Layout, read_json, write_json
from omniclaude.stack.parts import Part, build_parts
from omniclaude.stack.postgres import PostgresServer
from omniclaude.stack.process import StackError, log_tail

log = logging.getLogger("omniclaude.stack")

POLL_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
STABLE_SECONDS = 60.0


class _Stopping(Exception):
    """Raised by the signal handler while a part is starting, so the stop does not wait for it."""


def apply_migrations(postgres: PostgresServer) -> None:
    """Create the ``omniclaude`` database when missing and apply every pending migration."""
    import psycopg

    from omniclaude.db.migrations import upgrade

    url = postgres.ensure_database(DATABASE)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        for migration in upgrade(conn):
            log.info("applied migration %s", migration.label)


class Supervisor:
    """Starts, watches and stops the parts; see the module docstring."""

    def __init__(self, layout: Layout, parts: Mapping[str, Part]) -> None:
        self.layout = layout
        self.parts = dict(parts)
        self.state: dict[str, dict[str, Any]] = {
            name: {"pid": None, "state": "stopped", "restarts": 0, "failures": 0, "error": None} for name in self.parts
        }
        self._stop = False
        self._starting = False
        self._ready = False
        self._started_at: dict[str, float] = {}
        self._failures: dict[str, int] = dict.fromkeys(self.parts, 0)
        self._next_try: dict[str, float] = dict.fromkeys(self.parts, 0.0)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: stop soon; interrupt a start in progress."""
        self._stop = True
        if self._starting:
            self._starting = False
            raise _Stopping(f"signal {signum}")

    def run(self) -> int:
        """Start everything, then watch until asked to stop; stop everything; 0."""
        try:
            for name in self.parts:  # in order: each waits for the ones before it (an optional one tries once)
                while not self._stop and not self.parts[name].running:
                    time.sleep(max(0.0, self._next_try[name] - time.monotonic()))
                    self._start(name, first=True)
                    if name in OPTIONAL_PARTS:
                        break
            self._ready = not self._stop and self._essentials_running()
            self._save()
            if self._ready:
                log.info("ready")
            while not self._stop:
                time.sleep(POLL_SECONDS)
                self._watch()
        except _Stopping:
            pass
        finally:
            self._stop_all()
        return 0

    def _essentials_running(self) -> bool:
        return all(part.running for name, part in self.parts.items() if name not in OPTIONAL_PARTS)

    def _start(self, name: str, *, first: bool) -> None:
        part = self.parts[name]
        entry = self.state[name]
        entry.update(state="starting", error=None)
        self._save()
        self._starting = True
        try:
            part.start()
            if first and isinstance(part, PostgresServer):
                apply_migrations(part)
        except _Stopping:
            raise
        except Exception as exc:  # a part that fails to start is retried with backoff, never fatal
            self._starting = False
            part.kill()
            self._failures[name] += 1
            delay = min(BACKOFF_MAX_SECONDS, 2.0 ** (self._failures[name] - 1))
            self._next_try[name] = time.monotonic() + delay
            last = [line for line in log_tail(part.log_path, 5).splitlines() if line.strip()][-1:]
            error = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":") + (
                f" (its log ends: {last[0].strip()[:200]})" if last else ""
            )
            entry.update(state="failed", pid=None, error=error[:500], failures=self._failures[name])
            log.error("%s failed to start (retry in %.0f s): %s", name, delay, error)
            self._save()
            return
        self._starting = False
        self._started_at[name] = time.monotonic()
        entry.update(state="running", pid=part.pid, failures=0)
        log.info("%s running (pid %s)", name, part.pid)
        self._save()

    def _watch(self) -> None:
        for name, part in self.parts.items():
            if self._stop:
                return
            if part.running:
                if time.monotonic() - self._started_at.get(name, 0.0) > STABLE_SECONDS:
                    self._failures[name] = 0
                continue
            entry = self.state[name]
            if entry["state"] == "running":
                code = part.exit_code()
                part.kill()  # reap it and whatever is left of its process group
                self._failures[name] += 1
                delay = min(BACKOFF_MAX_SECONDS, 2.0 ** (self._failures[name] - 1))
                self._next_try[name] = time.monotonic() + delay
                entry.update(state="restarting", pid=None, error=f"exited with code {code}")
                log.warning("%s exited with code %s; restarting in %.0f s", name, code, delay)
                self._save()
            if time.monotonic() >= self._next_try[name]:
                entry["restarts"] += 1
                self._start(name, first=not self._ready and name == "postgres")
                if not self._ready and self._essentials_running():
                    self._ready = True
                    log.info("ready")
                    self._save()

    def _stop_all(self) -> None:
        self._starting = False  # a second signal now only repeats the request
        self._ready = False
        for name in reversed(list(self.parts)):
            part = self.parts[name]
            was_running = part.running
            clean = part.stop()
            if was_running:
                log.info("%s stopped%s", name, "" if clean else " (killed: it did not stop in time)")
            self.state[name].update(state="stopped", pid=None)
        self._save(stopping=True)

    def _save(self, *, stopping: bool = False) -> None:
        write_json(
            self.layout.state,
            {"supervisor": os.getpid(), "ready": self._ready, "stopping": stopping or self._stop, "parts": self.state},
        )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m omniclaude.stack.supervisor STACK_DIR``: supervise until SIGTERM; the exit code."""
    from omniclaude.config import load_settings_or_defaults

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m omniclaude.stack.supervisor STACK_DIR", file=sys.stderr)
        return 2
    layout = Layout(Path(args[0]))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("kafka").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    lock = layout.supervisor_lock.open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.error("another supervisor runs for %s", layout.root)
        return 1
    settings = load_settings_or_defaults()
    record = read_json(layout.record)
    try:
        parts = build_parts(layout, record, settings.environ, Path(settings.dirs.cache), pdeathsig=True)
    except (StackError, KeyError) as exc:
        log.error("cannot set up the stack: %s", exc)
        return 1
    supervisor = Supervisor(layout, parts)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    layout.pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
    log.info("supervisor %d starting %s in %s", os.getpid(), ", ".join(parts), layout.root)
    try:
        return supervisor.run()
    finally:
        layout.pid_file.unlink(missing_ok=True)
        log.info("supervisor stopped")


if __name__ == "__main__":
    sys.exit(main())
