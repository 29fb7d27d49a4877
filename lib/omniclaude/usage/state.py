"""`<state dir>/usage.json`: a byte cursor per transcript file, and the reader's counters.

One JSON object, replaced atomically (0600), read and written under an exclusive lock on
`<state dir>/usage.lock` so two forwarders never interleave; every file is opened with
`paths.open_private` (no symbolic link, this user's, private):

- `files`: transcript path -> `{"offset", "head", "size", "context", "agent_id", "agent_type",
  "touched_at"}`. `offset` is the first byte not yet read (always a line start); `head` the SHA-256 of
  the file's first `min(offset, HEAD_BYTES)` bytes, so a rewritten file is noticed even when it grew;
  `context` is the project and session the file belongs to (from the hook event that named it).
- `counters`: responses emitted, bytes read, files missing or unreadable, malformed lines, responses of
  an unknown model (no price), rewritten files; `unknown_models` lists such model names (at most 20);
  `last_problem` and `last_problem_at` describe the most recent problem.

A missing or unreadable state file reads as empty (everything is re-read: the event ids make that
harmless).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from omniclaude import _lock
from omniclaude.envelope import iso_timestamp
from omniclaude.paths import ensure_dir, open_private

STATE_NAME = "usage.json"
LOCK_NAME = "usage.lock"
HEAD_BYTES = 4096
MAX_UNKNOWN_MODELS = 20
COUNTERS = (
    "responses",
    "bytes_read",
    "missing_files",
    "unreadable_files",
    "malformed_lines",
    "unknown_model_responses",
    "rewritten_files",
)


def read_usage_state(state_dir: str) -> dict[str, Any]:
    """The saved state ({"files": {}, "counters": {...}} when there is none or it is unreadable)."""
    try:
        fd, _st = open_private(os.path.join(state_dir, STATE_NAME), os.O_RDONLY)
        with os.fdopen(fd, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        data = {}  # missing, unreadable, not private or not JSON: everything is read again
    if not isinstance(data, dict):
        data = {}
    files = data.get("files")
    counters = data.get("counters")
    data["files"] = {k: v for k, v in files.items() if isinstance(v, dict)} if isinstance(files, dict) else {}
    counters = counters if isinstance(counters, dict) else {}
    data["counters"] = {name: counters.get(name) if isinstance(counters.get(name), int) else 0 for name in COUNTERS}
    unknown = data.get("unknown_models")
    data["unknown_models"] = [m for m in unknown if isinstance(m, str)] if isinstance(unknown, list) else []
    return data


def summary(state_dir: str) -> dict[str, Any]:
    """What `status` and `doctor` show: files followed, the counters, the last problem."""
    data = read_usage_state(state_dir)
    return {
        "transcripts": len(data["files"]),
        **data["counters"],
        "unknown_models": data["unknown_models"],
        "last_problem": data.get("last_problem"),
        "last_problem_at": data.get("last_problem_at"),
    }


def write_usage_state(state_dir: str, data: dict[str, Any]) -> None:
    """Replaces the state file atomically (0600); raises OSError."""
    ensure_dir(state_dir)
    path = os.path.join(state_dir, STATE_NAME)
    temporary = f"{path}.{os.getpid()}.tmp"
    fd, _st = open_private(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def note_problem(data: dict[str, Any], counter: str, message: str) -> None:
    """Counts a problem and remembers it as the last one."""
    data["counters"][counter] = data["counters"].get(counter, 0) + 1
    data["last_problem"] = message[:500]
    data["last_problem_at"] = iso_timestamp(time.time_ns())


@contextmanager
def locked(state_dir: str) -> Iterator[None]:
    """Holds the usage lock (blocking) for the duration; raises OSError if it cannot be taken."""
    ensure_dir(state_dir)
    fd, _st = open_private(os.path.join(state_dir, LOCK_NAME), os.O_RDWR | os.O_CREAT)
    try:
        _lock.lock(fd)
        yield
    finally:
        os.close(fd)
