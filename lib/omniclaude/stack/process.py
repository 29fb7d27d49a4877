"""Long-running server processes: spawn into a log file, wait until ready, stop by signal, never leak.

Errors::

    StackError              a service could not be prepared, started or stopped
    ├── MissingToolError    a program a service needs (java, initdb, ...) is not installed; its message
    │                       is one line naming the program and how to install it
    └── FetchError          the Kafka jars could not be fetched, or a fetched jar failed its checksum

A :class:`ServiceProcess` runs in its own process group (``start_new_session``), so a stop reaches its
children too. With ``pdeathsig`` it is started through ``setpriv --pdeathsig KILL`` (util-linux, Linux
only; skipped where missing), so the kernel kills it when the thread that started it dies. Every spawned
process is registered until stopped, and an ``atexit`` hook kills what is still running.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = [
    "FetchError",
    "MissingToolError",
    "Service",
    "ServiceProcess",
    "StackError",
    "free_port",
    "log_tail",
    "port_free",
    "port_open",
    "setpriv_prefix",
    "wait_for",
]


class StackError(RuntimeError):
    """A service could not be prepared, started or stopped."""


class MissingToolError(StackError):
    """A program a service needs is not installed. The message is one line with the fix."""


class FetchError(StackError):
    """The Kafka jars could not be fetched, or one failed its checksum."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` on 127.0.0.1 right now (as servers do, with SO_REUSEADDR,
    so connections of a stopped server in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 60) -> str:
    """The last ``lines`` lines of the text file at ``path``, or a note that it is missing."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def setpriv_prefix(setpriv_args: Sequence[str] = (), *, pdeathsig: bool = False) -> list[str]:
    """The argv prefix that runs a program through ``setpriv`` with ``setpriv_args``.

    With ``pdeathsig``, adds ``--pdeathsig KILL`` when called on the main thread (the signal fires when
    the *thread* that forked exits). Returns ``[]`` when nothing is asked of ``setpriv`` or it is missing
    and no ``setpriv_args`` are needed; raises :class:`MissingToolError` when they are.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if setpriv_args:
            raise MissingToolError("setpriv not found: apt-get install util-linux")
        return []
    prefix = [setpriv, *setpriv_args]
    if pdeathsig and threading.current_thread() is threading.main_thread():
        prefix += ["--pdeathsig", "KILL"]
    return [*prefix, "--"] if len(prefix) > 1 else []


_live: set[ServiceProcess] = set()
_live_lock = threading.Lock()


def _kill_all_live() -> None:
    with _live_lock:
        processes = list(_live)
    for process in processes:
        process.kill()


atexit.register(_kill_all_live)


class ServiceProcess:
    """One long-running server process, in its own process group, with stdout and stderr in a log file.

    Registered for the ``atexit`` safety net from :meth:`spawn` until it has been stopped or killed. With
    ``max_log_bytes``, a log grown past it is moved aside (one ``.1`` kept) before each spawn. Not
    thread-safe: one owner drives it.
    """

    def __init__(self, name: str, log_path: Path, *, pdeathsig: bool = False, max_log_bytes: int | None = None) -> None:
        self.name = name
        self.log_path = log_path
        self.pdeathsig = pdeathsig
        self.max_log_bytes = max_log_bytes
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process has been spawned and has not exited yet."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id, or None before the first spawn."""
        return None if self._popen is None else self._popen.pid

    def spawn(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        setpriv_args: Sequence[str] = (),
    ) -> None:
        """Start ``argv``, appending its output to :attr:`log_path`.

        ``setpriv_args`` (such as ``--reuid``) are passed to ``setpriv``, which must then exist. Raises
        :class:`StackError` if the process is already running.
        """
        if self.running:
            raise StackError(f"{self.name} is already running (pid {self.pid})")
        prefix = setpriv_prefix(setpriv_args, pdeathsig=self.pdeathsig)
        self._rotate_log()
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                [*prefix, *argv],
                cwd=cwd,
                env=None if env is None else dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with _live_lock:
            _live.add(self)

    def _rotate_log(self) -> None:
        """Past ``max_log_bytes``, the log becomes ``<log>.1`` (replacing the previous one) before a spawn."""
        if self.max_log_bytes is None:
            return
        with contextlib.suppress(OSError):
            if self.log_path.stat().st_size > self.max_log_bytes:
                os.replace(self.log_path, self.log_path.with_name(self.log_path.name + ".1"))

    def stop(self, sig: signal.Signals, timeout: float) -> bool:
        """Send ``sig``, wait up to ``timeout`` seconds, then SIGKILL the whole process group.

        Returns True when the process exited on ``sig`` in time, False when it had to be killed (or was
        not running). Leftover members of its process group are killed either way.
        """
        popen = self._popen
        if popen is None or popen.poll() is not None:
            self.kill()
            return False
        with contextlib.suppress(ProcessLookupError):
            popen.send_signal(sig)
        try:
            popen.wait(timeout=timeout)
            clean = True
        except subprocess.TimeoutExpired:
            clean = False
        self.kill()
        return clean

    def kill(self) -> None:
        """SIGKILL the process group at once and reap the process. Safe to call at any time."""
        popen = self._popen
        if popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=10)
        with _live_lock:
            _live.discard(self)

    def wait_exited(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the process to exit; its exit code, or None if still up."""
        if self._popen is None:
            return None
        try:
            return self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def exit_code(self) -> int | None:
        """The exit code if the process has exited, else None."""
        return None if self._popen is None else self._popen.poll()


class Service:
    """A server that runs as one :class:`ServiceProcess` (``self._process``): the surface a supervisor
    watches. Subclasses add ``start()``, and set ``stop_timeout`` and the signal that stops them cleanly."""

    _process: ServiceProcess
    stop_signal: signal.Signals = signal.SIGTERM
    stop_timeout: float = 30.0

    def stop(self) -> bool:
        """``stop_signal``, then SIGKILL after ``stop_timeout`` seconds; True when it stopped cleanly (or
        was not running)."""
        if not self._process.running:
            self._process.kill()
            return True
        return self._process.stop(self.stop_signal, self.stop_timeout)

    @property
    def running(self) -> bool:
        """Whether the process is up (it may still be starting)."""
        return self._process.running

    @property
    def pid(self) -> int | None:
        """The process id while it runs, else None."""
        return self._process.pid if self._process.running else None

    @property
    def log_path(self) -> Path:
        """Where its stdout and stderr go."""
        return self._process.log_path

    def exit_code(self) -> int | None:
        """The exit code once it has exited, else None."""
        return self._process.exit_code()

    def kill(self) -> None:
        """SIGKILL it (and its process group) at once."""
        self._process.kill()


def wait_for(
    ready: Callable[[], bool],
    *,
    process: ServiceProcess,
    timeout: float,
    what: str,
    interval: float = 0.1,
) -> float:
    """Poll ``ready`` until it returns True; the seconds it took.

    Raises :class:`StackError` with the tail of the process log if the process exits first or
    ``timeout`` seconds pass (the process is then killed).
    """
    started = time.monotonic()
    while True:
        if ready():
            return time.monotonic() - started
        code = process.exit_code()
        if code is not None:
            raise StackError(
                f"{what}: process exited with code {code} before it was ready; "
                f"log {process.log_path}:\n{log_tail(process.log_path)}"
            )
        if time.monotonic() - started > timeout:
            process.kill()
            raise StackError(
                f"{what}: not ready after {timeout:.0f}s; log {process.log_path}:\n{log_tail(process.log_path)}"
            )
        time.sleep(interval)
