"""A real Apache Kafka broker (KRaft, one combined broker+controller node) for tests.

The broker is the product's own (:class:`omniclaude.stack.kafka.KafkaServer`, the one ``omniclaude stack``
runs), with its jars fetched once from Maven Central into ``<user cache dir>/omniclaude/kafka-<version>/``
and checked against the pinned SHA-256 list (:mod:`omniclaude.stack.jars`). Java 17+ is needed.

Each :class:`KafkaBroker` gets a fresh temporary directory holding its ``server.properties``, its storage
(formatted once, on the first start) and ``kafka.log`` (the JVM's stdout and stderr). ``listeners``,
``properties`` and ``format_args`` are passed to ``KafkaServer`` (extra listeners, extra
``server.properties`` entries, extra ``kafka-storage format`` arguments such as ``--add-scram``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import platformdirs
from omniclaude.stack import jars
from omniclaude.stack.kafka import KafkaServer
from omniclaude.stack.kafka import find_java as _find_java

from . import HarnessError, record_timing

__all__ = ["JVM_OPTIONS", "ExternalKafka", "KafkaBroker", "ensure_kafka_classpath", "find_java", "kafka_version"]

# Small heap, serial GC and the C1 compiler only: quick to start and light on a 2-core machine.
# Throughput measurements may pass their own ``jvm_options``.
JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
)


def kafka_version() -> str:
    """The pinned Kafka version."""
    return jars.kafka_version()


def find_java() -> str:
    """The ``java`` to run (``$JAVA_HOME/bin/java``, else PATH); MissingToolError (one line) when none."""
    return _find_java(os.environ)


def ensure_kafka_classpath() -> Path:
    """The directory holding the broker's jars, fetched from Maven Central (and checksummed) on first use."""
    started = time.monotonic()
    fetched: list[str] = []
    path = jars.ensure_kafka_jars(Path(platformdirs.user_cache_dir("omniclaude")), on_fetch=fetched.append)
    if fetched:
        record_timing(f"{fetched[0]} in {time.monotonic() - started:.1f}s")
    return path


@dataclass(frozen=True)
class ExternalKafka:
    """A broker the harness does not own (``OMNICLAUDE_TEST_KAFKA``): only its address, no stop/start."""

    bootstrap: str


class KafkaBroker:
    """One Kafka broker in KRaft combined mode on 127.0.0.1, owned by the test run.

    Nothing happens at construction. :meth:`start` does the first-time work (jar fetch, temp dir, free
    ports, storage format) and then starts the JVM; later calls start it again on the same ports and
    storage, so data written before a :meth:`stop` is still there. :meth:`start` returns once a Kafka
    admin client can describe the cluster, and records how long that took. Topics are never
    auto-created. Use as a context manager, or call :meth:`close` in a ``finally``.
    """

    def __init__(
        self,
        *,
        start_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        jvm_options: Sequence[str] = JVM_OPTIONS,
        listeners: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        format_args: Sequence[str] = (),
    ) -> None:
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.jvm_options = tuple(jvm_options)
        self.listeners = dict(listeners or {})
        self.properties = dict(properties or {})
        self.format_args = tuple(format_args)
        self._server: KafkaServer | None = None
        self._starts = 0

    @property
    def version(self) -> str:
        """The Kafka version this broker runs."""
        return kafka_version()

    @property
    def server(self) -> KafkaServer:
        """The product's server object. Raises :class:`HarnessError` before the first start."""
        if self._server is None:
            raise HarnessError("KafkaBroker has not been started")
        return self._server

    @property
    def port(self) -> int:
        """The client (PLAINTEXT) port. Raises :class:`HarnessError` before the first start."""
        return self.server.port

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:PORT"``, for ``bootstrap_servers``. Stable across stop/start."""
        return self.server.bootstrap

    def listener_port(self, name: str) -> int:
        """The port of the extra listener ``name``."""
        return self.server.listener_port(name)

    @property
    def run_dir(self) -> Path:
        """The temporary directory with config, storage and log."""
        return self.server.root

    @property
    def log_path(self) -> Path:
        """The broker's log file (JVM stdout and stderr)."""
        return self.server.log_path

    @property
    def running(self) -> bool:
        """Whether the broker process is up (it may still be starting)."""
        return self._server is not None and self._server.running

    def start(self) -> None:
        """Start the broker and wait until it serves admin requests.

        Raises :class:`MissingToolError` if Java is missing, and :class:`HarnessError` with the tail of
        the broker log if it does not become ready within ``start_timeout`` seconds. Calling it while
        running raises :class:`HarnessError`.
        """
        if self.running:
            raise HarnessError(f"Kafka broker on {self.bootstrap} is already running")
        first = self._server is None
        if first:
            java = find_java()
            classpath = ensure_kafka_classpath()
            self._server = KafkaServer(
                Path(tempfile.mkdtemp(prefix="omniclaude-kafka-")),
                java=java,
                jars=classpath,
                jvm_options=self.jvm_options,
                listeners=self.listeners,
                properties=self.properties,
                format_args=self.format_args,
                start_timeout=self.start_timeout,
                stop_timeout=self.stop_timeout,
                pdeathsig=True,
            )
        started = time.monotonic()
        try:
            self.server.start()
        except BaseException:
            if first:
                self.close()  # the next start() begins afresh
            raise
        self._starts += 1
        kind = "ready (storage formatted)" if first else f"ready again (start #{self._starts})"
        record_timing(f"kafka {self.version} broker on {self.bootstrap} {kind} in {time.monotonic() - started:.1f}s")

    def stop(self) -> None:
        """Stop the broker: SIGTERM (controlled shutdown), SIGKILL after ``stop_timeout`` seconds.

        Keeps ports and storage for :meth:`start`. A no-op when it is not running.
        """
        if self.running and not self.server.stop():
            print(f"harness: kafka broker did not stop within {self.stop_timeout:.0f}s; killed it", file=sys.stderr)

    def close(self) -> None:
        """Stop the broker and delete its temporary directory. Idempotent.

        A later :meth:`start` sets up a new broker (new ports, empty storage).
        """
        server, self._server = self._server, None
        if server is None:
            return
        try:
            if server.running:
                server.stop()
        finally:
            server.kill()
            shutil.rmtree(server.root, ignore_errors=True)

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
