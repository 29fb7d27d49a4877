"""omniclaude._lock: an exclusive lock and a non-blocking probe, on POSIX and (simulated) on Windows."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from omniclaude import _lock

ROOT = Path(__file__).resolve().parents[2]
WINSIM = ROOT / "tests" / "hooks" / "winsim.py"

SEMANTICS = """
import os, sys, threading, time
sys.path.insert(0, LIB)
from omniclaude import _lock
path = PATH
first = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0))
second = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
assert _lock.try_lock(first)
assert not _lock.try_lock(second)
threading.Timer(0.2, os.close, [first]).start()
started = time.monotonic()
_lock.lock(second)
assert time.monotonic() - started >= 0.1
print(sys.platform, _lock.__name__, os.lseek(second, 0, os.SEEK_CUR))
"""


def run_semantics(tmp_path: Path, prefix: list[str]) -> str:
    code = SEMANTICS.replace("LIB", repr(str(ROOT / "lib"))).replace("PATH", repr(str(tmp_path / "f.lock")))
    script = tmp_path / "semantics.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, "-I", "-S", *prefix, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"WINSIM_REPORT": str(tmp_path / "report")},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_posix_lock_and_probe(tmp_path: Path) -> None:
    assert run_semantics(tmp_path, []).split()[0] == "linux"


def test_windows_lock_and_probe_on_the_lock_byte(tmp_path: Path) -> None:
    platform, _module, position = run_semantics(tmp_path, [str(WINSIM)]).split()
    assert platform == "win32"
    assert int(position) == _lock.LOCK_OFFSET  # msvcrt.locking locks from the file position


def test_the_lock_is_released_when_the_descriptor_closes(tmp_path: Path) -> None:
    path = tmp_path / "f.lock"
    holder = os.open(path, os.O_RDWR | os.O_CREAT)
    _lock.lock(holder)
    done = threading.Event()

    def wait() -> None:
        fd = os.open(path, os.O_RDWR)
        _lock.lock(fd)
        done.set()
        os.close(fd)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.05)
    assert not done.is_set()
    os.close(holder)
    waiter.join(10)
    assert done.is_set()
