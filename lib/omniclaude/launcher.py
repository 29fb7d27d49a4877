"""Makes sure a forwarder drains a spool: a cheap lock probe, and a fully detached start when none runs.

Standard library only; called by the logger after each write when Kafka is configured. The forwarder
holds an exclusive lock (`omniclaude._lock`) on `<spool>/forwarder.lock` for its whole life, so a failed
non-blocking lock here means one is running. Two callers may both start one; the second forwarder finds
the lock taken and exits at once.
"""

from __future__ import annotations

import os
import sys

from omniclaude import _lock
from omniclaude.paths import UnsafePathError, open_private

LOCK_NAME = "forwarder.lock"
WINDOWS_CREATION_FLAGS = 0x00000008 | 0x00000200 | 0x08000000
"""DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW: no console, no window, and the
caller's Ctrl+C and console close do not reach it (the values of the `subprocess` constants)."""


def forwarder_running(spool_dir: str) -> bool:
    """Returns True when a forwarder holds the spool's lock, or when the lock file is not safe to use
    (no forwarder could take it, so none is started); never raises (False on any other error)."""
    try:
        fd, _st = open_private(os.path.join(spool_dir, LOCK_NAME), os.O_RDWR | os.O_CREAT)
    except UnsafePathError:
        return True
    except OSError:
        return False
    try:
        return not _lock.try_lock(fd)
    except OSError:
        return False
    finally:
        os.close(fd)


def forwarder_command(spool_dir: str, python: str | None) -> list[str]:
    """Returns the command line that runs a forwarder for `spool_dir` until it is idle."""
    return [python or sys.executable, "-m", "omniclaude", "forward", "--spool", spool_dir]


def ensure_forwarder(spool_dir: str, python: str | None, environ: dict[str, str]) -> bool:
    """Starts a detached forwarder unless one is running; returns True if it started one. Never raises.

    The child gets /dev/null for stdio and its own session (POSIX) or process group without a console
    (Windows), so the caller never waits for it and its exit does not end it; every other descriptor is
    non-inheritable, as Python opens them. `lib/` of this checkout is put on its PYTHONPATH so it finds
    omniclaude without install. On POSIX `os.posix_spawn` rather than `subprocess`, whose import alone
    costs the hook about 8 ms; Windows has no posix_spawn, so `subprocess` is imported there only.
    """
    if forwarder_running(spool_dir):
        return False
    env = dict(environ)
    lib = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [lib, env.get("PYTHONPATH")]))
    command = forwarder_command(spool_dir, python)
    try:
        if sys.platform == "win32":
            _spawn_windows(command, env)
        else:
            stdio = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
            os.posix_spawnp(command[0], command, env, file_actions=stdio, setsid=True)
    except (OSError, ValueError, AttributeError):
        return False
    return True


def _spawn_windows(command: list[str], env: dict[str, str]) -> None:
    import subprocess

    subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        creationflags=WINDOWS_CREATION_FLAGS,
    )
