"""The drain loop: spool -> prepare -> Kafka -> commit, one batch at a time, for one or more spools.

Per spool (a `Channel`): hold `<spool>/forwarder.lock` for the whole run, read a batch of lines after the
cursor, parse and prepare every line (`prepare.prepare_lines`: redaction, capture mode, topic) while
delivering the batch, wait for the broker, collect the transcript usage its trigger events name, and
only then commit the cursor past it. Each line is parsed once, where it is prepared: a line that is not
an event is counted and quarantined by the reader then (`SpoolReader.unreadable`), once however often
its batch is sent. From the first batch of `POOL_FROM_EVENTS` or more on, batches are
prepared in worker processes (`PreparePool`, `forwarder_workers` of them), chunk by chunk, while this
process sends the chunks already prepared; the workers get a batch's first chunks while the rest of it
is still being read. Commit is always last: a crash or a kill re-sends at most the
uncommitted batch (at-least-once; the consumer deduplicates by event_id). A failed batch is not
committed: the channel backs off (capped exponential with jitter) and reads the same events again, so
a session's events leave in spool order.

When the loop ends (see `RunOptions`):

- idle: no events for `idle_seconds` (never with `follow`). To close the lost wake-up race with a hook
  that saw the lock held just before it was released, the forwarder releases the lock and then looks
  at the spool once more; events there and the lock re-taken mean it carries on.
- failure-limit: a channel made no progress for `failure_limit` seconds while events waited (never with
  `follow`); its lock is released and the next hook starts a new forwarder.
- drained (`until_empty`, for `omniclaude flush`), timeout (`timeout`), stopped (`request_stop()`,
  called by the SIGTERM/SIGINT handlers of the CLI), locked (another forwarder owns every spool).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from omniclaude import prompt_hash
from omniclaude.backoff import Backoff
from omniclaude.config import Settings
from omniclaude.forwarder import codec
from omniclaude.forwarder.errors import DeliveryAbandoned, DeliveryError, ForwarderConfigError
from omniclaude.forwarder.lock import SpoolLock
from omniclaude.forwarder.pool import POOL_FROM_EVENTS, Chunk, PreparedBatch, PreparePool
from omniclaude.forwarder.prepare import (
    OutgoingRecord,
    Prepared,
    Redacting,
    Unreadable,
    dead_letter,
    prepare_lines,
)
from omniclaude.forwarder.sink import KafkaSink, Sink
from omniclaude.forwarder.state import StateFile
from omniclaude.kafka import KafkaConfigError
from omniclaude.paths import ensure_dir
from omniclaude.spool import Batch, Spool, SpoolReader
from omniclaude.usage.collect import UsageCollector

log = logging.getLogger("omniclaude.forwarder")

BATCH_EVENTS = 5000
BATCH_BYTES = 4 * 1024 * 1024
POLL_SECONDS = 0.1
CLOSE_TIMEOUT_SECONDS = 5.0
PREPARE_FAILED = "prepare-failed"
# More events than this in one batch failing to prepare means a bug or a bad setting, not bad events:
# the batch is retried instead of being drained into the dead-letter topic.
PREPARE_FAILURE_LIMIT = 10


def default_failure_limit(idle_seconds: float) -> float:
    """How long a detached forwarder keeps retrying without progress: 10 idle periods, at least 60 s."""
    return max(60.0, 10.0 * idle_seconds)


@dataclass
class RunOptions:
    """When the loop ends; the defaults are those of a forwarder started by a hook."""

    follow: bool = False
    idle_seconds: float = 30.0
    failure_limit: float | None = None  # None: default_failure_limit(idle_seconds)
    until_empty: bool = False
    timeout: float | None = None
    poll_seconds: float = POLL_SECONDS


@dataclass
class Tally:
    """What delivering one batch found: events (records and dead letters), lines newly counted as
    unreadable, and the events that collect transcript usage."""

    events: int = 0
    skipped: int = 0
    triggers: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunResult:
    """How a run ended: `reason` (see the module docstring), events delivered, the last error."""

    reason: str
    delivered: int = 0
    last_error: str | None = None
    spools: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True unless the run ended on an error or a time limit."""
        return self.reason in ("idle", "stopped", "drained", "locked")


class Channel:
    """One spool being drained: its lock, reader, state file and backoff."""

    def __init__(self, directory: str, wall: Callable[[], float], backoff: Backoff) -> None:
        self.directory = directory
        self.lock = SpoolLock(directory)
        self.state = StateFile(directory, wall)
        self.backoff = backoff
        self.retry_at = 0.0
        self.failing_since: float | None = None
        self._reader: SpoolReader | None = None

    def acquire(self) -> bool:
        """Creates the folder if needed and takes its lock; False if another forwarder holds it.

        Raises OSError when the spool cannot be used at all. The reader is reloaded from the cursor
        file, since another forwarder may have moved it while this one did not hold the lock.
        """
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", self.directory)
        ensure_dir(self.directory)
        if not self.lock.acquire():
            return False
        self._reader = None
        return True

    def reader(self) -> SpoolReader:
        """The spool reader (created on first use; raises OSError)."""
        if self._reader is None:
            self._reader = SpoolReader(self.directory, codec.loads)
        return self._reader

    def has_pending(self) -> bool:
        """True when complete lines wait after the cursor on disk; read-only, False on errors."""
        try:
            return SpoolReader(self.directory).pending()[0] > 0
        except OSError:
            return False


class Forwarder:
    """Drains spools to a sink; see the module docstring. One instance runs once."""

    def __init__(
        self,
        spools: Sequence[str],
        settings: Settings,
        *,
        sink: Sink | None = None,
        redactor: Redacting | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], object] | None = None,
        backoff_factory: Callable[[], Backoff] = Backoff,
        batch_events: int = BATCH_EVENTS,
        batch_bytes: int = BATCH_BYTES,
        on_delivered: Callable[[int], None] | None = None,
        pool_from: int = POOL_FROM_EVENTS,
    ) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self.sink: Sink = sink if sink is not None else KafkaSink(settings, should_stop=self._stop.is_set)
        self._redactor = redactor
        # Workers build their own redactor, so a redactor given by the caller keeps preparing here.
        self._pooled = redactor is None and settings.forwarder_workers > 0
        self._pool: PreparePool | None = None
        self._pool_from = pool_from
        self._clock = clock
        self._sleep = sleep if sleep is not None else self._stop.wait
        self._batch_events = batch_events
        self._batch_bytes = batch_bytes
        self.on_delivered = on_delivered
        directories = dict.fromkeys(os.path.abspath(path) for path in spools)
        self.channels = [Channel(path, wall, backoff_factory()) for path in directories]
        self.delivered = 0
        self.last_error: str | None = None
        self._gave_up = False
        self.usage = UsageCollector(settings.dirs.state, settings.dirs.config, settings.event_max_bytes)

    def request_stop(self) -> None:
        """Asks the loop to end: the batch in flight is abandoned unless already acknowledged.

        Safe to call from a signal handler or another thread.
        """
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        """True once `request_stop` was called."""
        return self._stop.is_set()

    def redactor(self) -> Redacting:
        """The redactor (built on first use from the settings' extra patterns).

        Raises ForwarderConfigError when an extra redaction pattern is invalid.
        """
        if self._redactor is None:
            from omniclaude.forwarder.redaction import CachingRedactor

            try:
                self._redactor = CachingRedactor(self.settings.extra_redact_patterns)
            except ValueError as exc:
                raise ForwarderConfigError(f"OMNICLAUDE_REDACT_PATTERNS: {exc}") from None
        return self._redactor

    # -- one batch ---------------------------------------------------------------------------------

    def _error(self, channel: Channel, message: str) -> None:
        self.last_error = message
        channel.state.error(message)

    def _records(
        self, reader: SpoolReader, batch: Batch, sent: PreparedBatch | None, tally: Tally
    ) -> Iterator[OutgoingRecord]:
        """Returns the records of a batch read unparsed, prepared as they are taken (see `_prepared`);
        `sent` holds the chunks of it already sent to the workers while it was read.

        Raises ForwarderConfigError at once when an extra redaction pattern is invalid.
        """
        redactor = self.redactor()
        if self.settings.capture_mode == "hash" and not self.settings.prompt_hash_key:
            try:
                self.settings.prompt_hash_key = prompt_hash.ensure_key(self.settings)
            except OSError as exc:  # prompts are then dropped, as in `off` (see prepare)
                log.warning("cannot make the prompt hash key: %s", exc)
        lines = batch.lines
        if len(lines) >= self._pool_from and self._pool is None and self._pooled:
            self._pool = PreparePool(self.settings, self.settings.forwarder_workers, self._inline)
        if self._pool is not None:  # once started, the workers take every batch
            sent = sent or self._pool.batch()
            results: Iterable[Prepared] = sent.results(lines, tally.triggers)
        else:
            results = prepare_lines(lines, self.settings, redactor, tally.triggers)
        return self._prepared(reader, batch, results, tally)

    def _inline(self, lines: Sequence[bytes]) -> Chunk:
        triggers: list[dict[str, Any]] = []
        return prepare_lines(lines, self.settings, self.redactor(), triggers), triggers

    def _prepared(
        self, reader: SpoolReader, batch: Batch, results: Iterable[Prepared], tally: Tally
    ) -> Iterator[OutgoingRecord]:
        """Yields a record per event, counting them in `tally`. A line that is not an event is counted
        and quarantined by the reader. An event that could not be prepared becomes a dead-letter record,
        yielded after the others, unless more than `PREPARE_FAILURE_LIMIT` do: then DeliveryError, and
        the batch is retried, not drained (no dead-letter record of it has been yielded)."""
        failures: list[OutgoingRecord] = []
        for index, result in enumerate(results):
            if isinstance(result, OutgoingRecord):
                tally.events += 1
                yield result
            elif isinstance(result, Unreadable):
                tally.skipped += reader.unreadable(batch, index, result.problem)
            else:
                tally.events += 1
                if len(failures) >= PREPARE_FAILURE_LIMIT:
                    raise DeliveryError(
                        f"{len(failures) + 1} events of a batch could not be prepared, the last: {result.reason}"
                    )
                event_id = result.event_id
                log.warning("cannot prepare event %s (%s); sending a dead-letter record", event_id, result.reason)
                failures.append(
                    dead_letter(
                        event_id,
                        result.event_type,
                        key=None,
                        reason=PREPARE_FAILED,
                        error=result.reason,
                        prefix=self.settings.topic_prefix,
                    )
                )
        yield from failures

    def _skipped(self, channel: Channel, count: int) -> None:
        if count:
            channel.state.skipped(count)
            message = f"skipped {count} unreadable line(s) in {channel.directory} (listed in errors.log)"
            self._error(channel, message)
            log.warning("%s", message)

    def step(self, channel: Channel) -> str:
        """Moves one batch of a channel; returns "delivered", "empty", "failed" or "abandoned"."""
        try:
            reader = channel.reader()
            # With the workers running, they start on a batch's first chunks while the rest is read.
            sent: PreparedBatch | None = None
            if self._pool is not None and not self._pool.broken:
                sent = self._pool.batch()
                batch = reader.read(
                    self._batch_events, self._batch_bytes, sent.add, self._pool.chunk_events, parse=False
                )
            else:
                batch = reader.read(self._batch_events, self._batch_bytes, parse=False)
        except OSError as exc:
            self._error(channel, f"cannot read the spool {channel.directory}: {exc}")
            log.error("%s", self.last_error)
            return "failed"
        if not batch.lines:
            if batch.end != reader.cursor:
                reader.commit(batch.end)
            return "empty"
        tally = Tally()
        try:
            self.sink.deliver(self._records(reader, batch, sent, tally))
        except DeliveryAbandoned:
            self._skipped(channel, tally.skipped)
            return "abandoned"
        except (DeliveryError, ForwarderConfigError, KafkaConfigError) as exc:
            self._skipped(channel, tally.skipped)
            self._error(channel, str(exc))
            log.warning("%s; %d event(s) stay in the spool", exc, len(batch.lines) - tally.skipped)
            return "failed"
        self._skipped(channel, tally.skipped)
        # Transcript usage named by this batch's hook events joins the spool (the next batch) before the
        # cursor moves past them.
        self.usage.collect_safely(tally.triggers, Spool(channel.directory, self.settings.spool_max_bytes).append)
        count = tally.events
        try:
            reader.commit(batch.end)
        except OSError as exc:
            self._error(channel, f"delivered {count} event(s) but cannot record it in the spool cursor: {exc}")
            log.error("%s", self.last_error)
            return "failed"
        if not count:
            return "empty"  # only unreadable lines
        self.delivered += count
        channel.state.delivered(count)
        if self.on_delivered is not None:
            self.on_delivered(count)
        return "delivered"

    # -- the loop ----------------------------------------------------------------------------------

    def _start(self) -> tuple[list[Channel], str | None]:
        active = []
        error = None
        for channel in self.channels:
            try:
                if channel.acquire():
                    active.append(channel)
                    channel.state.started(os.getpid())
                else:
                    log.info("another forwarder drains %s", channel.directory)
            except OSError as exc:
                error = f"cannot use the spool {channel.directory}: {exc}"
                log.error("%s", error)
        return active, error

    def _idle_exit(self, active: list[Channel]) -> list[Channel]:
        """Releases the locks, then re-takes those of spools where events arrived meanwhile."""
        for channel in active:
            channel.state.stopped("idle")
            channel.lock.release()
        resumed = []
        for channel in active:
            try:
                if channel.has_pending() and channel.acquire():
                    channel.state.started(os.getpid())
                    resumed.append(channel)
            except OSError:
                continue
        if resumed:
            log.info("events arrived while going idle; carrying on")
        return resumed

    def run(self, options: RunOptions | None = None) -> RunResult:
        """Drains until an end condition of `options` holds; returns how it ended. Never raises
        for spool or Kafka trouble (those are reported in the result, the state file and the log)."""
        options = options or RunOptions()
        limit = options.failure_limit
        if limit is None:
            limit = default_failure_limit(options.idle_seconds)
        started = self._clock()
        active, start_error = self._start()
        spools = [channel.directory for channel in active]
        if not active:
            self.last_error = start_error
            return RunResult("error" if start_error else "locked", 0, start_error, spools)
        reason = "stopped"
        idle_since: float | None = None
        self._gave_up = False
        try:
            while not self.stop_requested:
                if options.timeout is not None and self._clock() - started >= options.timeout:
                    reason = "timeout"
                    break
                if not options.follow and self._drop_failing(active, self._clock(), limit) and not active:
                    reason = "failure-limit"
                    break
                outcomes = self._pass(active)
                if self.stop_requested or "abandoned" in outcomes:
                    break
                now = self._clock()
                if not options.follow and self._drop_failing(active, now, limit) and not active:
                    reason = "failure-limit"
                    break
                if "delivered" in outcomes:
                    idle_since = None
                    continue
                if len(outcomes) < len(active) or any(outcome != "empty" for outcome in outcomes):
                    idle_since = None
                elif options.until_empty:
                    reason = "drained"
                    break
                else:
                    idle_since = now if idle_since is None else idle_since
                    if not options.follow and now - idle_since >= options.idle_seconds:
                        active = self._idle_exit(active)
                        if not active:
                            reason = "idle"
                            break
                        idle_since = None
                        continue
                self._sleep(self._pause(active, now, options.poll_seconds))
        finally:
            self._finish(active, reason)
        if self._gave_up and reason in ("idle", "drained"):
            reason = "failure-limit"  # another spool ended well, but this one was given up
        return RunResult(reason, self.delivered, self.last_error, spools)

    def _pass(self, active: list[Channel]) -> list[str]:
        """Steps every channel not backing off; returns their outcomes."""
        outcomes = []
        for channel in active:
            if self.stop_requested:
                break
            if channel.retry_at > self._clock():
                continue
            try:
                outcome = self.step(channel)
            except Exception as exc:
                log.exception("unexpected error while draining %s", channel.directory)
                self._error(channel, f"unexpected error: {type(exc).__name__}: {exc}")
                outcome = "failed"
            now = self._clock()
            if outcome == "failed":
                channel.retry_at = now + channel.backoff.next_delay()
                if channel.failing_since is None:
                    channel.failing_since = now
            elif outcome in ("delivered", "empty"):
                channel.backoff.reset()
                channel.failing_since = None
                channel.retry_at = 0.0
            outcomes.append(outcome)
        return outcomes

    def _drop_failing(self, active: list[Channel], now: float, limit: float) -> bool:
        """Gives up the channels without progress for `limit` seconds; returns True if any."""
        expired = [channel for channel in active if channel.failing_since is not None]
        expired = [channel for channel in expired if now - (channel.failing_since or now) >= limit]
        for channel in expired:
            log.error("no progress in %s for %.0f s; giving up", channel.directory, limit)
            channel.state.stopped("failure-limit")
            channel.lock.release()
            active.remove(channel)
            self._gave_up = True
        return bool(expired)

    def _pause(self, active: list[Channel], now: float, poll: float) -> float:
        waits = [channel.retry_at - now for channel in active if channel.retry_at > now]
        return max(0.0, min([poll, *waits])) if len(waits) < len(active) else max(0.0, min(waits))

    def _finish(self, active: list[Channel], reason: str) -> None:
        if self._pool is not None:
            self._pool.close()
        self.sink.close(CLOSE_TIMEOUT_SECONDS)
        for channel in active:
            if channel.lock.held:
                channel.state.stopped(reason)
                channel.lock.release()
