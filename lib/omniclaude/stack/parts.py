"""The four parts of the local stack, built from its layout and record: PostgreSQL, Kafka, consumer, dashboard.

Every part has the same small surface (:class:`Part`): ``start()`` (returns once it is ready, raises
:class:`StackError` otherwise), ``stop()``, ``kill()``, ``running``, ``pid``, ``exit_code()``,
``log_path``. The consumer and the dashboard are :class:`CommandService`: a Python program of this
installation, with its settings passed in the environment, ready when its HTTP endpoint answers.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from omniclaude.stack.jars import ensure_kafka_jars
from omniclaude.stack.kafka import KafkaServer, find_java
from omniclaude.stack.layout import DATABASE, Layout
from omniclaude.stack.postgres import PostgresServer, find_postgres_bindir
from omniclaude.stack.process import MissingToolError, Service, ServiceProcess, StackError, port_open, wait_for

__all__ = ["CommandService", "Part", "build_parts", "dashboard_available", "http_ok"]

DASHBOARD_MODULE = "omniclaude.dashboard"
# A part's log past this size is moved aside (one old copy kept) when the part (re)starts.
MAX_LOG_BYTES = 16 * 1024 * 1024


class Part(Protocol):
    """What the supervisor needs of a part."""

    @property
    def running(self) -> bool: ...

    @property
    def pid(self) -> int | None: ...

    @property
    def log_path(self) -> Path: ...

    def exit_code(self) -> int | None: ...

    def start(self) -> None: ...

    def stop(self) -> bool: ...

    def kill(self) -> None: ...


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers 2xx now."""
    import httpx

    try:
        return httpx.get(url, timeout=timeout).is_success
    except httpx.HTTPError:
        return False


def dashboard_available() -> bool:
    """Whether this installation has the dashboard (``omniclaude.dashboard``)."""
    try:
        return importlib.util.find_spec(DASHBOARD_MODULE) is not None
    except (ImportError, ValueError):
        return False


class CommandService(Service):
    """A long-running program of this installation, ready once ``ready()`` is true."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        root: Path,
        env: Mapping[str, str],
        ready: Callable[[], bool],
        start_timeout: float = 90.0,
        stop_timeout: float = 20.0,
        pdeathsig: bool = False,
        max_log_bytes: int | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.root = root
        self.env = dict(env)
        self.ready = ready
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._process = ServiceProcess(name, root / f"{name}.log", pdeathsig=pdeathsig, max_log_bytes=max_log_bytes)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._process.spawn(self.argv, cwd=self.root, env=self.env)
        wait_for(self.ready, process=self._process, timeout=self.start_timeout, what=self.name, interval=0.3)


def client_environment(record: Mapping[str, Any]) -> dict[str, str]:
    """The settings that point a client (hooks, forwarder, doctor) at this stack."""
    ports = record["ports"]
    return {
        "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{ports['kafka']}",
        "OMNICLAUDE_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
        "OMNICLAUDE_DATABASE_URL": database_url(record),
        "OMNICLAUDE_HEALTH_URL": f"http://127.0.0.1:{ports['consumer']}/health",
    }


def postgres_server(
    layout: Layout, record: Mapping[str, Any], environ: Mapping[str, str], **options: Any
) -> PostgresServer:
    """The stack's PostgreSQL (finding the server binaries may raise MissingToolError)."""
    return PostgresServer(
        layout.part_dir("postgres"),
        bindir=find_postgres_bindir(environ),
        port=record["ports"]["postgres"],
        password=record["postgres_password"],
        **options,
    )


def database_url(record: Mapping[str, Any]) -> str:
    """The URL of the stack's ``omniclaude`` database, password included (a secret)."""
    from urllib.parse import quote

    return (
        f"postgresql://postgres:{quote(record['postgres_password'], safe='')}@127.0.0.1:"
        f"{record['ports']['postgres']}/{DATABASE}"
    )


def build_parts(
    layout: Layout, record: Mapping[str, Any], environ: Mapping[str, str], cache_dir: Path, *, pdeathsig: bool = False
) -> dict[str, Part]:
    """Every part of the stack, not started, in start order (the dashboard only when it is installed)."""
    ports = record["ports"]
    common: dict[str, Any] = {"pdeathsig": pdeathsig, "max_log_bytes": MAX_LOG_BYTES}
    kafka = KafkaServer(
        layout.part_dir("kafka"),
        java=find_java(environ),
        jars=ensure_kafka_jars(cache_dir),
        port=ports["kafka"],
        controller_port=ports["kafka_controller"],
        log_level="WARN",
        **common,
    )
    env = {
        **environ,
        **client_environment(record),
        "OMNICLAUDE_CONSUMER_HEALTH_HOST": "127.0.0.1",
        "OMNICLAUDE_CONSUMER_HEALTH_PORT": str(ports["consumer"]),
    }
    health = f"http://127.0.0.1:{ports['consumer']}"
    parts: dict[str, Part] = {
        "postgres": postgres_server(layout, record, environ, **common),
        "kafka": kafka,
        "consumer": CommandService(
            "consumer",
            [sys.executable, "-m", "omniclaude_consumer"],
            root=layout.part_dir("consumer"),
            env=env,
            ready=lambda: http_ok(f"{health}/ready"),
            **common,
        ),
    }
    if dashboard_available():
        port = ports["dashboard"]
        parts["dashboard"] = CommandService(
            "dashboard",
            [sys.executable, "-m", "omniclaude", "dashboard", "--host", "127.0.0.1", "--port", str(port)],
            root=layout.part_dir("dashboard"),
            env=env,
            ready=lambda: port_open(port),
            **common,
        )
    return parts


def require_tools(environ: Mapping[str, str]) -> None:
    """Raise MissingToolError (one line: which, and how to get it) when java or PostgreSQL is missing."""
    missing = []
    for find in (find_java, find_postgres_bindir):
        try:
            find(environ)
        except StackError as exc:
            missing.append(str(exc))
    if missing:
        raise MissingToolError("; ".join(missing))
