"""The poll loop: poll, decode, map to rows, write, dead-letter, commit. Small steps, one batch per poll.

Each batch (the messages of one poll) goes through these steps, in this order; commit is always last:

1. decode and validate every message (`decode.decode_row`); a `PermanentError` makes it a dead
   letter, the valid ones are grouped by table;
2. the dead-letter limit is checked before anything is written (`dlq.DeadLetterLimit`);
3. every table's rows are written in one database transaction (`writer.Writer.start`, then
   `InFlight.result()`); rows the database rejects come back as dead letters; COMMIT;
4. the limit is checked again with those, then the dead letters are produced and acknowledged;
5. the offset after the highest message of the batch is committed, per partition (`commit.OffsetTracker`).

Threads: one (the Kafka client has its own IO thread, the health server its own). Step 3 is started
(`writer.Writer.start`: the rows are sent, the statements applying them and the COMMIT are queued) and
the loop polls and decodes the next batch (step 1) while PostgreSQL works, then waits for the COMMIT
(`InFlight.result()`) and step 4; it starts the next batch's write before it commits the offsets
(step 5), so that round trip overlaps the database's work too. At most one batch is in flight: the next
one is started only after the one before it is durable (its rows committed, its dead letters
acknowledged), so batches are written and dead-lettered one at a time, in poll order, and no offset is
committed before its messages are durable. While batches follow one another, offsets are committed at
most once every `COMMIT_INTERVAL_SECONDS`; a commit covers every durable offset, so one skipped or failed
does not hold a batch: the next commit carries its offsets. (Writing on a database thread instead was
measured: several times slower on two cores, the threads hand the GIL back and forth at every wait.)

Rebalances happen inside `poll()`: the listener records revoked partitions, the loop forgets their
offsets (durable ones not yet committed included) and drops their messages from the batches it holds,
the one being written included (its rows are written anyway, which the event ids make harmless; its
offsets and dead letters for those partitions are not committed or sent: their new owner reads them
again from the committed offset).

A `TransientError` in any step keeps the batch: the loop backs off (exponential, with jitter, capped),
keeps polling with its partitions paused so the group keeps it, and retries the steps not yet done.
Every write is idempotent, so a retry, a re-delivery after a crash or a rebalance changes nothing.

Stopping: `request_stop()` only sets a flag (safe in a signal handler). The loop finishes the batch it is
writing (database, dead letters, offsets), abandons uncommitted a batch it polled but has not started
writing and a batch it is backing off on, marks the state stopped, and returns. `run()` returns the exit
code: 0 after a stop, 1 when the schema is behind, 3 when the dead-letter limit stopped it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from omniclaude.backoff import Backoff

from omniclaude_consumer.commit import OffsetTracker
from omniclaude_consumer.decode import decode_row
from omniclaude_consumer.dlq import DeadLetter, DeadLetterLimit, DeadLetterProducer
from omniclaude_consumer.errors import (
    DatabaseUnavailable,
    DeadLetterLimitExceeded,
    FatalError,
    PermanentError,
    TransientError,
)
from omniclaude_consumer.health import ConsumerState
from omniclaude_consumer.message import Message, Partition
from omniclaude_consumer.source import CommitLost, Source
from omniclaude_consumer.writer import InFlight, Pending, Writer

log = logging.getLogger(__name__)

T = TypeVar("T")

DB_PING_SECONDS = 5.0
"""While idle, the loop checks the database this often (so /ready notices an outage without traffic)."""

COMMIT_INTERVAL_SECONDS = 1.0
"""While batches follow one another, offsets are committed at most this often (each commit is a broker
round trip the loop waits for; a crash re-delivers at most this much, which the event ids absorb). A
batch with no other behind it is committed at once."""


@dataclass
class Batch:
    """The messages of one poll on their way through the steps, and which steps are done."""

    messages: list[Message]
    started: float
    rows: dict[str, list[Pending[Message]]] = field(default_factory=dict)
    letters: list[DeadLetter] = field(default_factory=list)
    written: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    written_to_db: bool = False
    limit_recorded: bool = False
    dead_lettered: bool = False
    writing: InFlight[Message] | None = None  # step 3 started, its COMMIT not yet seen
    revoked: set[Partition] = field(default_factory=set)

    def drop(self, revoked: set[Partition]) -> None:
        """Forgets the messages of revoked partitions (their new owner reads them again).

        A write already started keeps its rows; what it rejects from these partitions is not
        dead-lettered (`revoked` remembers them).
        """
        self.revoked |= revoked
        self.messages = [m for m in self.messages if m.source not in revoked]
        self.letters = [d for d in self.letters if d.message.source not in revoked]
        self.rows = {t: [p for p in rows if p.ref.source not in revoked] for t, rows in self.rows.items()}

    def outcomes(self) -> list[bool]:
        """One entry per message: True when it is dead-lettered."""
        if not self.letters:
            return [False] * len(self.messages)
        dead = {id(d.message) for d in self.letters}
        return [id(m) in dead for m in self.messages]


class Loop:
    """Runs the consumer until asked to stop. See the module docstring for the order of the steps."""

    def __init__(
        self,
        *,
        source_factory: Callable[[], Source],
        writer: Writer[Message],
        dead_letters: DeadLetterProducer,
        limit: DeadLetterLimit,
        state: ConsumerState,
        topic_prefix: str,
        message_max_bytes: int,
        poll_timeout_ms: int = 1000,
        max_records: int = 5000,
        backoff: Backoff | None = None,
        check_schema: Callable[[Any], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        db_ping_seconds: float = DB_PING_SECONDS,
        commit_interval_seconds: float = COMMIT_INTERVAL_SECONDS,
    ) -> None:
        self._source_factory = source_factory
        self._source: Source | None = None
        self._writer = writer
        self._dead_letters = dead_letters
        self._limit = limit
        self._state = state
        self._prefix = topic_prefix
        self._max_bytes = message_max_bytes
        self._poll_timeout_ms = poll_timeout_ms
        self._max_records = max_records
        self._backoff = backoff or Backoff(0.2, 30.0)
        self._check_schema = check_schema
        self._clock = clock
        self._db_ping_seconds = db_ping_seconds
        self._commit_interval = commit_interval_seconds
        self._last_commit_at = float("-inf")
        self._tracker = OffsetTracker()
        self._batch: Batch | None = None  # polled, not yet written
        self._writing: Batch | None = None  # being written, not yet committed
        self._stop = False
        self._last_db_at = clock()

    # -- control ---------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Asks the loop to stop. Only sets a flag: safe from a signal handler or another thread."""
        self._stop = True

    @property
    def stopping(self) -> bool:
        return self._stop

    def run(self) -> int:
        """Starts up (schema check, Kafka), then loops until stopped; returns the exit code."""
        try:
            if self._check_schema is not None:
                check = self._check_schema
                self._retry("the database schema check", lambda: self._writer.call(check))
                self._state.database(True)
            self._source = self._retry("connecting to Kafka", self._source_factory)
            while not self._stop:
                self._state.beat()
                self._cycle()
            self._settle()
            return 0
        except FatalError as exc:
            log.error("%s", exc)
            self._state.stop(str(exc), limit_exceeded=isinstance(exc, DeadLetterLimitExceeded))
            return exc.exit_code
        except _Stopped:
            return 0
        finally:
            self._state.stop("shutdown")
            held = [b for b in (self._writing, self._batch) if b is not None]
            if held:
                log.info(
                    "stopping with %d messages polled but not committed (they will be re-delivered)",
                    sum(len(b.messages) for b in held),
                )

    def close(self) -> None:
        """Closes the Kafka consumer, the dead-letter producer and the database connection (a write still in
        flight is rolled back). Idempotent."""
        if self._source is not None:
            self._source.close()
            self._source = None
        self._dead_letters.close()
        self._writer.close()

    # -- the steps ---------------------------------------------------------------------------------------

    def _cycle(self) -> None:
        """Poll a batch if none is held (while the one before is written), finish the one being written,
        start writing the polled one, then commit the finished one; a transient failure keeps both."""
        if self._batch is None:
            self._poll()
        done = self._writing
        if done is not None:
            try:
                self._finish(done)
            except TransientError as exc:
                self._transient(exc)
                return
            self._writing = None
            self._backoff.reset()
        try:
            self._start()
        finally:  # also when the next batch trips the dead-letter limit: this one is durable
            if done is not None:
                self._commit(done)  # while the database works on the next batch

    def _start(self) -> None:
        """Steps 2 and 3 of the polled batch: the limit, then its write is started."""
        batch = self._batch
        if batch is None or self._stop:
            return  # nothing polled, or stopping: a batch not yet started is abandoned, uncommitted
        self._limit.check(batch.outcomes())
        self._writing, self._batch = batch, None
        try:
            batch.writing = self._writer.start(batch.rows)
        except TransientError as exc:
            self._transient(exc)

    def _settle(self) -> None:
        """On stopping: finishes the batch in flight (not one backing off) and commits what is durable."""
        batch = self._writing
        if batch is not None and batch.writing is not None:
            try:
                self._finish(batch)
            except TransientError as exc:
                log.warning("stopping without committing the last batch (it will be re-delivered): %s", exc)
            else:
                self._writing = None
                self._commit(batch)
                return
        if self._tracker.to_commit():
            with contextlib.suppress(CommitLost, TransientError):
                self._commit_offsets()

    def _poll(self) -> None:
        source = self._require_source()
        # While a batch is being written, take what the client has buffered and go on to finish that
        # batch (its commit should not wait for new data to arrive).
        timeout_ms = self._poll_timeout_ms if self._writing is None else 0
        try:
            messages = source.poll(timeout_ms, self._max_records)
        except TransientError as exc:
            self._transient(exc)
            return
        self._after_poll(source)
        if messages:
            self._batch = self._prepare(messages)
        elif self._writing is None and self._clock() - self._last_db_at >= self._db_ping_seconds:
            self._ping()

    def _after_poll(self, source: Source) -> None:
        revoked = source.take_revoked()
        if revoked:
            log.info("partitions revoked: %s", ", ".join(f"{p.topic}[{p.partition}]" for p in sorted(revoked)))
            self._tracker.forget(revoked)
            if self._writing is not None:
                self._writing.drop(revoked)
            if self._batch is not None:
                self._batch.drop(revoked)
                if not self._batch.messages:
                    self._batch = None
        assigned = source.assignment()
        lag: dict[Partition, int] = {}
        for partition in assigned:
            high = source.highwater(partition)
            committed = self._tracker.committed_offset(partition)
            if high is not None and committed is not None:
                lag[partition] = max(0, high - committed)
        self._state.set_assignment(assigned, lag)

    def _prepare(self, messages: list[Message]) -> Batch:
        batch = Batch(messages, self._clock())
        for message in messages:
            try:
                row = decode_row(message, topic_prefix=self._prefix, max_bytes=self._max_bytes)
            except PermanentError as exc:
                batch.letters.append(DeadLetter(message, exc))
                continue
            batch.rows.setdefault(row.table, []).append(Pending(message, row.values))
        return batch

    def _finish(self, batch: Batch) -> None:
        """Steps 3 and 4 of a batch; raises TransientError with the steps done so far recorded in the batch.

        Step 3 is the write in flight, or after it failed, a new one. Then the batch is durable."""
        if not batch.written_to_db:
            writing, batch.writing = batch.writing, None
            if writing is None:
                self._limit.check(batch.outcomes())
                writing = self._writer.start(batch.rows)
            result = writing.result()
            self._last_db_at = self._clock()
            batch.letters.extend(
                DeadLetter(r.ref, r.error, r.attempts) for r in result.rejected if r.ref.source not in batch.revoked
            )
            batch.written, batch.unchanged = result.written, result.unchanged
            batch.written_to_db = True
        if not batch.limit_recorded:
            outcomes = batch.outcomes()
            self._limit.check(outcomes)
            self._limit.record(outcomes)
            batch.limit_recorded = True
        if not batch.dead_lettered:
            self._dead_letters.send(batch.letters)
            batch.dead_lettered = True
            for letter in batch.letters:
                log.warning(
                    "dead-lettered %s[%d]@%d: %s: %s",
                    letter.message.topic,
                    letter.message.partition,
                    letter.message.offset,
                    letter.reason,
                    letter.error,
                )
        self._tracker.mark_durable(batch.messages)

    def _commit(self, batch: Batch) -> None:
        """Step 5: commits every durable offset not committed yet (this batch's, and what a skipped or
        failed commit before it left), unless another batch is in flight and the last commit is recent
        (`COMMIT_INTERVAL_SECONDS`). A failed commit does not hold the batch: the next commit carries it."""
        offsets: dict[Partition, int] = {}
        committed = False
        failure: TransientError | None = None
        try:
            if self._writing is None or self._clock() - self._last_commit_at >= self._commit_interval:
                offsets = self._commit_offsets()
                committed = True
        except CommitLost as exc:
            log.warning(
                "offset commit lost to a rebalance (the batch is durable; it will be re-delivered and ignored): %s", exc
            )
            self._tracker.forget(self._tracker.to_commit())
        except TransientError as exc:
            failure = exc
        self._state.batch_done(
            consumed=len(batch.messages),
            written=batch.written,
            unchanged=batch.unchanged,
            dead=Counter(letter.reason for letter in batch.letters),
            seconds=self._clock() - batch.started,
            committed=committed and bool(offsets),
        )
        if failure is not None:
            self._transient(failure)

    def _commit_offsets(self) -> dict[Partition, int]:
        """Commits every durable offset not committed yet; raises CommitLost or a TransientError."""
        offsets = self._tracker.to_commit()
        self._require_source().commit(offsets)
        self._tracker.committed(offsets)
        self._last_commit_at = self._clock()
        return offsets

    def _ping(self) -> None:
        self._last_db_at = self._clock()
        try:
            self._writer.ping()
        except TransientError as exc:
            self._state.database(False, str(exc))
            return
        self._state.recovered()  # idle (no batch held) and the database answers

    # -- transient failures --------------------------------------------------------------------------

    def _transient(self, exc: TransientError) -> None:
        delay = self._backoff.next_delay()
        log.warning("transient failure, retrying in %.1fs: %s", delay, exc)
        self._state.backoff(str(exc))
        if isinstance(exc, DatabaseUnavailable):
            self._state.database(False, str(exc))
        self._wait(delay)

    def _wait(self, seconds: float) -> None:
        """Waits while keeping the group membership: polls with every assigned partition paused."""
        deadline = self._clock() + seconds
        source = self._source
        try:
            while not self._stop:
                self._state.beat()
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return
                if source is None:
                    time.sleep(min(remaining, 0.1))
                    continue
                source.pause(source.assignment())
                try:
                    stray = source.poll(int(min(remaining, self._poll_timeout_ms / 1000) * 1000) or 1, 1)
                except TransientError:
                    time.sleep(min(remaining, 0.1))
                    continue
                self._give_back(source, stray)
                self._after_poll(source)
        finally:
            if source is not None:
                source.resume_all()

    @staticmethod
    def _give_back(source: Source, stray: Iterable[Message]) -> None:
        """Seeks back over messages polled while paused (newly assigned partitions), so none is skipped."""
        first: dict[Partition, int] = {}
        for message in stray:
            first[message.source] = min(first.get(message.source, message.offset), message.offset)
        for partition, offset in first.items():
            source.seek(partition, offset)

    def _retry(self, what: str, fn: Callable[[], T]) -> T:
        while True:
            if self._stop:
                raise _Stopped
            self._state.beat()
            try:
                value = fn()
            except TransientError as exc:
                self._transient(exc)
                continue
            except FatalError:
                raise
            except Exception as exc:  # connecting: any client error (e.g. no broker yet) is retried
                self._transient(TransientError(f"{what}: {type(exc).__name__}: {exc}"))
                continue
            self._backoff.reset()
            return value

    def _require_source(self) -> Source:
        if self._source is None:  # pragma: no cover - run() creates it before polling
            raise RuntimeError("the Kafka source is not open")
        return self._source


class _Stopped(Exception):
    """Raised inside start-up retries when a stop was requested."""
