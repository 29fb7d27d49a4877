"""The capture hook as on Windows, simulated on POSIX (`winsim.py`): no fcntl, no posix_spawn, win32.

These have not run on native Windows; they prove that the Windows branches (msvcrt locks, the subprocess
launch with Windows creation flags, binary-mode opens) work and that no POSIX-only call is left on the path.
"""

import fcntl
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from omniclaude.launcher import WINDOWS_CREATION_FLAGS

ROOT = Path(__file__).resolve().parents[2]
WINSIM = Path(__file__).with_name("winsim.py")
FIXTURE = [json.loads(line) for line in (ROOT / "tests" / "fixtures" / "claude-code-2.1.328-session.jsonl").open()]
WINDOWS_MODULES = {"msvcrt", "subprocess", "winreg", "_winapi", "nt", "_overlapped"}
POSIX_MODULES = {"fcntl", "pwd", "grp", "termios", "resource", "_posixsubprocess"}

WRITER = """
import sys
sys.path.insert(0, {lib!r})
from omniclaude.logger import get_logger
writer = sys.argv[1]
for number in range({count}):
    assert get_logger().log_event("claude_hook", {{"writer": writer, "number": number}}, source="hook")
"""


def base_env(home: Path, report: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "OMNICLAUDE_HOME": str(home),
        "WINSIM_REPORT": str(report),
        "USERNAME": "tester",
        "COMPUTERNAME": "box",
    }


def run_as_windows(
    script: Path, args: list[str], env: dict[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-I", "-S", str(WINSIM), str(script), *args],
        input=stdin,
        env=env,
        capture_output=True,
        timeout=120,
    )


def reports(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def spooled(home: Path) -> list[dict[str, object]]:
    spool = home / "state" / "spool"
    return [json.loads(line) for path in sorted(spool.glob("*.jsonl")) for line in path.read_bytes().splitlines()]


def test_the_real_hook_records_events_as_on_windows(tmp_path: Path) -> None:
    home, report = tmp_path / "oc", tmp_path / "report"
    for record in FIXTURE[:6]:
        stdin = record["stdin"]
        result = run_as_windows(
            ROOT / "hooks" / "capture.py",
            [stdin["hook_event_name"]],
            base_env(home, report),
            json.dumps(stdin).encode(),
        )
        assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    events = spooled(home)
    assert [event["payload"]["input"] for event in events] == [record["stdin"] for record in FIXTURE[:6]]  # type: ignore[index]
    assert all(
        line.endswith(b"}")
        for path in (home / "state" / "spool").glob("*.jsonl")
        for line in path.read_bytes().split(b"\n")[:-1]
    )  # LF only: no text-mode CRLF
    seen = reports(report)
    assert not [item for item in seen if "import_refused" in item], "the hook tried a POSIX-only module"
    assert not [item for item in seen if str(item.get("text_mode_open", "")).endswith(".jsonl")]
    modules = set(seen[-1]["modules"])  # type: ignore[arg-type]
    assert "msvcrt" in modules and "omniclaude._lock" in modules
    assert "subprocess" not in modules  # Kafka is not configured: no forwarder to start


def test_eight_concurrent_writers_as_on_windows_lose_and_double_nothing(tmp_path: Path) -> None:
    home, report, count = tmp_path / "oc", tmp_path / "report", 1000
    writer = tmp_path / "writer.py"
    writer.write_text(WRITER.format(lib=str(ROOT / "lib"), count=count))
    env = base_env(home, report)
    procs = [
        subprocess.Popen(
            [sys.executable, "-I", "-S", str(WINSIM), str(writer), f"w{n}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(8)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    events = spooled(home)
    assert len(events) == 8 * count
    assert len({event["event_id"] for event in events}) == 8 * count
    per_writer = Counter(event["payload"]["writer"] for event in events)  # type: ignore[index]
    assert per_writer == {f"w{n}": count for n in range(8)}
    for n in range(8):
        numbers = [event["payload"]["number"] for event in events if event["payload"]["writer"] == f"w{n}"]  # type: ignore[index]
        assert numbers == list(range(count))  # each writer's events in its order, none torn or glued


def test_the_forwarder_is_started_with_windows_creation_flags(tmp_path: Path) -> None:
    home, report = tmp_path / "oc", tmp_path / "report"
    env = {
        **base_env(home, report),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "OMNICLAUDE_PYTHON": r"C:\Program Files\omniclaude\venv\Scripts\python.exe",
    }
    result = run_as_windows(ROOT / "hooks" / "capture.py", ["Stop"], env, b'{"session_id": "s"}')
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    [popen] = [item["popen"] for item in reports(report) if "popen" in item]
    assert popen["creationflags"] == WINDOWS_CREATION_FLAGS == 0x8 | 0x200 | 0x08000000  # type: ignore[index]
    assert popen["args"][:4] == [env["OMNICLAUDE_PYTHON"], "-m", "omniclaude", "forward"]  # type: ignore[index]
    assert popen["stdio"] == [-3, -3, -3] and popen["close_fds"] is True  # type: ignore[index]
    assert len(spooled(home)) == 1


def test_a_running_forwarder_is_seen_through_the_windows_lock(tmp_path: Path) -> None:
    home, report = tmp_path / "oc", tmp_path / "report"
    spool = home / "state" / "spool"
    spool.mkdir(parents=True)
    env = {**base_env(home, report), "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    fd = os.open(spool / "forwarder.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the stand-in msvcrt.locking takes this same lock
        result = run_as_windows(ROOT / "hooks" / "capture.py", ["Stop"], env, b"{}")
    finally:
        os.close(fd)
    assert result.returncode == 0
    assert not [item for item in reports(report) if "popen" in item]


HOOK_MODULES = """
import io, json, sys
sys.stdin = io.TextIOWrapper(io.BytesIO(b'{"session_id": "s"}'))
sys.path.insert(0, LIB)
from omniclaude.hook import main
main([])
print(json.dumps(sorted(sys.modules)))
"""


def test_on_posix_the_hook_imports_no_windows_module(tmp_path: Path) -> None:
    code = HOOK_MODULES.replace("LIB", repr(str(ROOT / "lib")))
    env = {
        "OMNICLAUDE_HOME": str(tmp_path / "oc"),
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "OMNICLAUDE_PYTHON": "/bin/true",
        "PATH": os.environ["PATH"],
    }
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=30, env=env
    )
    assert result.returncode == 0, result.stderr
    modules = set(json.loads(result.stdout))
    assert "omniclaude.launcher" in modules and "fcntl" in modules
    assert not modules & WINDOWS_MODULES


@pytest.mark.parametrize("kafka", [False, True])
def test_on_windows_the_hook_imports_no_posix_module(tmp_path: Path, kafka: bool) -> None:
    home, report = tmp_path / "oc", tmp_path / "report"
    env = base_env(home, report)
    if kafka:
        env["OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9"
    result = run_as_windows(ROOT / "hooks" / "capture.py", ["Stop"], env, b'{"session_id": "s"}')
    assert result.returncode == 0
    seen = reports(report)
    modules = set(seen[-1]["modules"])  # type: ignore[arg-type]
    assert not [item for item in seen if "import_refused" in item]
    assert not modules & POSIX_MODULES
    assert ("subprocess" in modules) is kafka  # imported only to start a forwarder
