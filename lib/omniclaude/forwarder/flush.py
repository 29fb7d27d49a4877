"""`flush`: drain spools now, in the foreground, and say how many events went out.

It runs the forwarder's own loop until the spools are empty (or a timeout). A spool whose lock another
forwarder holds is left to that forwarder: `flush` watches its backlog shrink until it is empty or the
time is up, and counts what it saw leave.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from omniclaude.config import Settings
from omniclaude.forwarder.run import Forwarder, RunOptions
from omniclaude.logger import spool_candidates
from omniclaude.paths import check_dir
from omniclaude.spool import SpoolReader

DEFAULT_TIMEOUT_SECONDS = 300.0
_WATCH_SECONDS = 0.2


def default_spools(settings: Settings, on_refused: Callable[[str, OSError], object] | None = None) -> list[str]:
    """Returns the spools to drain: the configured one, and every fallback spool that exists and is safe
    (this user's and private from its root down, so no other user can have put events there). A fallback
    refused is passed to `on_refused` with the reason, and never drained."""
    primary, *fallbacks = spool_candidates(settings)
    found = [primary.directory]
    for fallback in fallbacks:
        try:
            check_dir(fallback.directory, fallback.root, make_private=True)
        except FileNotFoundError:
            continue
        except OSError as exc:
            if on_refused is not None:
                on_refused(fallback.directory, exc)
            continue
        found.append(fallback.directory)
    return found


def pending_events(spool_dir: str) -> int:
    """Returns how many lines wait after the spool's cursor (0 when it cannot be read)."""
    try:
        return SpoolReader(spool_dir).pending()[0]
    except OSError:
        return 0


@dataclass
class FlushReport:
    """What a flush did: events it delivered, events other forwarders shipped meanwhile, what is left
    (`pending` may count events written after the flush emptied a spool)."""

    delivered: int
    by_others: int
    pending: int
    reason: str
    last_error: str | None
    spools: list[str] = field(default_factory=list)
    others_done: bool = True

    @property
    def ok(self) -> bool:
        """True when every spool was emptied, by this flush or by the forwarder that owns it."""
        return self.reason in ("drained", "locked") and self.others_done


def flush(
    forwarder: Forwarder,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    watch: Callable[[float], object] = time.sleep,
) -> FlushReport:
    """Drains the forwarder's spools until empty or `timeout` seconds; see the module docstring."""
    started = time.monotonic()
    result = forwarder.run(RunOptions(until_empty=True, timeout=timeout, failure_limit=timeout))
    spools = [channel.directory for channel in forwarder.channels]
    others = [path for path in spools if path not in result.spools]
    waiting = {path: pending_events(path) for path in others}
    before = dict(waiting)
    while any(waiting.values()) and not forwarder.stop_requested and time.monotonic() - started < timeout:
        watch(_WATCH_SECONDS)
        waiting = {path: pending_events(path) for path in others}
    by_others = sum(max(0, before[path] - waiting[path]) for path in others)
    pending = sum(pending_events(path) for path in spools)
    return FlushReport(
        result.delivered, by_others, pending, result.reason, result.last_error, spools, not any(waiting.values())
    )
