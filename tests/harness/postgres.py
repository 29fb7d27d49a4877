"""A throwaway PostgreSQL cluster for tests, and database creation on any PostgreSQL server.

:class:`PostgresCluster` is the product's own server (:class:`omniclaude.stack.postgres.PostgresServer`,
the one ``omniclaude stack`` runs) in a fresh temporary directory, with trust authentication, superuser
``postgres``, TCP on 127.0.0.1 only, the unix socket inside the temporary directory, and durability turned
off (``fsync=off``) for speed; a stop/start cycle keeps committed data all the same. As root, PostgreSQL
runs as ``nobody`` (see the product module). Nothing is written outside the temporary directory.

:class:`ExternalPostgres` is a server the harness does not own (``OMNICLAUDE_TEST_DATABASE_URL``):
it only creates and drops databases there.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, unquote, urlsplit

import psycopg
from omniclaude.stack import postgres as _product
from psycopg import sql

from . import HarnessError, record_timing

__all__ = ["ExternalPostgres", "PostgresCluster", "database_name", "find_postgres_bindir", "with_database"]


def find_postgres_bindir() -> Path:
    """The directory with ``initdb`` and ``postgres``; MissingToolError (one line) when none."""
    return _product.find_postgres_bindir(os.environ)


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


class PostgresCluster(_DatabaseFactory):
    """A PostgreSQL cluster in a temporary directory, owned by the test run.

    Nothing happens at construction. :meth:`start` runs ``initdb`` the first time, then starts the
    server and returns once it accepts connections; later calls start it again on the same port and
    data. Use as a context manager, or call :meth:`close` in a ``finally``.
    """

    def __init__(self, *, start_timeout: float = 60.0, stop_timeout: float = 30.0) -> None:
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._server: _product.PostgresServer | None = None
        self._starts = 0

    @property
    def server(self) -> _product.PostgresServer:
        """The product's server object. Raises :class:`HarnessError` before the first start."""
        if self._server is None:
            raise HarnessError("PostgresCluster has not been started")
        return self._server

    @property
    def port(self) -> int:
        """The TCP port on 127.0.0.1. Raises :class:`HarnessError` before the first start."""
        return self.server.port

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/postgres``. Stable across stop/start."""
        return self.server.url()

    @property
    def run_dir(self) -> Path:
        """The temporary directory with ``data/``, ``socket/`` and ``postgres.log``."""
        return self.server.root

    @property
    def log_path(self) -> Path:
        """The server log (initdb's output, then the server's stderr)."""
        return self.server.log_path

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs, else None."""
        return self._server.pid if self._server is not None else None

    @property
    def running(self) -> bool:
        """Whether the postmaster process is up (it may still be starting)."""
        return self._server is not None and self._server.running

    def start(self) -> None:
        """Start the server and wait until it accepts connections.

        Raises :class:`MissingToolError` if the PostgreSQL server binaries are missing, and
        :class:`HarnessError` with the tail of the log if ``initdb`` fails or the server does not
        become ready within ``start_timeout`` seconds (or is already running).
        """
        if self.running:
            raise HarnessError(f"PostgreSQL on port {self.port} is already running")
        first = self._server is None
        started = time.monotonic()
        if first:
            bindir = find_postgres_bindir()
            self._server = _product.PostgresServer(
                Path(tempfile.mkdtemp(prefix="omniclaude-pg-")),
                bindir=bindir,
                durable=False,
                start_timeout=self.start_timeout,
                stop_timeout=self.stop_timeout,
                pdeathsig=True,
            )
        try:
            self.server.start()
        except BaseException:
            if first:
                self.close()  # the next start() begins afresh
            raise
        self._starts += 1
        kind = "ready (initdb included)" if first else f"ready again (start #{self._starts})"
        record_timing(f"postgres on 127.0.0.1:{self.port} {kind} in {time.monotonic() - started:.1f}s")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: disconnect clients, checkpoint); SIGKILL after ``stop_timeout``.

        Keeps the port and data for :meth:`start`. A no-op when it is not running.
        """
        if self.running:
            self.server.stop()

    def restart(self) -> None:
        """:meth:`stop`, then :meth:`start`."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Immediate shutdown (SIGQUIT, as ``pg_ctl stop -m immediate``), then delete the directory.

        Idempotent. A later :meth:`start` sets up a new cluster (new port, no databases).
        """
        server, self._server = self._server, None
        if server is None:
            return
        try:
            server.stop_immediately()
        finally:
            server.kill()
            shutil.rmtree(server.root, ignore_errors=True)

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
