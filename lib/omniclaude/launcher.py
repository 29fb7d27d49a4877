"""Makes sure a forwarder drains a spool: a cheap lock probe, and a fully detached start when none runs.

Standard library only; called by the logger after each write when Kafka is configured. The forwarder
holds an exclusive `flock` on `<spool>/forwarder.lock` for its whole life, so a failed non-blocking lock
here means one is running. Two callers may both start one; the second forwarder finds the lock taken and
exits at once.
"""

from __future__ import annotations

import fcntl
import os
import sys

LOCK_NAME = "forwarder.lock"


def forwarder_running(spool_dir: str) -> bool:
    """Returns True when a forwarder holds the spool's lock; never raises (False on any error)."""
    try:
        fd = os.open(os.path.join(spool_dir, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def forwarder_command(spool_dir: str, python: str | None) -> list[str]:
    """Returns the command line that runs a forwarder for `spool_dir` until it is idle."""
    return [python or sys.executable, "-m", "omniclaude", "forward", "--spool", spool_dir]


def ensure_forwarder(spool_dir: str, python: str | None, environ: dict[str, str]) -> bool:
    """Starts a detached forwarder unless one is running; returns True if it started one. Never raises.

    The child gets a new session and no stdio, so the caller never waits for it and its exit does not
    end it. `lib/` of this checkout is put on its PYTHONPATH so it finds omniclaude without install.
    """
    if forwarder_running(spool_dir):
        return False
    try:
        import subprocess

        env = dict(environ)
        lib = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [lib, env.get("PYTHONPATH")]))
        subprocess.Popen(
            forwarder_command(spool_dir, python),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            cwd=spool_dir,
            env=env,
        )
    except (OSError, ValueError, ImportError):
        return False
    return True
