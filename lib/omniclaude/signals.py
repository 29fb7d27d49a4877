"""Stopping a long-running process on SIGTERM or SIGINT (and SIGBREAK, Ctrl+Break, on Windows): the
forwarder's and the consumer's, written once.

The first signal only asks the work loop to stop (it finishes or abandons what is in flight, keeping
every guarantee); a second one exits at once with status 128 + the signal number.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType


def install_stop_handlers(request_stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT call `request_stop` (it must be safe in a signal handler); a second one exits."""
    requested = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal requested
        if requested:
            os._exit(128 + signum)
        requested = True
        request_stop()

    signums = [signal.SIGTERM, signal.SIGINT]
    if sys.platform == "win32":
        signums.append(signal.SIGBREAK)  # Ctrl+Break
    for signum in signums:
        signal.signal(signum, handler)
