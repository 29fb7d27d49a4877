"""A throwaway PostgreSQL cluster for tests, and database creation on any PostgreSQL server.

:class:`PostgresCluster` runs ``initdb`` and ``postgres`` from the local PostgreSQL installation in a
fresh temporary directory: trust authentication, superuser ``postgres``, TCP on 127.0.0.1 only,
the unix socket inside the temporary directory, and durability turned off (``fsync=off``) for
speed; a stop/start cycle keeps committed data all the same. PostgreSQL refuses to run as root,
so when the tests run as root both programs run as the user ``nobody`` through ``setpriv``; the
data directory is then owned by ``nobody`` and every parent directory must be traversable by it.
No OS user is created and nothing is written outside the temporary directory.

:class:`ExternalPostgres` is a server the harness does not own (``OMNICLAUDE_TEST_DATABASE_URL``):
it only creates and drops databases there.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import sql

from . import (
    HarnessError,
    MissingToolError,
    ServiceProcess,
    free_port,
    log_tail,
    record_timing,
    setpriv_prefix,
    wait_for,
)

__all__ = ["ExternalPostgres", "PostgresCluster", "database_name", "find_postgres_bindir", "with_database"]

_MISSING = "PostgreSQL server binaries (initdb, postgres) not found: apt-get install postgresql"


def find_postgres_bindir() -> Path:
    """The directory with ``initdb`` and ``postgres``.

    Looks at ``pg_config --bindir``, then the newest ``/usr/lib/postgresql/<major>/bin``, then PATH.
    Raises :class:`MissingToolError` when none has both programs.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    versioned = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates.extend(sorted(versioned, key=lambda p: int(p.parent.name), reverse=True))
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidates.append(Path(initdb).resolve().parent)
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "postgres")):
            return bindir
    raise MissingToolError(_MISSING)


def with_database(url: str, name: str) -> str:
    """``url`` with its database (the path) replaced by ``name``; user, host and query kept."""
    return urlsplit(url)._replace(path="/" + quote(name, safe="")).geturl()


def database_name(url: str) -> str:
    """The database a ``postgresql://`` URL names."""
    return unquote(urlsplit(url).path.lstrip("/"))


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class _DatabaseFactory:
    """Creates and drops databases through a superuser connection to :attr:`url`."""

    @property
    def url(self) -> str:
        """The URL of the server's maintenance database, used for CREATE/DROP DATABASE."""
        raise NotImplementedError

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its URL.

        ``name`` defaults to a fresh ``test_<hex>``; given names must be plain identifiers
        (letters, digits, underscore; at most 63). Raises ``psycopg.Error`` if it exists.
        """
        if name is None:
            name = f"test_{uuid.uuid4().hex[:16]}"
        elif not _NAME.fullmatch(name):
            raise ValueError(f"not a plain database name: {name!r}")
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return with_database(self.url, name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, ending its open connections first."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class ExternalPostgres(_DatabaseFactory):
    """A PostgreSQL server the harness does not own: ``url`` and database creation, no stop/start."""

    def __init__(self, url: str) -> None:
        self._url = url

    @property
    def url(self) -> str:
        """The URL given at construction."""
        return self._url


def _unprivileged_ids() -> tuple[int, int] | None:
    """The (uid, gid) to run PostgreSQL as: ``nobody`` when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError as exc:
        raise HarnessError("running as root, and there is no user 'nobody' to run PostgreSQL as") from exc
    return entry.pw_uid, entry.pw_gid


def _check_traversable(path: Path, uid: int) -> None:
    for parent in path.parents:
        info = parent.stat()
        if info.st_uid != uid and not info.st_mode & stat.S_IXOTH:
            raise HarnessError(
                f"{parent} is not traversable by user 'nobody', who must run PostgreSQL here; "
                f"point TMPDIR at a directory whose parents are all world-executable"
            )


class PostgresCluster(_DatabaseFactory):
    """A PostgreSQL cluster in a temporary directory, owned by the test run.

    Nothing happens at construction. :meth:`start` runs ``initdb`` the first time, then starts the
    server and returns once it accepts connections; later calls start it again on the same port and
    data. Use as a context manager, or call :meth:`close` in a ``finally``.
    """

    def __init__(self, *, start_timeout: float = 60.0, stop_timeout: float = 30.0) -> None:
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._bindir: Path | None = None
        self._ids: tuple[int, int] | None = None
        self._run_dir: Path | None = None
        self._port = 0
        self._process: ServiceProcess | None = None
        self._starts = 0

    @property
    def port(self) -> int:
        """The TCP port on 127.0.0.1. Raises :class:`HarnessError` before the first start."""
        if not self._port:
            raise HarnessError("PostgresCluster has not been started")
        return self._port

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/postgres``. Stable across stop/start."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def run_dir(self) -> Path:
        """The temporary directory with ``data/``, ``socket/`` and ``postgres.log``."""
        if self._run_dir is None:
            raise HarnessError("PostgresCluster has not been started")
        return self._run_dir

    @property
    def log_path(self) -> Path:
        """The server log (initdb's output, then the server's stderr)."""
        return self.run_dir / "postgres.log"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs, else None."""
        return self._process.pid if self._process is not None and self._process.running else None

    @property
    def running(self) -> bool:
        """Whether the postmaster process is up (it may still be starting)."""
        return self._process is not None and self._process.running

    def start(self) -> None:
        """Start the server and wait until it accepts connections.

        Raises :class:`MissingToolError` if the PostgreSQL server binaries are missing, and
        :class:`HarnessError` with the tail of the log if ``initdb`` fails or the server does not
        become ready within ``start_timeout`` seconds (or is already running).
        """
        if self.running:
            raise HarnessError(f"PostgreSQL on port {self.port} is already running")
        first = self._run_dir is None
        started = time.monotonic()
        if first:
            try:
                self._prepare()
            except BaseException:
                self.close()  # the next start() begins afresh
                raise
        assert self._process is not None and self._bindir is not None
        self._process.spawn(
            [str(self._bindir / "postgres"), "-D", str(self.run_dir / "data"), "-p", str(self._port),
             "-h", "127.0.0.1", "-k", str(self.run_dir / "socket"),
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200", "-c", "log_min_messages=warning"],
            cwd=self.run_dir,
            setpriv_args=self._setpriv_args(),
        )  # fmt: skip
        wait_for(
            self._ready,
            process=self._process,
            timeout=self.start_timeout,
            what=f"PostgreSQL on 127.0.0.1:{self._port}",
        )
        self._starts += 1
        kind = "ready (initdb included)" if first else f"ready again (start #{self._starts})"
        record_timing(f"postgres on 127.0.0.1:{self._port} {kind} in {time.monotonic() - started:.1f}s")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: disconnect clients, checkpoint); SIGKILL after ``stop_timeout``.

        Keeps the port and data for :meth:`start`. A no-op when it is not running.
        """
        if self._process is not None and self._process.running:
            self._process.stop(signal.SIGINT, self.stop_timeout)

    def restart(self) -> None:
        """:meth:`stop`, then :meth:`start`."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Immediate shutdown (SIGQUIT, as ``pg_ctl stop -m immediate``), then delete the directory.

        Idempotent. A later :meth:`start` sets up a new cluster (new port, no databases).
        """
        try:
            if self._process is not None:
                self._process.stop(signal.SIGQUIT, 10)
        finally:
            if self._process is not None:
                self._process.kill()
            if self._run_dir is not None:
                shutil.rmtree(self._run_dir, ignore_errors=True)
                self._run_dir = None

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _setpriv_args(self) -> list[str]:
        if self._ids is None:
            return []
        uid, gid = self._ids
        return [f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]

    def _prepare(self) -> None:
        self._bindir = find_postgres_bindir()
        self._ids = _unprivileged_ids()
        run_dir = Path(tempfile.mkdtemp(prefix="omniclaude-pg-"))
        self._run_dir = run_dir
        self._port = free_port()
        self._process = ServiceProcess("postgres", self.log_path)
        for sub in ("data", "socket"):
            (run_dir / sub).mkdir(mode=0o700)
        if self._ids is not None:
            uid, gid = self._ids
            _check_traversable(run_dir, uid)
            run_dir.chmod(0o711)
            for sub in ("data", "socket"):
                os.chown(run_dir / sub, uid, gid)
        argv = [str(self._bindir / "initdb"), "-D", str(run_dir / "data"), "-U", "postgres",
                "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]  # fmt: skip
        argv = [*setpriv_prefix(self._setpriv_args()), *argv]
        with self.log_path.open("ab") as log:
            result = subprocess.run(
                argv, cwd=run_dir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, timeout=120, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise HarnessError(
                f"initdb failed (exit {result.returncode}); log {self.log_path}:\n{log_tail(self.log_path)}"
            )

    def _ready(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True
