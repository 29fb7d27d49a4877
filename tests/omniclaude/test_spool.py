import json
import multiprocessing
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omniclaude import envelope
from omniclaude.spool import (
    QUARANTINE_NAME,
    Position,
    Spool,
    SpoolReader,
    event_or_problem,
    list_segments,
    quarantined_lines,
    segment_bytes_for,
)


def _line(writer: int, index: int, pad: int = 0) -> bytes:
    event = envelope.new_envelope("agent_action", {"writer": writer, "index": index, "pad": "x" * pad}, "logger", {})
    return envelope.encode(event, 10 * 1024 * 1024)


def _write_many(directory: str, writer: int, count: int, segment_bytes: int) -> None:
    spool = Spool(directory, 1 << 30, segment_bytes)
    for index in range(count):
        spool.append(_line(writer, index, pad=random.randint(0, 300)))


def drain(directory: str) -> tuple[list[dict[str, object]], int]:
    reader = SpoolReader(directory)
    events: list[dict[str, object]] = []
    skipped = 0
    while True:
        batch = reader.read(max_events=997)
        skipped += batch.skipped
        if not batch.events and batch.end == reader.cursor:
            return events, skipped
        events.extend(batch.events)
        reader.commit(batch.end)


def test_files_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    Spool(str(directory)).append(_line(0, 0))
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_nothing_is_created_before_the_first_write(tmp_path: Path) -> None:
    Spool(str(tmp_path / "spool"))
    assert not (tmp_path / "spool").exists()


def test_eight_concurrent_writers_and_a_concurrent_reader_lose_and_double_nothing(tmp_path: Path) -> None:
    directory = str(tmp_path / "spool")
    Spool(directory).ensure()
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_write_many, args=(directory, n, 1000, 64 * 1024)) for n in range(8)]
    for process in writers:
        process.start()
    reader = SpoolReader(directory)
    events: list[dict[str, object]] = []
    while any(process.is_alive() for process in writers):
        batch = reader.read(max_events=500)
        events.extend(batch.events)
        reader.commit(batch.end)
    for process in writers:
        process.join()
        assert process.exitcode == 0
    rest, skipped = drain(directory)
    events.extend(rest)
    assert skipped == 0
    ids = [event["event_id"] for event in events]
    assert len(ids) == 8000 and len(set(ids)) == 8000
    by_writer: dict[int, list[int]] = {}
    for event in events:
        payload = event["payload"]
        assert isinstance(payload, dict)
        by_writer.setdefault(payload["writer"], []).append(payload["index"])
    assert all(indexes == list(range(1000)) for indexes in by_writer.values())
    assert len([seg for seg in list_segments(directory)]) == 1


KILLED_WRITER = """
import sys
sys.path.insert(0, sys.argv[2])
from omniclaude.spool import Spool
spool = Spool(sys.argv[1], 1 << 30)
line = b'{"event_id":"big","payload":"' + b"y" * (1 << 20) + b'"}\\n'
print("ready", flush=True)
while True:
    spool.append(line)
"""


def test_a_writer_killed_mid_write_leaves_every_complete_line_readable(tmp_path: Path) -> None:
    directory = str(tmp_path / "spool")
    lib = str(Path(__file__).resolve().parents[2] / "lib")
    torn_possible = 0
    for _round in range(5):
        process = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, directory, lib], stdout=subprocess.PIPE)
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        time.sleep(random.uniform(0.01, 0.2))
        process.send_signal(signal.SIGKILL)
        process.wait()
        torn_possible += 1
        spool = Spool(directory, 1 << 30)
        for index in range(3):
            spool.append(_line(_round, index))
    events, skipped = drain(directory)
    small = [event for event in events if event["event_id"] != "big"]
    assert len(small) == 15
    assert all(event["payload"]["pad"] == "" for event in small)  # type: ignore[index]
    assert skipped <= torn_possible
    errors = Path(directory, "errors.log")
    assert (errors.read_text().count("unreadable-line") if errors.exists() else 0) == skipped


def test_a_torn_tail_is_ended_before_the_next_line(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(str(directory))
    spool.append(_line(0, 0))
    segment = list_segments(str(directory))[0][1]
    with open(segment, "ab") as handle:
        handle.write(b'{"event_id": "torn", "payl')
    spool.append(_line(0, 1))
    events, skipped = drain(str(directory))
    assert [event["payload"]["index"] for event in events] == [0, 1]  # type: ignore[index]
    assert skipped == 1
    assert "unreadable-line" in (directory / "errors.log").read_text()


def test_the_cap_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    directory = str(tmp_path / "spool")
    cap = 1024 * 1024
    spool = Spool(directory, cap)
    written = count = 0
    while written < 4 * cap:
        line = _line(0, count, pad=1000)
        spool.append(line)
        written += len(line)
        count += 1
    total = sum(os.path.getsize(path) for _seq, path, _sealed in list_segments(directory))
    assert total <= cap + segment_bytes_for(cap)
    dropped_lines = Path(directory, "dropped.log").read_text().splitlines()
    dropped = sum(int(line.split()[1]) for line in dropped_lines)
    events, skipped = drain(directory)
    indexes = [event["payload"]["index"] for event in events]  # type: ignore[index]
    assert skipped == 0 and dropped > 0
    assert len(events) + dropped == count
    assert indexes == list(range(count - len(events), count))  # the newest survive, in order


def test_cursor_survives_a_new_reader_and_pending_counts(tmp_path: Path) -> None:
    directory = str(tmp_path / "spool")
    spool = Spool(directory)
    for index in range(10):
        spool.append(_line(0, index))
    reader = SpoolReader(directory)
    batch = reader.read(max_events=4)
    assert len(batch.events) == 4
    reader.commit(batch.end)
    assert SpoolReader(directory).pending()[0] == 6
    uncommitted = SpoolReader(directory).read(max_events=3)
    again = SpoolReader(directory).read(max_events=3)
    assert [e["event_id"] for e in uncommitted.events] == [e["event_id"] for e in again.events]
    events, _ = drain(directory)
    assert [event["payload"]["index"] for event in events] == list(range(4, 10))  # type: ignore[index]
    assert SpoolReader(directory).pending()[0] == 0


def test_sealed_segments_are_deleted_once_shipped(tmp_path: Path) -> None:
    directory = str(tmp_path / "spool")
    spool = Spool(directory, 16 * 64 * 1024)
    for index in range(400):
        spool.append(_line(0, index, pad=500))
    assert len(list_segments(directory)) > 1
    events, _ = drain(directory)
    assert len(events) == 400
    remaining = list_segments(directory)
    assert len(remaining) == 1 and not remaining[0][2]
    spool.append(_line(0, 400))
    events, _ = drain(directory)
    assert [event["payload"]["index"] for event in events] == [400]  # type: ignore[index]


def test_lines_that_are_not_events_are_skipped_and_counted(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(str(directory))
    for raw in (b"not json\n", b"[1,2]\n", b'{"no_id": 1}\n', b"\xff\xfe\n"):
        spool.append(raw)
    spool.append(_line(0, 0))
    events, skipped = drain(str(directory))
    assert len(events) == 1 and skipped == 4


def test_a_batch_read_unparsed_hands_its_lines_over_while_it_is_read(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path))
    for index in range(11):
        spool.append(_line(0, index))
        if index == 4:
            spool.append(b"not json\n")  # unparsed: handed over and counted like the others
    handed: list[list[bytes]] = []
    batch = SpoolReader(str(tmp_path)).read(max_events=10, on_lines=handed.append, every=3, parse=False)
    assert [len(lines) for lines in handed] == [3, 3, 3]  # the last one is only in the batch
    assert [line for lines in handed for line in lines] == batch.lines[:9]
    assert len(batch.lines) == 10 and batch.lines[5] == b"not json"
    assert [json.loads(line)["payload"]["index"] for line in batch.lines if line != b"not json"] == list(range(9))


def test_a_batch_read_unparsed_holds_every_line_and_the_caller_counts_the_unreadable(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path))
    for index in range(4):
        spool.append(_line(0, index))
        if index == 1:
            spool.append(b"not json\n")
    reader = SpoolReader(str(tmp_path))
    batch = reader.read(max_events=10, parse=False)
    assert batch.events == [] and len(batch.lines) == len(batch.starts) == 5 and batch.skipped == 0
    problems = [event_or_problem(line) for line in batch.lines]
    assert [isinstance(problem, str) for problem in problems] == [False, False, True, False, False]
    assert batch.starts[3] == batch.starts[2] + len(b"not json\n")
    assert reader.unreadable(batch, 2, "not JSON")
    assert not reader.unreadable(batch, 2, "not JSON")  # counted already: the batch read again
    errors = (tmp_path / "errors.log").read_text().split()
    segment = os.path.basename(list_segments(str(tmp_path))[0][1])
    assert errors[1:] == ["unreadable-line", segment, str(batch.starts[2]), "not", "JSON"]
    assert (tmp_path / QUARANTINE_NAME).read_bytes() == b"not json\n"
    assert reader.read(max_events=10).skipped == 0  # the parsing reader knows it was counted


def test_a_stale_cursor_is_reset(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    Spool(str(directory)).append(_line(0, 0))
    (directory / "cursor").touch(mode=0o600)
    (directory / "cursor").write_text("99 12\n")
    events, _ = drain(str(directory))
    assert len(events) == 1
    (directory / "cursor").write_text("garbage")
    assert SpoolReader(str(directory)).cursor == Position(0, 0)


def test_unwritable_spool_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        Spool(str(blocker / "spool")).append(_line(0, 0))


def test_no_code_uses_a_literal_tmp_path() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("lib", "consumer", "hooks", "skills"):
        for path in (root / folder).rglob("*"):
            if not path.is_file() or path.suffix not in {".py", ".sh", ""} or "__pycache__" in path.parts:
                continue
            text = path.read_text(errors="replace")
            if '"/tmp' in text or "'/tmp" in text:
                offenders.append(str(path))
    install = root / "install.sh"
    if install.exists() and "/tmp" in install.read_text():
        offenders.append(str(install))
    assert offenders == []


def test_deep_and_unparsable_lines_are_quarantined_once_even_when_read_again(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(str(directory))
    deep_event = b'{"event_id": "e", "payload": ' + b"[" * 80 + b"]" * 80 + b"}\n"
    for raw in (b"[" * 200_000 + b"\n", b'{"a":' * 5000 + b"\n", deep_event):
        spool.append(raw)
    spool.append(_line(0, 0))
    reader = SpoolReader(str(directory))
    first = reader.read()
    again = reader.read()  # the delivery failed: the same batch is read again
    assert len(first.events) == len(again.events) == 1
    assert (first.skipped, again.skipped) == (3, 0)
    errors = (directory / "errors.log").read_text().splitlines()
    assert len(errors) == 3 and "nested deeper than" in errors[0] and "nested deeper than" in errors[2]
    assert (directory / QUARANTINE_NAME).read_bytes().count(b"\n") == 3 == quarantined_lines(str(directory))
    assert oct((directory / QUARANTINE_NAME).stat().st_mode & 0o777) == "0o600"


def test_a_line_still_being_written_is_waited_for_even_when_the_file_grows_while_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader sees the start of a line a writer is still writing, and the file grows between its read
    and its end-of-file check: the start is no line of its own (it waits for the newline)."""
    import io

    from omniclaude import spool as spool_module

    directory = tmp_path / "spool"
    Spool(str(directory)).append(_line(0, 0))
    segment = list_segments(str(directory))[0][1]
    whole = _line(0, 1)
    with open(segment, "ab") as handle:
        handle.write(whole[:100])  # the writer is half-way through its line
    reader = SpoolReader(str(directory))
    reader.commit(reader.read().end)
    real_fdopen = os.fdopen

    class Growing(io.BufferedReader):
        def read(self, size: int | None = -1, /) -> bytes:
            data = super().read(size)
            if size == 1:  # the end-of-file probe: the writer has written more meanwhile
                return whole[100:101]
            return data

    monkeypatch.setattr(spool_module.os, "fdopen", lambda fd, mode: Growing(real_fdopen(fd, "rb", buffering=0)))
    batch = reader.read()
    monkeypatch.undo()
    assert batch.events == [] and batch.skipped == 0 and batch.end == reader.cursor
    with open(segment, "ab") as handle:
        handle.write(whole[100:])
    batch = reader.read()
    assert [event["payload"]["index"] for event in batch.events] == [1]  # type: ignore[index]
    assert batch.skipped == 0
