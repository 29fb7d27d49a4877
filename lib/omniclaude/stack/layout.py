"""Where the local stack keeps its files, and the two small JSON records it keeps there.

Everything lives in ``<data dir>/stack/`` (``<data dir>`` is omniclaude's, see ``omniclaude.paths``):

* ``stack.json`` (0600): the recorded ports and the PostgreSQL password, written by ``stack up``;
* ``state.json`` (0600): what the supervisor runs now, rewritten by it at every change;
* ``supervisor.pid``, ``supervisor.lock`` (held by the supervisor for its whole life), ``up.lock``
  (serialises ``stack up`` and ``stack down``), ``supervisor.log``;
* one folder per part: ``kafka/``, ``postgres/``, ``consumer/``, ``dashboard/``, each with its log.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_PORTS", "OPTIONAL_PARTS", "PARTS", "Layout", "read_json", "write_json"]

# In start order; `stack down` stops them in reverse.
PARTS = ("postgres", "kafka", "consumer", "dashboard")
# The stack is ready, and `stack up` succeeds, without these.
OPTIONAL_PARTS = frozenset({"dashboard"})
# Tried first on the first `stack up`; a port in use is replaced by a free one, with a line saying so.
DEFAULT_PORTS = {"postgres": 15432, "kafka": 19092, "kafka_controller": 19093, "consumer": 18089, "dashboard": 18080}
DATABASE = "omniclaude"


@dataclass(frozen=True)
class Layout:
    """The stack's paths, all under ``root``; nothing is created until used."""

    root: Path

    @classmethod
    def for_data_dir(cls, data_dir: str) -> Layout:
        """The layout inside omniclaude's data dir."""
        return cls(Path(data_dir) / "stack")

    @property
    def record(self) -> Path:
        """``stack.json``: ports and the database password."""
        return self.root / "stack.json"

    @property
    def state(self) -> Path:
        """``state.json``: the supervisor's view of the parts."""
        return self.root / "state.json"

    @property
    def pid_file(self) -> Path:
        """The supervisor's pid."""
        return self.root / "supervisor.pid"

    @property
    def supervisor_lock(self) -> Path:
        """Held (flock) by the running supervisor."""
        return self.root / "supervisor.lock"

    @property
    def up_lock(self) -> Path:
        """Held by `stack up` and `stack down` while they work."""
        return self.root / "up.lock"

    @property
    def supervisor_log(self) -> Path:
        """The supervisor's own log: starts, exits, restarts."""
        return self.root / "supervisor.log"

    def part_dir(self, part: str) -> Path:
        """The folder of one part."""
        return self.root / part

    def log_path(self, part: str) -> Path:
        """The log of one part (``supervisor`` names the supervisor's)."""
        if part == "supervisor":
            return self.supervisor_log
        return self.part_dir(part) / f"{part}.log"

    def ensure(self) -> None:
        """Create ``root`` (0700; as root 0711, and the data dir above it traversable too)."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.geteuid() == 0:  # PostgreSQL then runs as `nobody`, who must be able to traverse to its folder
            for folder in (self.root.parent, self.root):
                if folder.stat().st_uid == 0:
                    folder.chmod(folder.stat().st_mode & 0o777 | 0o011)


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; ``{}`` when it is missing or not a JSON object."""
    try:
        with path.open(encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Write ``value`` to ``path`` atomically, mode 0600."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)
