"""A forwarder killed with SIGKILL while draining loses nothing; duplicates stay within the batches in flight."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from omniclaude.forwarder.run import BATCH_EVENTS
from omniclaude.spool import SpoolReader, list_segments

from tests.omniclaude.forwarder.helpers import consume, make_settings, write_events

EVENTS = 50_000
KILLS = 5


def forwarder_env(home: Path, bootstrap: str, prefix: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "OMNICLAUDE_HOME": str(home),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "OMNICLAUDE_TOPIC_PREFIX": prefix,
    }


def event_positions(spool: str) -> list[tuple[int, int]]:
    """The (segment, end offset) of every event line, in spool order: where the cursor is once it is shipped."""
    positions = []
    for seq, path, _sealed in list_segments(spool):
        offset = 0
        for line in Path(path).read_bytes().splitlines(keepends=True):
            offset += len(line)
            positions.append((seq, offset))
    return positions


def cursor(spool: str) -> tuple[int, int]:
    try:
        seq, offset = Path(spool, "cursor").read_text().split()
    except (OSError, ValueError):
        return (0, 0)
    return (int(seq), int(offset))


def test_sigkill_at_random_points_loses_nothing(kafka: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, kafka.bootstrap)
    spool = settings.dirs.spool
    written = write_events(spool, EVENTS, sessions=6, max_bytes=64 * 1024 * 1024)  # 4 MiB segments
    positions = event_positions(spool)
    env = forwarder_env(tmp_path, kafka.bootstrap, settings.topic_prefix)
    command = [sys.executable, "-m", "omniclaude", "forward", "--spool", spool, "--follow"]
    rng = random.Random(20261127)
    kill_after = sorted(rng.sample(range(EVENTS // 20, EVENTS - EVENTS // 10), KILLS))
    for index in kill_after:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while cursor(spool) < positions[index] and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))  # somewhere inside a later batch
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    assert SpoolReader(spool).pending()[0] > 0, "drained before the last kill"
    final = subprocess.run(
        [sys.executable, "-m", "omniclaude", "flush", "--spool", spool, "--timeout", "120"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert final.returncode == 0, final.stdout + final.stderr
    assert SpoolReader(spool).pending()[0] == 0

    records = consume(kafka.bootstrap, [f"{settings.topic_prefix}.agent-actions"])
    received = [json.loads(record.value)["event_id"] for record in records]
    assert set(received) == {event_id for event_id, _ in written}
    duplicates = len(received) - len(set(received))
    assert duplicates <= KILLS * BATCH_EVENTS, duplicates

    first_seen: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for record in records:
        event_id = json.loads(record.value)["event_id"]
        if event_id not in seen:
            seen.add(event_id)
            first_seen[record.key.decode()].append(event_id)
    expected: dict[str, list[str]] = defaultdict(list)
    for event_id, session in written:
        expected[session].append(event_id)
    assert first_seen == expected
