"""The drain loop with an in-memory sink and a fake clock: commit rules, backoff, idle and failure exits."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from omniclaude import backoff
from omniclaude import spool as spool_module
from omniclaude.backoff import Backoff
from omniclaude.forwarder.errors import DeliveryAbandoned, DeliveryError
from omniclaude.forwarder.lock import SpoolLock
from omniclaude.forwarder.run import PREPARE_FAILURE_LIMIT, Forwarder, RunOptions
from omniclaude.forwarder.state import read_state
from omniclaude.launcher import LOCK_NAME, forwarder_running
from omniclaude.spool import SpoolReader

from tests.omniclaude.forwarder.helpers import (
    FakeClock,
    MemorySink,
    append_raw,
    make_settings,
    new_event,
    write_events,
)


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "spool"
    path.mkdir(parents=True, mode=0o700)
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def forwarder(spool: Path | list[Path], sink: MemorySink, clock: FakeClock, **kwargs: Any) -> Forwarder:
    spools = spool if isinstance(spool, list) else [spool]
    settings = make_settings(spools[0].parent.parent, "kafka.invalid:9092", prefix="p")
    return Forwarder([str(path) for path in spools], settings, sink=sink, clock=clock, sleep=clock.sleep, **kwargs)


def pending(spool: Path) -> int:
    return SpoolReader(str(spool)).pending()[0]


def test_drains_in_spool_order_and_commits(spool: Path, clock: FakeClock) -> None:
    written = write_events(spool, 1200, max_bytes=1024 * 1024)  # 64 KiB segments: many of them
    sink = MemorySink()
    result = forwarder(spool, sink, clock, batch_events=100).run(RunOptions(until_empty=True))
    assert result.reason == "drained"
    assert result.delivered == 1200
    assert sink.event_ids == [event_id for event_id, _ in written]
    assert pending(spool) == 0
    assert len(list(spool.glob("*.sealed"))) == 0
    assert sink.closed
    assert read_state(str(spool))["delivered_total"] == 1200
    again = MemorySink()
    assert forwarder(spool, again, clock).run(RunOptions(until_empty=True)).delivered == 0
    assert again.records == []


def test_a_failed_batch_is_not_committed_and_is_sent_again(spool: Path, clock: FakeClock) -> None:
    written = write_events(spool, 30)
    sink = MemorySink()
    sink.fail_next = 3
    backoff.set_testing(False)  # the fake clock sleeps: see the real schedule
    units = iter([0.0, 1.0, 0.5])
    result = forwarder(
        spool, sink, clock, backoff_factory=lambda: Backoff(base=1.0, cap=8.0, rand=lambda: next(units))
    ).run(RunOptions(until_empty=True))
    assert result.reason == "drained"
    assert sink.event_ids == [event_id for event_id, _ in written]
    assert sink.batches == 4
    assert clock.sleeps[:3] == [0.5, 2.0, 3.0]  # 1 * [0.5, 1]; 2 * [0.5, 1]; 4 * [0.5, 1]
    state = read_state(str(spool))
    assert state["last_error"] == "broker unreachable (test)"
    assert state["last_error_at"] is not None
    assert state["delivered_total"] == 30


def test_idle_exit_releases_the_lock(spool: Path, clock: FakeClock) -> None:
    write_events(spool, 5)
    sink = MemorySink()
    result = forwarder(spool, sink, clock).run(RunOptions(idle_seconds=30))
    assert result.reason == "idle"
    assert len(sink.records) == 5
    assert 30 <= clock.now - 1000.0 <= 31
    assert not forwarder_running(str(spool))
    assert read_state(str(spool))["exit_reason"] == "idle"


def test_follow_never_exits_on_idle(spool: Path, clock: FakeClock) -> None:
    sink = MemorySink()
    fwd = forwarder(spool, sink, clock)

    def sleep(seconds: float) -> bool:
        clock.sleep(seconds)
        if clock.now > 1000.0 + 600:
            fwd.request_stop()
        return False

    fwd._sleep = sleep  # type: ignore[method-assign]
    assert fwd.run(RunOptions(follow=True, idle_seconds=1)).reason == "stopped"
    assert clock.now > 1600


def test_events_arriving_while_going_idle_are_not_stranded(
    spool: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lost wake-up race: a hook writes, sees the lock still held, and starts no forwarder."""
    write_events(spool, 2)
    late: list[tuple[str, str]] = []
    release = SpoolLock.release

    def release_then_write(self: SpoolLock) -> None:
        release(self)
        if not late:
            late.extend(write_events(spool, 3))

    monkeypatch.setattr(SpoolLock, "release", release_then_write)
    sink = MemorySink()
    result = forwarder(spool, sink, clock).run(RunOptions(idle_seconds=5))
    assert result.reason == "idle"
    assert sink.event_ids[-3:] == [event_id for event_id, _ in late]
    assert len(sink.records) == 5


def test_going_idle_leaves_new_events_to_a_forwarder_that_took_the_lock(
    spool: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    other: list[int] = []
    release = SpoolLock.release

    def release_then_other_forwarder_starts(self: SpoolLock) -> None:
        release(self)
        if not other:
            write_events(spool, 1)
            fd = os.open(spool / LOCK_NAME, os.O_RDWR)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            other.append(fd)

    monkeypatch.setattr(SpoolLock, "release", release_then_other_forwarder_starts)
    sink = MemorySink()
    try:
        result = forwarder(spool, sink, clock).run(RunOptions(idle_seconds=1))
    finally:
        os.close(other[0])
    assert result.reason == "idle"
    assert sink.records == []
    assert pending(spool) == 1


def test_a_held_lock_means_another_forwarder_runs(spool: Path, clock: FakeClock) -> None:
    write_events(spool, 3)
    lock = SpoolLock(str(spool))
    assert lock.acquire()
    try:
        sink = MemorySink()
        result = forwarder(spool, sink, clock).run()
    finally:
        lock.release()
    assert (result.reason, result.ok, sink.records) == ("locked", True, [])


def test_gives_up_after_the_failure_limit(spool: Path, clock: FakeClock) -> None:
    write_events(spool, 3)
    sink = MemorySink()
    sink.fail_next = 10**9
    backoff.set_testing(False)
    result = forwarder(spool, sink, clock).run(RunOptions(idle_seconds=30, failure_limit=120))
    assert (result.reason, result.ok) == ("failure-limit", False)
    assert 120 <= clock.now - 1000.0 <= 120 + 30
    assert max(clock.sleeps) <= 30.0
    state = read_state(str(spool))
    assert (state["exit_reason"], state["last_error"]) == ("failure-limit", "broker unreachable (test)")
    assert pending(spool) == 3
    assert not forwarder_running(str(spool))


def test_follow_keeps_retrying_past_the_failure_limit(spool: Path, clock: FakeClock) -> None:
    write_events(spool, 3)
    sink = MemorySink()
    sink.fail_next = 40
    result = forwarder(spool, sink, clock).run(RunOptions(follow=True, failure_limit=10, until_empty=True))
    assert result.reason == "drained"
    assert len(sink.records) == 3


def test_timeout(spool: Path, clock: FakeClock) -> None:
    write_events(spool, 3)
    sink = MemorySink()
    sink.fail_next = 10**9
    result = forwarder(spool, sink, clock).run(RunOptions(until_empty=True, timeout=50, failure_limit=50))
    assert result.reason in ("timeout", "failure-limit")
    assert not result.ok


def test_stop_during_delivery_abandons_the_batch(spool: Path, clock: FakeClock) -> None:
    write_events(spool, 4)

    class StoppingSink(MemorySink):
        def deliver(self, records: Any) -> None:
            fwd.request_stop()
            raise DeliveryAbandoned("stop requested")

    sink = StoppingSink()
    fwd = forwarder(spool, sink, clock)
    result = fwd.run()
    assert result.reason == "stopped"
    assert pending(spool) == 4
    assert read_state(str(spool))["exit_reason"] == "stopped"
    assert not forwarder_running(str(spool))


def test_torn_line_is_skipped_counted_and_reported(spool: Path, clock: FakeClock) -> None:
    first = write_events(spool, 3)
    append_raw(spool, b'{"event_id": "torn-in-the-mid')  # a writer killed mid-line
    second = write_events(spool, 3)  # the next writer ends the fragment with a newline first
    sink = MemorySink()
    result = forwarder(spool, sink, clock).run(RunOptions(until_empty=True))
    assert result.reason == "drained"
    assert sink.event_ids == [event_id for event_id, _ in first + second]
    errors = (spool / "errors.log").read_text().splitlines()
    assert len(errors) == 1 and "unreadable-line" in errors[0]
    state = read_state(str(spool))
    assert state["skipped_total"] == 1
    assert "skipped 1 unreadable line" in state["last_error"]
    again = MemorySink()
    forwarder(spool, again, clock).run(RunOptions(until_empty=True))
    assert again.records == []
    assert len((spool / "errors.log").read_text().splitlines()) == 1


def test_an_unreadable_line_is_counted_once_when_its_batch_is_sent_again(spool: Path, clock: FakeClock) -> None:
    first = write_events(spool, 2)
    append_raw(spool, b"not json\n")
    second = write_events(spool, 2)

    class FailsOnceAfterTaking(MemorySink):
        def deliver(self, records: Any) -> None:
            taken = list(records)  # every line was parsed, the unreadable one counted
            if not self.batches:
                self.batches += 1
                raise DeliveryError("broker unreachable (test)")
            super().deliver(taken)

    sink = FailsOnceAfterTaking()
    result = forwarder(spool, sink, clock).run(RunOptions(until_empty=True))
    assert (result.reason, result.delivered) == ("drained", 4)
    assert sink.event_ids == [event_id for event_id, _ in first + second]
    assert len((spool / "errors.log").read_text().splitlines()) == 1
    assert read_state(str(spool))["skipped_total"] == 1


def test_a_batch_of_unreadable_lines_only_is_counted_and_passed(spool: Path, clock: FakeClock) -> None:
    write_events(spool, 1)
    SpoolReader(str(spool)).commit(SpoolReader(str(spool)).read().end)
    append_raw(spool, b"not json\n[1, 2]\n")
    sink = MemorySink()
    result = forwarder(spool, sink, clock).run(RunOptions(until_empty=True))
    assert (result.reason, result.delivered) == ("drained", 0)
    assert sink.records == [] and pending(spool) == 0
    assert read_state(str(spool))["skipped_total"] == 2
    assert (spool / "quarantine.jsonl").read_bytes() == b"not json\n[1, 2]\n"


def test_unreadable_spool_is_reported_and_nothing_is_skipped(
    spool: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = write_events(spool, 5)

    real_open = spool_module.open_private

    def no_access(path: str, flags: int, mode: int = 0o600) -> Any:
        if path.endswith((".jsonl", ".sealed")):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode)

    monkeypatch.setattr(spool_module, "open_private", no_access)
    sink = MemorySink()
    result = forwarder(spool, sink, clock).run(RunOptions(until_empty=True, timeout=30, failure_limit=30))
    assert not result.ok
    assert sink.records == []
    state = read_state(str(spool))
    assert "cannot read the spool" in state["last_error"] and "Permission denied" in state["last_error"]
    monkeypatch.undo()
    result = forwarder(spool, sink, clock).run(RunOptions(until_empty=True))
    assert sink.event_ids == [event_id for event_id, _ in written]


def test_a_spool_path_that_is_a_file(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "state" / "spool"
    path.parent.mkdir(parents=True)
    path.write_text("not a folder")
    result = forwarder(path, MemorySink(), clock).run()
    assert (result.reason, result.ok) == ("error", False)
    assert result.last_error is not None and "cannot use the spool" in result.last_error


def test_an_event_that_cannot_be_prepared_becomes_a_dead_letter(spool: Path, clock: FakeClock) -> None:
    written = write_events(spool, 3)

    class Flaky:
        def redact(self, value: object) -> object:
            if isinstance(value, dict) and value.get("payload", {}).get("details", {}).get("index") == 1:
                raise RuntimeError("boom")
            return value

    sink = MemorySink()
    forwarder(spool, sink, clock, redactor=Flaky()).run(RunOptions(until_empty=True))
    ids = [event_id for event_id, _ in written]
    assert sink.event_ids == [ids[0], ids[2], ids[1]]  # dead-letter records go last (another topic)
    stand_in = sink.records[2]
    assert stand_in.topic == "p.dead-letter"
    assert ("reason", b"prepare-failed") in stand_in.headers
    assert json.loads(stand_in.value)["error"] == "RuntimeError: boom"


def test_many_events_failing_to_prepare_stop_the_batch_instead_of_dead_lettering(spool: Path, clock: FakeClock) -> None:
    write_events(spool, PREPARE_FAILURE_LIMIT + 5)

    class Broken:
        def redact(self, value: object) -> object:
            raise RuntimeError("bad deploy")

    sink = MemorySink()
    result = forwarder(spool, sink, clock, redactor=Broken()).run(RunOptions(until_empty=True, timeout=20))
    assert sink.records == []
    assert result.last_error is not None and "could not be prepared" in result.last_error
    assert pending(spool) == PREPARE_FAILURE_LIMIT + 5


def test_an_unexpected_error_is_reported_and_retried(spool: Path, clock: FakeClock) -> None:
    write_events(spool, 2)

    class Exploding(MemorySink):
        calls = 0

        def deliver(self, records: Any) -> None:
            self.calls += 1
            if self.calls == 1:
                raise KeyError("surprise")
            super().deliver(records)

    sink = Exploding()
    result = forwarder(spool, sink, clock).run(RunOptions(until_empty=True))
    assert result.reason == "drained"
    assert len(sink.records) == 2
    assert "KeyError" in read_state(str(spool))["last_error"]


def test_drains_several_spools(tmp_path: Path, clock: FakeClock) -> None:
    spools = [tmp_path / "state" / "spool", tmp_path / "fallback" / "spool"]
    written = [write_events(path, 10) for path in spools]
    sink = MemorySink()
    result = forwarder(spools, sink, clock).run(RunOptions(until_empty=True))
    assert result.delivered == 20
    assert sorted(sink.event_ids) == sorted(event_id for events in written for event_id, _ in events)


@pytest.fixture(autouse=True)
def _no_real_backoff() -> Iterator[None]:
    backoff.set_testing(True)
    yield
    backoff.set_testing(False)


def test_a_stop_event_brings_its_transcript_usage_into_the_same_drain(
    spool: Path, clock: FakeClock, tmp_path: Path
) -> None:
    from omniclaude import envelope
    from omniclaude.spool import Spool

    from tests.omniclaude.usage.test_transcript import assistant

    transcript = tmp_path / "session.jsonl"
    transcript.write_bytes(assistant("m1") + assistant("m1") + assistant("m2", model="<synthetic>"))
    stop = new_event(
        "claude_hook",
        payload={"hook_event_name": "Stop", "input": {"session_id": "s1", "transcript_path": str(transcript)}},
    )
    Spool(str(spool)).append(envelope.encode(stop, 256 * 1024))
    sink = MemorySink()
    result = forwarder(spool, sink, clock).run(RunOptions(until_empty=True))
    assert result.reason == "drained"
    topics = [record.topic for record in sink.records]
    assert topics == ["p.claude-hook-events", "p.llm-usage"]
    usage = json.loads(sink.records[1].value)
    assert (usage["payload"]["message_id"], usage["context"]["project_name"]) == ("m1", "demo")
    assert pending(spool) == 0
