"""The poll loop with an in-memory source and writer (arroyo's local backend idea): order of the steps."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from omniclaude.backoff import Backoff
from omniclaude_consumer import errors
from omniclaude_consumer.dlq import DeadLetter, DeadLetterLimit
from omniclaude_consumer.health import ConsumerState
from omniclaude_consumer.loop import Loop
from omniclaude_consumer.message import Message, Partition
from omniclaude_consumer.source import CommitLost
from omniclaude_consumer.writer import Pending, Rejected, WriteResult

from tests.consumer import factory

PREFIX = "u"


class Journal(list[str]):
    pass


class FakeSource:
    def __init__(self, journal: Journal, polls: list[list[Message]], on_empty: Callable[[], None]) -> None:
        self.journal = journal
        self.polls = polls
        self.on_empty = on_empty
        self.committed: dict[Partition, int] = {}
        self.assigned = {Partition(t, 0) for t in factory.event_topics(PREFIX)}
        self.revoke_next: set[Partition] = set()
        self.revoked: set[Partition] = set()
        self.commit_errors: list[Exception] = []
        self.paused: set[Partition] = set()
        self.journal_polls = False

    def poll(self, timeout_ms: int, max_records: int) -> list[Message]:
        if self.revoke_next and self.paused:  # a rebalance while the loop backs off
            self.revoked |= self.revoke_next
            self.assigned -= self.revoke_next
            self.revoke_next = set()
        if self.paused:
            return []
        if self.polls:
            if self.journal_polls:
                self.journal.append("poll")
            return self.polls.pop(0)
        self.on_empty()
        return []

    def commit(self, offsets: dict[Partition, int]) -> None:
        self.journal.append(f"commit {sorted(offsets.values())}")
        if self.commit_errors:
            raise self.commit_errors.pop(0)
        self.committed.update(offsets)

    def assignment(self) -> set[Partition]:
        return set(self.assigned)

    def take_revoked(self) -> set[Partition]:
        out, self.revoked = self.revoked, set()
        return out

    def pause(self, partitions: Iterable[Partition]) -> None:
        self.paused |= set(partitions)

    def resume_all(self) -> None:
        self.paused = set()

    def seek(self, partition: Partition, offset: int) -> None:
        pass

    def highwater(self, partition: Partition) -> int | None:
        return 100

    def close(self) -> None:
        self.journal.append("close")


class FakeWriter:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.failures: list[Exception] = []
        self.reject: set[str] = set()  # event ids the "database" refuses
        self.rows: list[Any] = []

    def write(self, batch: Mapping[str, Sequence[Pending[Message]]]) -> WriteResult[Message]:
        self.journal.append("write")
        if self.failures:
            raise self.failures.pop(0)
        result: WriteResult[Message] = WriteResult()
        for table, rows in batch.items():
            for pending in rows:
                if str(pending.row["event_id"]) in self.reject:
                    result.rejected.append(Rejected(pending.ref, errors.RowRejected("check violation", "23514"), 2))
                else:
                    self.rows.append(pending.row)
                    result.written[table] += 1
        return result

    def start(self, batch: Mapping[str, Sequence[Pending[Message]]]) -> Any:
        """Writes at once; the outcome (result or error) is handed out by `result()`, as the real one."""
        try:
            return _Started(self.write(batch))
        except errors.TransientError as exc:
            return _Started(exc)

    def ping(self) -> None:
        pass

    def call(self, fn: Callable[[Any], Any]) -> Any:
        return fn(None)

    def close(self) -> None:
        pass


class _Started:
    def __init__(self, outcome: WriteResult[Message] | errors.TransientError) -> None:
        self.outcome = outcome

    def result(self) -> WriteResult[Message]:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class FakeDeadLetters:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.failures: list[Exception] = []
        self.sent: list[DeadLetter] = []

    def send(self, letters: Sequence[DeadLetter]) -> None:
        self.journal.append(f"dlq {len(letters)}")
        if self.failures:
            raise self.failures.pop(0)
        self.sent.extend(letters)

    def close(self, timeout: float = 5.0) -> None:
        pass


def messages(records: Sequence[factory.Record], start: int = 0) -> list[Message]:
    return [Message(r.topic, 0, start + i, r.key, r.value, r.headers) for i, r in enumerate(records)]


class Harness:
    def __init__(
        self,
        polls: list[list[Message]],
        *,
        window: int = 1000,
        max_share: float = 0.5,
        check_schema: Callable[[Any], object] | None = None,
        commit_interval: float = 0.0,
    ) -> None:
        self.journal = Journal()
        self.state = ConsumerState()
        self.offered = [m for batch in polls for m in batch]
        self.empty_polls = 0
        self.source = FakeSource(self.journal, polls, self.stop_when_done)
        self.writer = FakeWriter(self.journal)
        self.dead = FakeDeadLetters(self.journal)
        self.loop = Loop(
            source_factory=lambda: self.source,
            writer=self.writer,  # type: ignore[arg-type]
            dead_letters=self.dead,  # type: ignore[arg-type]
            limit=DeadLetterLimit(window, max_share),
            state=self.state,
            topic_prefix=PREFIX,
            message_max_bytes=1 << 20,
            poll_timeout_ms=10,
            backoff=Backoff(0.001, 0.002),
            check_schema=check_schema,
            commit_interval_seconds=commit_interval,
        )

    def stop(self) -> None:
        self.loop.request_stop()

    def stop_when_done(self) -> None:
        """Called on an empty poll: stop once every offered message is committed (or after a while)."""
        self.empty_polls += 1
        done = all(self.source.committed.get(m.source, -1) > m.offset for m in self.offered)
        if done or self.empty_polls > 200:
            self.stop()

    def run(self) -> int:
        return self.loop.run()


def good(n: int, seed: int = 1) -> list[factory.Record]:
    return list(factory.good_stream(n, PREFIX, seed=seed, execution_share=0))


def test_write_then_dead_letters_then_commit() -> None:
    rng = random.Random(1)
    records = [*good(5), factory.poison(PREFIX, rng, max_bytes=1 << 20)[0]]
    batch = messages(records)
    h = Harness([batch])
    assert h.run() == 0
    assert h.journal[:2] == ["write", "dlq 1"]
    assert h.journal[2].startswith("commit ")
    assert h.source.committed[batch[-1].source] == batch[-1].offset + 1
    assert h.dead.sent[0].reason == "not_json"
    snap = h.state.snapshot()
    assert snap.consumed == len(batch) and snap.dead_lettered["not_json"] == 1 and snap.stopped


def test_transient_database_failure_retries_the_batch_and_commits_only_after_success() -> None:
    batch = messages(good(3))
    h = Harness([batch])
    h.writer.failures = [errors.DatabaseUnavailable("connection refused"), errors.DatabaseUnavailable("again")]
    assert h.run() == 0
    assert h.journal[:4] == ["write", "write", "write", "dlq 0"]
    assert h.journal[4].startswith("commit")
    assert len(h.writer.rows) == 3
    snap = h.state.snapshot()
    assert snap.retries == 2 and not snap.backing_off and snap.database_ok


def test_a_failed_dead_letter_is_retried_without_writing_again_and_blocks_the_commit() -> None:
    records = [factory.Record(f"{PREFIX}.agent-actions", None, b"{nope", reason="not_json"), *good(1)]
    h = Harness([messages(records)])
    h.dead.failures = [errors.BrokerUnavailable("no broker")]
    assert h.run() == 0
    assert [j.split()[0] for j in h.journal[:4]] == ["write", "dlq", "dlq", "commit"]


def test_rows_the_database_rejects_are_dead_lettered_and_the_rest_written() -> None:
    records = good(4)
    h = Harness([messages(records)])
    h.writer.reject = {records[1].event_id or ""}
    assert h.run() == 0
    assert len(h.writer.rows) == 3
    assert [d.reason for d in h.dead.sent] == ["db_rejected"] and h.dead.sent[0].attempts == 2


def test_a_failed_offset_commit_is_retried_and_a_lost_one_is_dropped() -> None:
    h = Harness([messages(good(2)), messages(good(2, seed=2), start=10)])
    h.source.commit_errors = [errors.BrokerUnavailable("coordinator moving"), CommitLost("rebalanced")]
    assert h.run() == 0
    assert h.journal.count("write") == 2


def test_revoked_partitions_leave_the_in_flight_batch() -> None:
    records = good(6)
    batch = messages(records)
    h = Harness([batch])
    # the database is down; meanwhile the partitions of the first message are revoked
    h.writer.failures = [errors.DatabaseUnavailable("down")]
    h.source.revoke_next = {batch[0].source}
    assert h.run() == 0
    remaining = [m for m in batch if m.source != batch[0].source]
    assert len(h.writer.rows) == len(remaining)


def test_the_dead_letter_limit_stops_the_loop_before_anything_is_written() -> None:
    bad = [factory.Record(f"{PREFIX}.agent-actions", None, b"{nope") for _ in range(150)]
    h = Harness([messages(bad + good(50))], window=1000, max_share=0.5)
    assert h.run() == 3
    assert "write" not in h.journal and not any(j.startswith("commit") for j in h.journal)
    snap = h.state.snapshot()
    assert snap.limit_exceeded and snap.stopped


def test_stop_while_backing_off_abandons_the_batch_uncommitted() -> None:
    h = Harness([messages(good(2))])
    h.writer.failures = [errors.DatabaseUnavailable("down")] * 1000
    h.writer.failures[0] = errors.DatabaseUnavailable("down")
    original = h.writer.write

    def write(batch: Any) -> Any:
        if h.journal.count("write") >= 3:
            h.stop()
        return original(batch)

    h.writer.write = write  # type: ignore[method-assign]
    assert h.run() == 0
    assert not any(j.startswith("commit") for j in h.journal)
    assert h.state.snapshot().stopped


def test_schema_behind_exits_1() -> None:
    def check(conn: Any) -> None:
        raise errors.SchemaNotReady("behind by 1")

    h = Harness([], check_schema=check)
    assert h.run() == 1
    assert h.journal == []


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    backoff = Backoff(0.1, 1.0, random.Random(0).random)
    delays = [backoff.next_delay() for _ in range(8)]
    assert 0.05 <= delays[0] <= 0.1 and 0.1 <= delays[1] <= 0.2
    assert all(0.5 <= d <= 1.0 for d in delays[4:])
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_counters_reach_the_state() -> None:
    h = Harness([messages(good(3))])
    h.run()
    snap = h.state.snapshot()
    assert sum(snap.written.values()) == 3 and snap.batches == 1
    assert Counter(snap.dead_lettered)["not_json"] == 0


def test_the_next_poll_and_the_commit_overlap_a_write_and_each_batch_is_durable_before_the_next_is_written() -> None:
    h = Harness([messages(good(2)), messages(good(2, seed=2), start=10), messages(good(2, seed=3), start=20)])
    h.source.journal_polls = True
    assert h.run() == 0
    steps = [j.split()[0] for j in h.journal]
    # poll 1, write 1 | poll 2, dead letters 1, write 2, commit 1 | ... | dead letters 3, commit 3
    assert steps[:6] == ["poll", "write", "poll", "dlq", "write", "commit"]
    assert steps[6:10] == ["poll", "dlq", "write", "commit"]
    assert steps[10:12] == ["dlq", "commit"]  # the last batch: no poll was waiting
    commits = [j for j in h.journal if j.startswith("commit")]
    assert [c.rsplit(" ", 1)[-1].strip("[]") for c in commits[:3]] == ["2", "12", "22"]  # in batch order


def test_while_batches_follow_one_another_offsets_are_committed_at_most_once_an_interval() -> None:
    polls = [messages(good(2, seed=n), start=10 * n) for n in range(4)]
    h = Harness(polls, commit_interval=3600)
    assert h.run() == 0
    commits = [j for j in h.journal if j.startswith("commit")]
    # the first batch (no commit yet), then none while a write follows, then the last batch at once
    assert len(commits) == 2 and commits[-1].endswith("32]")
    assert all(h.source.committed[m.source] > m.offset for batch in polls for m in batch)
    assert h.state.snapshot().batches == 4
