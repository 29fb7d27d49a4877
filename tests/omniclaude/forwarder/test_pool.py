"""PreparePool: the same results as preparing in-process, in order, and a fallback when a worker fails."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omniclaude.forwarder.pool import PreparePool
from omniclaude.forwarder.prepare import OutgoingRecord, prepare_each
from omniclaude.forwarder.redaction import CachingRedactor
from omniclaude.forwarder.run import Forwarder, RunOptions

from tests.omniclaude.forwarder.helpers import FakeClock, MemorySink, make_settings, new_event, write_events

SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def _events(count: int) -> list[dict[str, Any]]:
    events = [
        new_event(session=f"s{index % 3}", payload={"index": index, "note": f"token {SECRET}"})
        for index in range(count)
    ]
    return events


def _lines(events: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(event).encode() for event in events]


def _up(pool: PreparePool) -> PreparePool:
    """Waits until the pool's workers are up (it starts them), so that they take every chunk."""
    deadline = time.monotonic() + 60
    while not pool.ready():
        assert not pool.broken and time.monotonic() < deadline
        time.sleep(0.02)
    return pool


def test_results_match_preparing_in_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p")
    events = _events(40)
    expected = prepare_each(events, settings, CachingRedactor())
    pool = _up(PreparePool(settings, 2, inline=lambda rest: [], chunk_events=7))
    try:
        results = list(pool.batch().results(events, _lines(events)))
        assert results == expected
        assert (
            list(pool.batch().results(events[:3], _lines(events[:3]))) == expected[:3]
        )  # the workers serve batch after batch
    finally:
        pool.close()
    assert not pool.broken
    assert all(isinstance(result, OutgoingRecord) and SECRET not in result.value.decode() for result in results)
    assert not multiprocessing.active_children()


def test_chunks_sent_while_a_batch_is_read_come_first(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p")
    events = _events(23)
    lines = _lines(events)
    pool = _up(PreparePool(settings, 1, inline=lambda rest: [], chunk_events=5))
    try:
        sent = pool.batch()
        sent.add(lines[:5])
        sent.add(lines[5:10])
        assert list(sent.results(events, lines)) == prepare_each(events, settings, CachingRedactor())
    finally:
        pool.close()


def test_chunks_are_prepared_here_until_the_workers_are_up_then_by_them(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p")
    redactor = CachingRedactor()
    taken: list[int] = []

    def inline(rest: Sequence[dict[str, Any]]) -> list[OutgoingRecord | str]:
        if not taken:  # the first chunk: the worker is still starting; it is up when the chunk is done
            _up(pool)
        taken.append(len(rest))
        return prepare_each(rest, settings, redactor)

    pool = PreparePool(settings, 1, inline, chunk_events=5)
    events = _events(23)
    try:
        assert list(pool.batch().results(events, _lines(events))) == prepare_each(events, settings, redactor)
    finally:
        pool.close()
    assert taken == [5, 5]  # the second chunk too: the worker was sent the chunks after it
    assert not pool.broken


def test_a_worker_that_cannot_start_leaves_the_batch_to_this_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p", redact_patterns="(")  # the worker's redactor fails
    taken: list[int] = []

    def inline(rest: Sequence[dict[str, Any]]) -> list[OutgoingRecord | str]:
        taken.append(len(rest))
        return ["inline"] * len(rest)

    pool = PreparePool(settings, 1, inline, chunk_events=5)
    deadline = time.monotonic() + 60
    while not pool.broken:  # the worker's failure shows when the pool asks whether it is up
        assert not pool.ready() and time.monotonic() < deadline
        time.sleep(0.02)
    assert list(pool.batch().results(_events(12), _lines(_events(12)))) == ["inline"] * 12
    assert taken == [5, 5, 2]
    assert (
        list(pool.batch().results(_events(3), _lines(_events(3)))) == ["inline"] * 3
    )  # closed for good: no new worker
    assert not multiprocessing.active_children()


def test_a_killed_worker_leaves_the_rest_of_the_batch_to_this_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p")
    redactor = CachingRedactor()
    pool = _up(PreparePool(settings, 1, lambda rest: prepare_each(rest, settings, redactor), chunk_events=4))
    events = _events(400)  # 100 chunks: far more than the worker can finish before it is killed
    results = pool.batch().results(events, _lines(events))
    first = [next(results) for _ in range(4)]  # the first chunk came back: the worker runs
    for child in multiprocessing.active_children():
        os.kill(child.pid or 0, signal.SIGKILL)
    assert first + list(results) == prepare_each(events, settings, redactor)
    assert pool.broken
    pool.close()


def test_the_forwarder_prepares_large_batches_in_a_worker(tmp_path: Path) -> None:
    spool = tmp_path / "state" / "spool"
    spool.mkdir(parents=True, mode=0o700)
    written = write_events(spool, 1100)
    settings = make_settings(tmp_path, "kafka.invalid:9092", prefix="p", forwarder_workers=1)
    sink = MemorySink()
    clock = FakeClock()
    forwarder = Forwarder(
        [str(spool)], settings, sink=sink, clock=clock, sleep=clock.sleep, batch_events=500, pool_from=400
    )  # the first batch starts the worker; it gets the next ones chunk by chunk while they are read
    result = forwarder.run(RunOptions(until_empty=True))
    assert result.reason == "drained" and result.delivered == 1100 and sink.batches == 3
    assert sink.event_ids == [event_id for event_id, _session in written]
    assert forwarder._pool is not None and not forwarder._pool.broken
    assert not multiprocessing.active_children()  # closed when the run ended


KILLED_FORWARDER = """
import multiprocessing, sys, time
from pathlib import Path
from omniclaude.config import Settings
from omniclaude.forwarder.pool import PreparePool

if __name__ == "__main__":
    pool = PreparePool(Settings({}, home=sys.argv[1]), 1, lambda rest: [])
    list(pool.batch().results([{}], [b'{"event_id": "e", "event_type": "agent_action"}']))
    print(*[child.pid for child in multiprocessing.active_children()], flush=True)
    time.sleep(120)
"""


def test_a_worker_ends_when_its_forwarder_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "forwarder.py"
    script.write_text(KILLED_FORWARDER)
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        children = [int(pid) for pid in process.stdout.readline().split()]
        assert children
    finally:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
