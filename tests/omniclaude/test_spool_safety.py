"""Spool safety: a folder or file that is another user's, open to others or a symbolic link is refused.

Each planted folder or file (the spool folder, the temp-dir fallback, a segment, the cursor, the lock file,
forwarder.log) is refused: nothing is written to it, nothing is read or drained from it, and the refusal
or the dropped event is counted and reported. Runs as any user; "another user" is uid 65534 (nobody),
which needs root to chown to, so that variant is skipped for other users.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from omniclaude import envelope
from omniclaude.config import Settings, load_settings
from omniclaude.doctor import FAIL, WARN, check_spool
from omniclaude.forwarder.flush import default_spools
from omniclaude.forwarder.logs import LOG_NAME, configure_logging, remove_logging
from omniclaude.forwarder.run import Forwarder, RunOptions
from omniclaude.launcher import LOCK_NAME, forwarder_running
from omniclaude.logger import EventLogger, spool_safety
from omniclaude.paths import UnsafePathError
from omniclaude.spool import Spool, SpoolReader, unsafe_entries

from tests.omniclaude.forwarder.helpers import FakeClock, MemorySink, new_event, write_events

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
HOWS = ["open-to-others", "another-users", "symlink"]
INJECTED = b'{"event_id": "injected-by-another-user"}\n'


def _need_root(how: str) -> None:
    if how == "another-users" and os.geteuid() != 0:
        pytest.skip("chown to another user needs root")


def plant_dir(path: Path, how: str, elsewhere: Path) -> Path:
    """Makes `path` an unsafe folder; returns the folder whose content shows what was written."""
    _need_root(how)
    if how == "symlink":
        elsewhere.mkdir(mode=0o700, parents=True)
        path.symlink_to(elsewhere)
        return elsewhere
    path.mkdir(mode=0o700)
    if how == "open-to-others":
        path.chmod(0o777)
    else:
        os.chown(path, NOBODY, NOBODY)
    return path


def plant_file(path: Path, how: str, elsewhere: Path, content: bytes = INJECTED) -> Path:
    """Makes `path` an unsafe file holding `content`; returns the file whose content shows any write."""
    _need_root(how)
    if how == "symlink":
        elsewhere.write_bytes(content)
        path.symlink_to(elsewhere)
        return elsewhere
    path.write_bytes(content)
    if how == "open-to-others":
        path.chmod(0o666)
    else:
        path.chmod(0o600)
        os.chown(path, NOBODY, NOBODY)
    return path


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path with `home` (OMNICLAUDE_HOME) and `tmp` (the temp dir), both private."""
    (tmp_path / "home" / "state").mkdir(mode=0o700, parents=True)
    (tmp_path / "tmp").mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path


def settings_for(place: Path, **extra: str) -> Settings:
    return load_settings({"HOME": str(place), "OMNICLAUDE_HOME": str(place / "home"), **extra})


def fallback_root(place: Path) -> Path:
    return place / "tmp" / f"omniclaude-{os.geteuid()}"


def line(index: int = 0) -> bytes:
    return envelope.encode(new_event(payload={"index": index}), 256 * 1024)


def drain(directory: Path) -> list[str]:
    reader = SpoolReader(str(directory))
    ids: list[str] = []
    while True:
        batch = reader.read()
        if not batch.events and batch.end == reader.cursor:
            return ids
        ids += [str(event["event_id"]) for event in batch.events]
        reader.commit(batch.end)


def run_forwarder(settings: Settings, spools: list[str]) -> tuple[MemorySink, str | None]:
    sink = MemorySink()
    clock = FakeClock()
    forwarder = Forwarder(spools, settings, sink=sink, clock=clock, sleep=clock.sleep)
    result = forwarder.run(RunOptions(until_empty=True, timeout=5, failure_limit=5))
    return sink, result.last_error


# -- the spool folder and the temp-dir fallback -------------------------------------------------------


@pytest.mark.parametrize("how", HOWS)
def test_the_real_hook_drops_and_counts_when_the_fallback_is_planted(place: Path, how: str) -> None:
    primary = place / "home" / "state" / "spool"
    plant_dir(primary, "open-to-others", place / "unused")
    seen = plant_dir(fallback_root(place), how, place / "elsewhere")
    env = {
        "PATH": os.environ["PATH"],
        "CLAUDE_PLUGIN_ROOT": str(ROOT),
        "OMNICLAUDE_PYTHON": sys.executable,
        "HOME": str(place),
        "OMNICLAUDE_HOME": str(place / "home"),
        "TMPDIR": str(place / "tmp"),
    }
    hook = subprocess.run(
        ["sh", "-c", '"${CLAUDE_PLUGIN_ROOT}/hooks/run" hooks/capture.py UserPromptSubmit'],
        input=b'{"prompt": "hi"}',
        env=env,
        cwd=place,
        capture_output=True,
        timeout=60,
    )
    assert hook.returncode == 0 and hook.stdout == b""
    [said] = hook.stderr.decode().splitlines()
    assert "dropped a claude_hook event (counted in" in said
    assert f"{fallback_root(place)} is not safe to use: " in said
    assert os.listdir(primary) == [] and os.listdir(seen) == []
    assert not (place / ".omniclaude").exists()
    assert (place / "home" / "state" / "unspooled.log").read_text().count("\n") == 1

    status = subprocess.run(
        [sys.executable, "-m", "omniclaude", "status", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    report = json.loads(status.stdout)
    assert report["dropped_no_safe_spool"] == 1
    assert "group or others can access it (mode 0777)" in report["unsafe"][0]
    assert "refused:" in report["fallback_spool"]
    check = check_spool(settings_for(place))
    assert check.status == FAIL and "1 event(s) were dropped: no safe spool folder" in check.detail


@pytest.mark.parametrize("how", HOWS)
def test_an_unsafe_spool_folder_is_refused_for_the_fallback(
    place: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = plant_dir(place / "home" / "state" / "spool", how, place / "elsewhere")
    logger = EventLogger(settings_for(place))
    assert logger.log_event("agent_action", {"x": 1}) is not None
    assert os.listdir(seen) == []
    assert logger.spool.directory == str(fallback_root(place) / "spool")
    assert len(drain(fallback_root(place) / "spool")) == 1
    assert f"{place}/home/state/spool is not safe to use: " in capsys.readouterr().err
    assert unsafe_entries(str(place / "home" / "state" / "spool"))


@pytest.mark.parametrize("how", HOWS)
def test_forward_and_flush_never_drain_a_planted_fallback(place: Path, how: str) -> None:
    settings = settings_for(place, OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
    primary = write_events(place / "home" / "state" / "spool", 3)
    planted = place / "planted" / "spool"
    write_events(planted, 5)  # events "another user" put there
    root = fallback_root(place)
    if how == "symlink":
        root.symlink_to(planted.parent)
    else:
        planted.parent.rename(root)
        if how == "open-to-others":
            root.chmod(0o777)
        else:
            _chown_tree(root, how)
    refused: list[str] = []
    spools = default_spools(settings, lambda path, error: refused.append(f"{path}: {error}"))
    assert spools == [settings.dirs.spool]
    assert len(refused) == 1 and str(root) in refused[0]
    sink, _error = run_forwarder(settings, spools)
    assert sink.event_ids == [event_id for event_id, _ in primary]


def _chown_tree(root: Path, how: str) -> None:
    _need_root(how)
    for folder, _dirs, files in os.walk(root):
        os.chown(folder, NOBODY, NOBODY)
        for name in files:
            os.chown(os.path.join(folder, name), NOBODY, NOBODY)


def test_flush_says_which_spool_it_does_not_drain(place: Path) -> None:
    write_events(place / "planted", 2)
    (place / "planted").chmod(0o777)
    fallback_root(place).mkdir(mode=0o700)
    (place / "planted").rename(fallback_root(place) / "spool")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(place),
        "OMNICLAUDE_HOME": str(place / "home"),
        "TMPDIR": str(place / "tmp"),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-m", "omniclaude", "flush", "--timeout", "1", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"not draining {fallback_root(place) / 'spool'}" in done.stderr
    assert "group or others can access it (mode 0777)" in done.stderr
    assert json.loads(done.stdout)["spools"] == [str(place / "home" / "state" / "spool")]


def test_an_own_fallback_readable_by_others_is_made_private_and_used(place: Path) -> None:
    root = fallback_root(place)
    root.mkdir()
    root.chmod(0o755)  # as an older omniclaude left it
    blocker = place / "file"
    blocker.write_text("")
    logger = EventLogger(load_settings({"HOME": str(blocker), "OMNICLAUDE_HOME": str(blocker)}))
    assert logger.log_event("agent_action", {"x": 1}) is not None
    assert root.stat().st_mode & 0o777 == 0o700


# -- files inside the spool --------------------------------------------------------------------------


@pytest.mark.parametrize("how", HOWS)
def test_an_unsafe_segment_is_never_written_nor_read(place: Path, how: str) -> None:
    directory = place / "home" / "state" / "spool"
    spool = Spool(str(directory))
    spool.append(line(0))
    assert len(drain(directory)) == 1
    seen = plant_file(directory / f"{2:020d}.jsonl", how, place / "elsewhere")
    spool.append(line(1))
    assert seen.read_bytes() == INJECTED
    ids = drain(directory)
    assert len(ids) == 1 and "injected-by-another-user" not in ids
    assert seen.read_bytes() == INJECTED
    errors = (directory / "errors.log").read_text()
    assert "unsafe-file 00000000000000000002.jsonl" in errors
    assert any(f"{2:020d}.jsonl is not safe to use" in problem for problem in unsafe_entries(str(directory)))


@pytest.mark.parametrize("how", HOWS)
def test_an_unsafe_cursor_refuses_the_spool(place: Path, how: str) -> None:
    settings = settings_for(place)
    directory = place / "home" / "state" / "spool"
    write_events(directory, 2)
    seen = plant_file(directory / "cursor", how, place / "elsewhere", b"0 0\n")
    with pytest.raises(UnsafePathError):
        SpoolReader(str(directory))
    sink, error = run_forwarder(settings, [str(directory)])
    assert sink.records == [] and error is not None and "cursor is not safe to use" in error
    assert seen.read_bytes() == b"0 0\n"
    assert check_spool(settings).status == FAIL


@pytest.mark.parametrize("how", HOWS)
def test_an_unsafe_lock_file_refuses_the_spool(place: Path, how: str) -> None:
    settings = settings_for(place)
    directory = place / "home" / "state" / "spool"
    write_events(directory, 2)
    victim = place / "victim"
    _need_root(how)
    if how == "symlink":
        (directory / LOCK_NAME).symlink_to(victim)  # dangling: following it would create the victim
    else:
        plant_file(directory / LOCK_NAME, how, victim)
    sink, error = run_forwarder(settings, [str(directory)])
    assert sink.records == [] and error is not None and "forwarder.lock is not safe to use" in error
    assert forwarder_running(str(directory))  # so the hook starts no forwarder that would fail
    assert not victim.exists()
    assert spool_safety(settings).unsafe


@pytest.mark.parametrize("how", ["another-users", "symlink"])
def test_an_unsafe_forwarder_log_is_not_written(place: Path, how: str) -> None:
    directory = place / "home" / "state" / "spool"
    directory.mkdir(mode=0o700)
    victim = place / "victim"
    _need_root(how)
    if how == "symlink":
        (directory / LOG_NAME).symlink_to(victim)
    else:
        plant_file(directory / LOG_NAME, how, victim, b"")
    handler = configure_logging(settings_for(place), str(directory / LOG_NAME))
    try:
        assert type(handler) is logging.StreamHandler
        logging.getLogger("omniclaude.forwarder").warning("a line")
    finally:
        remove_logging(handler)
    assert not victim.exists()
    if how != "symlink":
        assert (directory / LOG_NAME).read_bytes() == b""


def test_an_own_forwarder_log_open_to_others_is_made_private(place: Path) -> None:
    directory = place / "home" / "state" / "spool"
    directory.mkdir(mode=0o700)
    (directory / LOG_NAME).write_text("older line\n")
    (directory / LOG_NAME).chmod(0o644)  # as an older omniclaude left it
    handler = configure_logging(settings_for(place), str(directory / LOG_NAME))
    logging.getLogger("omniclaude.forwarder").warning("a line")
    remove_logging(handler)
    assert (directory / LOG_NAME).stat().st_mode & 0o777 == 0o600
    assert (directory / LOG_NAME).read_text().count("\n") == 2
    (directory / f"{LOG_NAME}.1").write_text("rotated by an older omniclaude\n")
    (directory / f"{LOG_NAME}.1").chmod(0o644)
    assert unsafe_entries(str(directory)) == []  # made private when next used, never read back


# -- what omniclaude creates is private ------------------------------------------------------------------


def test_every_folder_and_file_omniclaude_creates_is_private(place: Path) -> None:
    old = os.umask(0)
    try:
        settings = settings_for(place)
        logger = EventLogger(load_settings({"HOME": str(place), "OMNICLAUDE_HOME": str(place / "new" / "oc")}))
        assert logger.log_event("agent_action", {"x": 1}) is not None
        handler = configure_logging(settings, os.path.join(logger.spool.directory, LOG_NAME))
        logging.getLogger("omniclaude.forwarder").warning("a line")
        remove_logging(handler)
        drain(Path(logger.spool.directory))
    finally:
        os.umask(old)
    created = place / "new"
    for folder, _dirs, files in os.walk(created):
        assert os.stat(folder).st_mode & 0o777 == 0o700, folder
        for name in files:
            assert os.stat(os.path.join(folder, name)).st_mode & 0o777 == 0o600, name
    assert sorted(os.listdir(logger.spool.directory)) == [f"{1:020d}.jsonl", "cursor", LOG_NAME]


def test_status_and_doctor_report_a_refused_fallback(place: Path) -> None:
    settings = settings_for(place)
    plant_dir(fallback_root(place), "open-to-others", place / "unused")
    check = check_spool(settings)
    assert check.status == WARN and "fallback refused" in check.detail
    assert f"{fallback_root(place)} is not safe to use" in check.detail
    assert check.fix is not None and "remove the folder it names" in check.fix
    assert "refused:" in str(spool_safety(settings).as_dict()["fallback_spool"])
