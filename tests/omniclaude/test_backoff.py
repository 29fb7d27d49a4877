"""The backoff schedule and its test switch."""

from __future__ import annotations

import pytest
from omniclaude import backoff
from omniclaude.backoff import Backoff, backoff_delay


def test_schedule_doubles_with_equal_jitter_and_caps() -> None:
    lows = [backoff_delay(n, 0.0) for n in range(10)]
    highs = [backoff_delay(n, 1.0) for n in range(10)]
    assert lows == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0, 15.0]
    assert highs == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert backoff_delay(10_000, 0.5) == 22.5


def test_backoff_counts_failures_and_resets() -> None:
    units = iter([0.0, 0.5, 1.0, 0.0])
    policy = Backoff(base=1.0, cap=10.0, rand=lambda: next(units))
    assert [policy.next_delay() for _ in range(3)] == [0.5, 1.5, 4.0]
    policy.reset()
    assert policy.next_delay() == 0.5


def test_testing_switch_turns_waits_off() -> None:
    policy = Backoff(rand=lambda: 0.5)
    backoff.set_testing(True)
    try:
        assert backoff.is_testing()
        assert [policy.next_delay() for _ in range(3)] == [0.0, 0.0, 0.0]
        assert policy.failures == 3
    finally:
        backoff.set_testing(False)
    assert policy.next_delay() == pytest.approx(backoff_delay(3, 0.5))
