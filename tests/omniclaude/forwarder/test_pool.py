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

from omniclaude.forwarder.pool import Chunk, PreparePool
from omniclaude.forwarder.prepare import OutgoingRecord, Prepared, Unreadable, prepare_lines
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


def _prepared(lines: Sequence[bytes], settings: Any, redactor: Any) -> list[Prepared]:
    return prepare_lines(lines, settings, redactor, [])


def _inline(settings: Any, redactor: Any, taken: list[int] | None = None) -> Any:
    def inline(lines: Sequence[bytes]) -> Chunk:
        if taken is not None:
            taken.append(len(lines))
        triggers: list[dict[str, Any]] = []
        return prepare_lines(lines, settings, redactor, triggers), triggers

    return inline


def _up(pool: PreparePool) -> PreparePool:
    """Waits until the pool's workers are up (it starts them), so that they take every chunk."""
    deadline = time.monotonic() + 60
    while not pool.ready():
        assert not pool.broken and time.monotonic() < deadline
        time.sleep(0.02)
    return pool


def test_results_match_preparing_in_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p")
    stop = new_event("claude_hook", payload={"hook_event_name": "Stop", "input": {"transcript_path": "/t.jsonl"}})
    lines = [*_lines(_events(20)), b"not json", *_lines([stop]), *_lines(_events(20))]
    expected = _prepared(lines, settings, CachingRedactor())
    assert isinstance(expected[20], Unreadable) and expected[20].problem.startswith("JSONDecodeError")
    pool = _up(PreparePool(settings, 2, inline=_inline(settings, None, []), chunk_events=7))
    try:
        triggers: list[dict[str, Any]] = []
        results = list(pool.batch().results(lines, triggers))
        assert results == expected
        assert triggers == [json.loads(line) for line in lines if b'"Stop"' in line]  # gathered by the workers
        assert list(pool.batch().results(lines[:3], [])) == expected[:3]  # the workers serve batch after batch
    finally:
        pool.close()
    assert not pool.broken
    records = [result for result in results if isinstance(result, OutgoingRecord)]
    assert len(records) == 41 and all(SECRET not in record.value.decode() for record in records)
    assert not multiprocessing.active_children()


def test_chunks_sent_while_a_batch_is_read_come_first(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p")
    lines = _lines(_events(23))
    pool = _up(PreparePool(settings, 1, inline=_inline(settings, None, []), chunk_events=5))
    try:
        sent = pool.batch()
        sent.add(lines[:5])
        sent.add(lines[5:10])
        assert list(sent.results(lines, [])) == _prepared(lines, settings, CachingRedactor())
    finally:
        pool.close()


def test_chunks_are_prepared_here_until_the_workers_are_up_then_by_them(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p")
    redactor = CachingRedactor()
    taken: list[int] = []
    prepare = _inline(settings, redactor, taken)

    def inline(lines: Sequence[bytes]) -> Chunk:
        if not taken:  # the first chunk: the worker is still starting; it is up when the chunk is done
            _up(pool)
        return prepare(lines)

    pool = PreparePool(settings, 1, inline, chunk_events=5)
    lines = _lines(_events(23))
    try:
        assert list(pool.batch().results(lines, [])) == _prepared(lines, settings, redactor)
    finally:
        pool.close()
    assert taken == [5, 5]  # the second chunk too: the worker was sent the chunks after it
    assert not pool.broken


def test_a_worker_that_cannot_start_leaves_the_batch_to_this_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p", redact_patterns="(")  # the worker's redactor fails
    taken: list[int] = []

    def inline(lines: Sequence[bytes]) -> Chunk:
        taken.append(len(lines))
        return [Unreadable("inline")] * len(lines), []

    pool = PreparePool(settings, 1, inline, chunk_events=5)
    deadline = time.monotonic() + 60
    while not pool.broken:  # the worker's failure shows when the pool asks whether it is up
        assert not pool.ready() and time.monotonic() < deadline
        time.sleep(0.02)
    assert list(pool.batch().results(_lines(_events(12)), [])) == [Unreadable("inline")] * 12
    assert taken == [5, 5, 2]
    assert list(pool.batch().results(_lines(_events(3)), [])) == [Unreadable("inline")] * 3  # closed: no new worker
    assert not multiprocessing.active_children()


def test_a_killed_worker_leaves_the_rest_of_the_batch_to_this_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, prefix="p")
    redactor = CachingRedactor()
    pool = _up(PreparePool(settings, 1, _inline(settings, redactor), chunk_events=4))
    lines = _lines(_events(400))  # 100 chunks: far more than the worker can finish before it is killed
    results = pool.batch().results(lines, [])
    first = [next(results) for _ in range(4)]  # the first chunk came back: the worker runs
    for child in multiprocessing.active_children():
        os.kill(child.pid or 0, signal.SIGKILL)
    assert first + list(results) == _prepared(lines, settings, redactor)
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
    pool = PreparePool(Settings({}, home=sys.argv[1]), 1, lambda lines: ([], []))
    while not pool.ready():
        time.sleep(0.02)
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
