"""`<spool>/forwarder.state`: what the forwarder last did, for `omniclaude status`.

A small JSON object, replaced atomically: pid, started_at, last_delivery_at, delivered_total (over every
run), skipped_total (unreadable spool lines), last_error, last_error_at, stopped_at and exit_reason
(idle, stopped, failure-limit, drained, timeout). Times are UTC ISO 8601 strings. Writes after a
delivery are throttled to one a second; errors, start and exit are written at once. A state file that
cannot be written is not an error for the forwarder (it is only a report).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from omniclaude.envelope import iso_timestamp
from omniclaude.launcher import forwarder_running
from omniclaude.paths import open_private

STATE_NAME = "forwarder.state"
_WRITE_INTERVAL_SECONDS = 1.0
_FILE_MODE = 0o600
_MAX_STATE_BYTES = 64 * 1024
_COUNTERS = ("delivered_total", "skipped_total")


def _now_iso(wall: Callable[[], float]) -> str:
    return iso_timestamp(int(wall() * 1_000_000_000))


def read_state(spool_dir: str) -> dict[str, Any]:
    """Returns the saved state of a spool's forwarder ({} when there is none or it is unreadable)."""
    try:
        fd, _st = open_private(os.path.join(spool_dir, STATE_NAME), os.O_RDONLY)
        with open(fd, encoding="utf-8") as handle:
            data = json.loads(handle.read(_MAX_STATE_BYTES))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class StateFile:
    """The state of one spool's running forwarder, written to `forwarder.state`."""

    def __init__(self, spool_dir: str, wall: Callable[[], float] = time.time) -> None:
        self.path = os.path.join(spool_dir, STATE_NAME)
        self._wall = wall
        self._data: dict[str, Any] = {}
        self._written_at = float("-inf")
        self._dirty = False

    @property
    def data(self) -> dict[str, Any]:
        """The current state (a copy)."""
        return dict(self._data)

    def started(self, pid: int) -> None:
        """Begins a run: counters carry over from the previous state, the rest starts afresh."""
        previous = read_state(os.path.dirname(self.path))
        self._data = {
            "pid": pid,
            "started_at": _now_iso(self._wall),
            "last_delivery_at": previous.get("last_delivery_at"),
            "last_error": previous.get("last_error"),
            "last_error_at": previous.get("last_error_at"),
            "stopped_at": None,
            "exit_reason": None,
        }
        for name in _COUNTERS:
            value = previous.get(name)
            self._data[name] = value if isinstance(value, int) and value >= 0 else 0
        self.save(force=True)

    def delivered(self, count: int) -> None:
        """Records `count` events acknowledged by Kafka."""
        self._data["delivered_total"] = self._data.get("delivered_total", 0) + count
        self._data["last_delivery_at"] = _now_iso(self._wall)
        self.save()

    def skipped(self, count: int) -> None:
        """Records `count` unreadable spool lines (each also listed in errors.log)."""
        self._data["skipped_total"] = self._data.get("skipped_total", 0) + count
        self.save()

    def error(self, message: str) -> None:
        """Records the latest error (written at once)."""
        self._data["last_error"] = message
        self._data["last_error_at"] = _now_iso(self._wall)
        self.save(force=True)

    def stopped(self, reason: str) -> None:
        """Ends the run (written at once)."""
        self._data["stopped_at"] = _now_iso(self._wall)
        self._data["exit_reason"] = reason
        self.save(force=True)

    def save(self, force: bool = False) -> None:
        """Writes the state atomically, at most once a second unless `force`; never raises."""
        self._dirty = True
        now = time.monotonic()
        if not force and now - self._written_at < _WRITE_INTERVAL_SECONDS:
            return
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            fd, _st = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._data, handle, indent=1)
                handle.write("\n")
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return
        self._written_at = now
        self._dirty = False

    def flush(self) -> None:
        """Writes pending changes now."""
        if self._dirty:
            self.save(force=True)


def forwarder_status(spool_dir: str) -> dict[str, Any]:
    """Returns the forwarder part of `omniclaude status` for one spool; never raises.

    running (a forwarder holds the spool's lock now), pid (when running), started_at, last_delivery_at,
    delivered_total, skipped_total, last_error, last_error_at, and, for a forwarder that is not running,
    how its last run ended (stopped_at, exit_reason).
    """
    running = forwarder_running(spool_dir)
    state = read_state(spool_dir)
    status: dict[str, Any] = {"running": running, "pid": state.get("pid") if running else None}
    for name in ("started_at", "last_delivery_at", "delivered_total", "skipped_total", "last_error", "last_error_at"):
        status[name] = state.get(name)
    if not running:
        status["stopped_at"] = state.get("stopped_at")
        ended_cleanly = state.get("exit_reason") or not state.get("pid")
        status["exit_reason"] = state.get("exit_reason") if ended_cleanly else "ended without a clean stop"
    return status
