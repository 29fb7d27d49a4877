"""Runs a Python script as if on Windows, for tests on a POSIX machine: `python -I -S winsim.py SCRIPT [ARGS]`.

Before SCRIPT runs as `__main__`:
- `sys.platform` is "win32" and `os.name` is "nt";
- POSIX-only modules cannot be imported (fcntl, pwd, grp, termios, resource, _posixsubprocess) and the
  POSIX-only functions and flags Windows lacks are gone from `os` (posix_spawn, pread, O_CLOEXEC, getuid, ...);
- `msvcrt` is a stand-in whose `locking` takes a `flock` on the file (the code under test locks one byte
  with it, so a whole-file lock behaves the same);
- `os.O_BINARY` exists, and an `os.open` without it (text mode on Windows) is reported;
- `subprocess` is a stand-in whose `Popen` starts nothing and reports its command and creation flags
  (its other functions are the real ones);
- `signal.SIGBREAK` exists.
With WINSIM_OS_NAME=posix, os.name is left alone: pathlib.Path() picks WindowsPath from os.name and
refuses to make one on a POSIX kernel, so code that makes paths with pathlib runs that way.

Reports go to the file named by WINSIM_REPORT, one JSON object a line: {"popen": ...}, {"text_mode_open":
path}, {"import_refused": name}, and at exit {"modules": [...]}. A test-only stand-in: nothing here is
what real Windows does beyond the names it offers.
"""

import fcntl as _posix_fcntl
import importlib
import importlib.machinery
import json
import os
import runpy
import signal
import sys
import types

REPORT = os.environ.get("WINSIM_REPORT", os.devnull)
POSIX_ONLY_MODULES = {"fcntl", "pwd", "grp", "termios", "resource", "_posixsubprocess", "posix_spawn"}
POSIX_ONLY_OS_NAMES = (
    "posix_spawn",
    "posix_spawnp",
    "POSIX_SPAWN_OPEN",
    "pread",
    "pwrite",
    "O_CLOEXEC",
    "O_NOFOLLOW",
    "O_NONBLOCK",
    "getuid",
    "geteuid",
    "getgid",
    "setsid",
    "killpg",
    "getpgid",
    "uname",
    "fork",
)
O_BINARY = 0x8000
_real_open = os.open
_real_exit = os._exit


def report(**item: object) -> None:
    with open(REPORT, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(item) + "\n")


class WindowsFinder:
    """A meta path finder that refuses the POSIX-only modules, as Windows' Python has none of them, and
    serves the stand-ins (so they appear in sys.modules only when something imports them)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name in POSIX_ONLY_MODULES:
            report(import_refused=name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        if name in STAND_INS:
            return importlib.machinery.ModuleSpec(name, self)  # type: ignore[arg-type]
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return STAND_INS[spec.name]

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def _locking(fd: int, mode: int, nbytes: int) -> None:
    try:
        if mode == msvcrt.LK_UNLCK:
            _posix_fcntl.flock(fd, _posix_fcntl.LOCK_UN)
        elif mode == msvcrt.LK_NBLCK:
            _posix_fcntl.flock(fd, _posix_fcntl.LOCK_EX | _posix_fcntl.LOCK_NB)
        else:
            _posix_fcntl.flock(fd, _posix_fcntl.LOCK_EX)
    except BlockingIOError:
        raise PermissionError(13, "Permission denied") from None


msvcrt = types.ModuleType("msvcrt")
msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK, msvcrt.LK_RLCK, msvcrt.LK_NBRLCK = 0, 1, 2, 3, 4  # type: ignore[attr-defined]
msvcrt.locking = _locking  # type: ignore[attr-defined]


class Popen:
    """Starts nothing; reports how it was asked to start."""

    def __init__(self, args: list[str], **options: object) -> None:
        report(
            popen={
                "args": list(args),
                "creationflags": options.get("creationflags", 0),
                "close_fds": options.get("close_fds"),
                "stdio": [options.get(name) for name in ("stdin", "stdout", "stderr")],
            }
        )
        self.pid = 0


import subprocess as _posix_subprocess  # noqa: E402 - its functions (run, ...) keep starting real processes

subprocess = types.ModuleType("subprocess")
subprocess.__dict__.update({k: v for k, v in vars(_posix_subprocess).items() if not k.startswith("__")})
subprocess.Popen = Popen  # type: ignore[attr-defined]
for _name, _value in (("DETACHED_PROCESS", 0x8), ("CREATE_NEW_PROCESS_GROUP", 0x200), ("CREATE_NO_WINDOW", 0x08000000)):
    setattr(subprocess, _name, _value)
del sys.modules["subprocess"]


STAND_INS = {"msvcrt": msvcrt, "subprocess": subprocess}


def _open(path: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
    if not flags & O_BINARY:
        report(text_mode_open=os.fspath(path))
    return _real_open(path, flags & ~O_BINARY, mode, dir_fd=dir_fd)


def _exit(status: int) -> None:
    report(modules=sorted(sys.modules))
    _real_exit(status)


KERNEL_BOUND = (
    "pathlib",
    "shutil",
    "tempfile",
    "logging.handlers",
    "socket",
    "selectors",
    "ssl",
    "uuid",
    "platform",
    "http.client",
    "urllib.request",
    "concurrent.futures",
    "asyncio",
)
"""Standard modules that pick their implementation from os.name at import (pathlib would make WindowsPath,
which cannot exist on a POSIX kernel): imported before the switch, as the real kernel needs them."""


def install() -> None:
    """Makes this process look like Windows to the code it imports from now on."""
    for name in KERNEL_BOUND:
        importlib.import_module(name)
    importlib.import_module("tempfile").gettempdir()  # its Windows candidates would ask pwd for "~\\AppData"
    for name in POSIX_ONLY_MODULES:
        sys.modules.pop(name, None)
    sys.modules.pop("subprocess", None)
    sys.meta_path.insert(0, WindowsFinder())  # type: ignore[arg-type]
    for name in POSIX_ONLY_OS_NAMES:
        if hasattr(os, name):
            delattr(os, name)
    os.O_BINARY = O_BINARY  # type: ignore[attr-defined]
    signal.SIGBREAK = signal.SIGTTIN  # type: ignore[attr-defined]  # any catchable signal stands in for it
    os.open = _open  # type: ignore[assignment]
    os._exit = _exit  # type: ignore[assignment]
    os.name = os.environ.get("WINSIM_OS_NAME", "nt")  # "posix" lets pathlib.Path work (see the docstring)
    sys.platform = "win32"


if __name__ == "__main__":
    script, *args = sys.argv[1:]
    install()
    sys.argv = [script, *args]
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        report(modules=sorted(sys.modules))
