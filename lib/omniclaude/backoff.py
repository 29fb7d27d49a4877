"""Capped exponential backoff with jitter (the forwarder's and the consumer's), and a test mode.

Attempt n (0-based) waits a random time in [d/2, d], where d = min(cap, base * 2**n): "equal jitter",
so retries from many forwarders spread out while the wait still grows. `set_testing(True)` makes every
delay 0 (the schedule itself stays pure and testable through `backoff_delay`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_SECONDS = 0.5
CAP_SECONDS = 30.0

_testing = False


def set_testing(enabled: bool) -> None:
    """Turns test mode on or off: in test mode `Backoff.next_delay()` returns 0 (no real sleeps)."""
    global _testing  # noqa: PLW0603 - one process-wide switch, like stamina.set_testing
    _testing = enabled


def is_testing() -> bool:
    """True while test mode is on."""
    return _testing


def backoff_delay(attempt: int, unit: float, base: float = BASE_SECONDS, cap: float = CAP_SECONDS) -> float:
    """Returns the wait before retry `attempt` (0-based) given `unit`, a random number in [0, 1)."""
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))
    return ceiling / 2.0 + unit * ceiling / 2.0


class Backoff:
    """Counts consecutive failures and returns the next wait; `reset()` after a success."""

    def __init__(
        self,
        base: float = BASE_SECONDS,
        cap: float = CAP_SECONDS,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rand = rand

    def next_delay(self) -> float:
        """Records one more failure and returns how long to wait before retrying (0 in test mode)."""
        delay = backoff_delay(self.failures, self._rand(), self.base, self.cap)
        self.failures += 1
        return 0.0 if _testing else delay

    def reset(self) -> None:
        """Forgets the failures: the next failure waits the shortest time again."""
        self.failures = 0
