"""The consumer's fuzz corpus (`tests/consumer/fuzz`) written into a spool, read by `status`, `tail` and the
forwarder (into the real broker): none of them crashes, each counts what it skips, nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from omniclaude import _fastjson
from omniclaude.cli import main
from omniclaude.cli.tail import readable
from omniclaude.forwarder.run import Forwarder, RunOptions
from omniclaude.forwarder.state import read_state
from omniclaude.spool import QUARANTINE_NAME, Spool

from tests.consumer.fuzz import corpus
from tests.omniclaude.forwarder.helpers import make_settings

COUNT = 3000


def spool_lines() -> list[bytes]:
    """One spool line per corpus item: its bytes with newlines made spaces (a line is what a spool holds)."""
    return [(item.value or b"").replace(b"\n", b" ") for item in corpus(COUNT, "fz", seed=5)]


def fill(directory: str, lines: list[bytes]) -> None:
    spool = Spool(directory, segment_bytes=4 * 1024 * 1024)
    for line in lines:
        spool.append(line + b"\n")


def is_event(line: bytes) -> bool:
    """What the spool reader may hand on: a UTF-8 JSON object with a string event_id, not too deep."""
    try:
        event = readable(line.decode("utf-8"))
    except UnicodeDecodeError:
        return False
    return event is not None and not _fastjson.exceeds_depth(event, _fastjson.EVENT_MAX_DEPTH)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path / "oc"))
    monkeypatch.delenv("OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    return tmp_path / "oc"


def status(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["status", "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_status_tail_and_the_forwarder_read_the_fuzz_corpus(
    home: Path, kafka: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [line for line in spool_lines() if line.strip()]
    spool_dir = str(home / "state" / "spool")
    fill(spool_dir, lines)
    events = sum(is_event(line) for line in lines)
    unreadable = len(lines) - events
    assert events > 500 and unreadable > 500

    before = status(capsys)
    assert before["pending_events"] == len(lines) and before["unreadable_lines"] == 0

    assert main(["tail", "-n", str(len(lines))]) == 0
    out, err = capsys.readouterr()
    shown = out.splitlines()
    assert len(shown) == len(lines) and all("\x1b" not in line and "\x00" not in line for line in shown)
    # tail shows what it can: a line that is not UTF-8 is shown with replacement characters
    no_summary = sum(readable(line.decode("utf-8", "replace")) is None for line in lines)
    assert sum(line.startswith("unreadable line (") for line in shown) == no_summary
    assert f"{no_summary} unreadable line(s)" in err
    assert main(["tail", "-n", str(len(lines)), "--json"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == len(lines) - no_summary and f"{no_summary} unreadable line(s)" in err

    settings = make_settings(home, kafka.bootstrap)
    forwarder = Forwarder([spool_dir], settings)
    result = forwarder.run(RunOptions(until_empty=True, timeout=240, failure_limit=240))
    assert result.reason == "drained", result
    assert result.delivered == events  # every event left: as itself, or as a dead-letter stand-in
    assert read_state(spool_dir)["skipped_total"] == unreadable

    after = status(capsys)
    assert after["pending_events"] == 0
    assert after["unreadable_lines"] == unreadable == after["quarantined_lines"]
    assert Path(spool_dir, QUARANTINE_NAME).read_bytes().count(b"\n") == unreadable
