"""Whole-file exclusive locks, in one place: `fcntl.flock` on POSIX, `msvcrt.locking` on Windows.

    lock(fd)      blocks until this process holds the exclusive lock of the open file `fd`
    try_lock(fd)  takes it without waiting; returns False when another holder has it

Closing `fd` releases the lock, and the system drops it when the process dies, even when it is killed.
The locks are advisory between omniclaude's own processes, which all take them the same way.

On Windows the lock is one byte at `LOCK_OFFSET`, far past any data a spool file holds: Windows byte-range
locks are mandatory, so locking the data itself would block readers. `msvcrt.locking` locks from the file
position, so the position is moved there first (writers open with O_APPEND, which ignores it). Its own
blocking mode retries once a second, far too slow for a hook, so `lock` polls the non-blocking mode with
millisecond pauses instead. Standard library only: `msvcrt` is imported only on Windows, `fcntl` elsewhere.
"""

from __future__ import annotations

import sys

LOCK_OFFSET = 0x7FFF_FFF0
"""Where the Windows lock byte lies: beyond any spool segment, within a 32-bit signed offset."""

if sys.platform == "win32":
    import errno
    import msvcrt
    import os
    import time

    _BUSY = (errno.EACCES, errno.EDEADLK)
    """What `msvcrt.locking` raises when another handle holds the byte."""

    def try_lock(fd: int) -> bool:
        """Takes the exclusive lock without waiting; False when another holder has it."""
        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in _BUSY:
                return False
            raise
        return True

    def lock(fd: int) -> None:
        """Blocks until the exclusive lock is held."""
        pause = 0.0005
        while not try_lock(fd):
            time.sleep(pause)
            pause = min(pause * 2, 0.01)

else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Takes the exclusive lock without waiting; False when another holder has it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def lock(fd: int) -> None:
        """Blocks until the exclusive lock is held."""
        fcntl.flock(fd, fcntl.LOCK_EX)
