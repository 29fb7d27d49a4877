"""The forwarder's lock: an exclusive lock (`omniclaude._lock`) on `<spool>/forwarder.lock`, held for life.

`omniclaude.launcher` probes the same lock without blocking to learn whether a forwarder runs. A probe
holds the lock for microseconds, so a failed attempt is retried a few times before concluding that
another forwarder owns the spool. The kernel drops the lock when the process dies, even by SIGKILL.
"""

from __future__ import annotations

import os
import time

from omniclaude import _lock
from omniclaude.launcher import LOCK_NAME
from omniclaude.paths import open_private

_ATTEMPTS = 4
_PAUSE_SECONDS = 0.02


class SpoolLock:
    """The lock of one spool folder; not thread-safe."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, LOCK_NAME)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Takes the lock without waiting on another forwarder; returns False if one holds it.

        Raises OSError when the lock file cannot be opened (for example, the spool is not a folder), and
        UnsafePathError when it is a symbolic link, another user's or open to others.
        """
        if self._fd is not None:
            return True
        fd, _st = open_private(self.path, os.O_RDWR | os.O_CREAT)
        for attempt in range(_ATTEMPTS):
            try:
                taken = _lock.try_lock(fd)
            except OSError:
                os.close(fd)
                raise
            if taken:
                self._fd = fd
                return True
            if attempt + 1 < _ATTEMPTS:
                time.sleep(_PAUSE_SECONDS)
        os.close(fd)
        return False

    def release(self) -> None:
        """Releases the lock if held; never raises."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
