"""One PostgreSQL cluster on 127.0.0.1, from the machine's server binaries, its files in one folder.

:class:`PostgresServer` keeps, under its ``root``: ``data/`` (``initdb`` runs on the first start),
``socket/`` (the unix socket, never in /tmp) and ``postgres.log``. The superuser is ``postgres``; TCP
listens on 127.0.0.1 only. With a ``password`` the cluster asks every TCP client for it (scram-sha-256),
without one it trusts them (tests). ``durable=False`` turns fsync off, for throw-away test clusters.

PostgreSQL refuses to run as root, so as root both programs run as the user ``nobody`` through
``setpriv``: the folders are then owned by ``nobody`` and every parent folder must be traversable by it
(a :class:`StackError` says which one is not).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from omniclaude.stack.process import (
    MissingToolError,
    Service,
    ServiceProcess,
    StackError,
    free_port,
    log_tail,
    setpriv_prefix,
    wait_for,
)

__all__ = ["POSTGRES_MISSING", "PostgresServer", "find_postgres_bindir"]

POSTGRES_MISSING = (
    "PostgreSQL server binaries (initdb, postgres) not found: "
    "Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16"
)


def find_postgres_bindir(environ: Mapping[str, str]) -> Path:
    """The folder with ``initdb`` and ``postgres``: ``pg_config --bindir``, the newest
    ``/usr/lib/postgresql/<major>/bin``, Homebrew's ``postgresql@<major>``, then ``PATH`` (of ``environ``).

    Raises :class:`MissingToolError` when none has both programs.
    """
    path = environ.get("PATH", os.defpath)
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config", path=path)
    if pg_config is not None:
        try:
            result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            result = None
        if result is not None and result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    versioned = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates.extend(sorted(versioned, key=lambda p: int(p.parent.name), reverse=True))
    for prefix in (Path("/opt/homebrew/opt"), Path("/usr/local/opt")):
        brewed = [p / "bin" for p in prefix.glob("postgresql@*") if p.name.partition("@")[2].isdigit()]
        candidates.extend(sorted(brewed, key=lambda p: int(p.parent.name.partition("@")[2]), reverse=True))
    initdb = shutil.which("initdb", path=path)
    if initdb is not None:
        candidates += [Path(initdb).resolve().parent, Path(initdb).parent]
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "postgres")):
            return bindir
    raise MissingToolError(POSTGRES_MISSING)


def _unprivileged_ids() -> tuple[int, int] | None:
    """The (uid, gid) to run PostgreSQL as: ``nobody`` when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError as exc:
        raise StackError("running as root, and there is no user 'nobody' to run PostgreSQL as") from exc
    return entry.pw_uid, entry.pw_gid


def _check_traversable(path: Path, uid: int) -> None:
    for parent in path.parents:
        info = parent.stat()
        if info.st_uid != uid and not info.st_mode & stat.S_IXOTH:
            raise StackError(
                f"{parent} is not traversable by user 'nobody', who must run PostgreSQL when omniclaude runs "
                "as root: run it as a normal user, or place its files (OMNICLAUDE_HOME) under a folder whose "
                "parents are all world-executable"
            )


class PostgresServer(Service):
    """A PostgreSQL cluster on 127.0.0.1 with its data, socket and log under ``root``.

    Nothing happens at construction. :meth:`start` runs ``initdb`` the first time, then starts the server
    and returns once it accepts connections; a later :meth:`start` keeps the data (and the port, unless
    another is set). :meth:`stop` is a fast shutdown (SIGINT: disconnect clients, checkpoint).
    """

    stop_signal = signal.SIGINT

    def __init__(
        self,
        root: Path,
        *,
        bindir: Path,
        port: int = 0,
        password: str | None = None,
        durable: bool = True,
        start_timeout: float = 60.0,
        stop_timeout: float = 30.0,
        pdeathsig: bool = False,
        max_log_bytes: int | None = None,
    ) -> None:
        self.root = root
        self.bindir = bindir
        self.port = port
        self.password = password
        self.durable = durable
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._ids = _unprivileged_ids()
        self._process = ServiceProcess(
            "postgres", root / "postgres.log", pdeathsig=pdeathsig, max_log_bytes=max_log_bytes
        )

    def url(self, database: str = "postgres") -> str:
        """``postgresql://postgres[:password]@127.0.0.1:PORT/<database>``."""
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{quote(database, safe='')}"

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def initialized(self) -> bool:
        """Whether ``initdb`` has completed here."""
        return (self.data_dir / "PG_VERSION").is_file()

    def prepare(self) -> None:
        """Folders, a port when none is set, and ``initdb`` when the cluster is not initialized yet; a
        ``postmaster.pid`` left by a crash is removed when its process is gone (or a zombie)."""
        self.port = self.port or free_port()
        if self.initialized:
            self._remove_stale_pid_file()
            return
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for sub in ("data", "socket"):
            (self.root / sub).mkdir(mode=0o700, exist_ok=True)
        if self._ids is not None:
            uid, gid = self._ids
            _check_traversable(self.root, uid)
            self.root.chmod(0o711)
            for sub in ("data", "socket"):
                os.chown(self.root / sub, uid, gid)
        argv = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=trust",
        ]
        pwfile = self.root / "socket" / "initdb-password"
        if self.password:
            fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.password + "\n")
            if self._ids is not None:
                os.chown(pwfile, *self._ids)
            argv += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        else:
            argv += ["--auth-host=trust"]
        if not self.durable:
            argv.append("--no-sync")
        try:
            with self.log_path.open("ab") as log:
                result = subprocess.run(
                    [*setpriv_prefix(self._setpriv_args()), *argv],
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=120,
                    check=False,
                )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise StackError(
                f"initdb failed (exit {result.returncode}); log {self.log_path}:\n{log_tail(self.log_path)}"
            )

    def start(self) -> None:
        """Start the server and wait until it accepts connections.

        Raises :class:`StackError` with the tail of the log if ``initdb`` fails, the server does not
        become ready within ``start_timeout`` seconds, or it is already running.
        """
        if self.running:
            raise StackError(f"PostgreSQL on port {self.port} is already running")
        self.prepare()
        options = ["-c", "log_min_messages=warning"]
        if self.durable:
            options += ["-c", "max_connections=50", "-c", "shared_buffers=32MB"]
        else:
            options += [
                "-c",
                "max_connections=200",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        self._process.spawn(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.root / "socket"),
                *options,
            ],
            cwd=self.root,
            setpriv_args=self._setpriv_args(),
        )
        wait_for(
            self.ready, process=self._process, timeout=self.start_timeout, what=f"PostgreSQL on 127.0.0.1:{self.port}"
        )

    def stop_immediately(self) -> None:
        """Immediate shutdown (SIGQUIT, as ``pg_ctl stop -m immediate``), SIGKILL after 10 s."""
        self._process.stop(signal.SIGQUIT, 10)

    def ready(self) -> bool:
        """Whether the server accepts connections and runs a query now."""
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def ensure_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def _remove_stale_pid_file(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text(encoding="utf-8").split("\n", 1)[0])
        except (OSError, ValueError):
            return
        try:
            found = subprocess.run(["ps", "-p", str(pid), "-o", "stat=,comm="], capture_output=True, text=True,
                                   timeout=10, check=False).stdout.split()  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return
        if not found or found[0].startswith("Z") or "postgres" not in " ".join(found[1:]):
            pid_file.unlink(missing_ok=True)

    def _setpriv_args(self) -> list[str]:
        if self._ids is None:
            return []
        uid, gid = self._ids
        return [f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
