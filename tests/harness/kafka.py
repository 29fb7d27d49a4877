"""A real Apache Kafka broker (KRaft, one combined broker+controller node) for tests.

The broker runs from the official jars on Maven Central, pinned by ``kafka-pom.xml`` beside this
file. The first use fetches them with Maven into ``<user cache dir>/omniclaude/kafka-<version>/``
(``m2/`` is Maven's repository there, ``libs/`` the broker classpath); a marker file written only
after a complete fetch makes later runs reuse them, and an interrupted fetch is redone. Maven is
needed for that first fetch only; Java 17+ always.

Each :class:`KafkaBroker` gets a fresh temporary directory holding its ``server.properties``, its
storage (formatted once, on the first start) and ``broker.log`` (the JVM's stdout and stderr).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import platformdirs
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from . import (
    HarnessError,
    MissingToolError,
    ServiceProcess,
    free_port,
    log_tail,
    port_open,
    record_timing,
    setpriv_prefix,
    wait_for,
)

__all__ = [
    "JVM_OPTIONS",
    "POM_PATH",
    "ExternalKafka",
    "KafkaBroker",
    "ensure_kafka_classpath",
    "find_java",
    "kafka_version",
]

POM_PATH = Path(__file__).with_name("kafka-pom.xml")
_MAVEN_NS = "{http://maven.apache.org/POM/4.0.0}"
_MARKER = "fetch-complete"

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

_LOG4J2_PROPERTIES = """\
status = error
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
"""


@functools.cache
def kafka_version() -> str:
    """The pinned Kafka version: the ``kafka.version`` property of ``kafka-pom.xml``."""
    root = ET.parse(POM_PATH).getroot()
    node = root.find(f"{_MAVEN_NS}properties/{_MAVEN_NS}kafka.version")
    if node is None or not node.text:
        raise HarnessError(f"{POM_PATH} has no <kafka.version> property")
    return node.text.strip()


def find_java() -> str:
    """The ``java`` to run: ``$JAVA_HOME/bin/java``, else the one on PATH.

    Raises :class:`MissingToolError` (one line, with the package to install) when there is none.
    """
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise MissingToolError(
            "java not found (the Kafka test broker needs Java 17+): apt-get install openjdk-17-jre-headless"
        )
    return java


def ensure_kafka_classpath() -> Path:
    """The directory holding the broker's jars, fetched with Maven on first use.

    Safe against concurrent pytest processes (a file lock serialises the fetch). Raises
    :class:`MissingToolError` when Maven is needed but missing and :class:`HarnessError` when the
    fetch fails.
    """
    version = kafka_version()
    home = Path(platformdirs.user_cache_dir("omniclaude")) / f"kafka-{version}"
    libs = home / "libs"
    marker = home / _MARKER
    wanted = hashlib.sha256(POM_PATH.read_bytes()).hexdigest()

    def complete() -> bool:
        return marker.is_file() and marker.read_text(encoding="utf-8").strip() == wanted

    if complete():
        return libs
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if complete():
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise MissingToolError(
                "mvn not found (needed once to fetch the Kafka test broker's jars): apt-get install maven"
            )
        find_java()  # Maven needs it too; fail with the clearer message.
        marker.unlink(missing_ok=True)
        shutil.rmtree(libs, ignore_errors=True)
        started = time.monotonic()
        argv = [
            *setpriv_prefix(),
            mvn, "-q", "-B", "-f", str(POM_PATH), "dependency:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={libs}", f"-Dmaven.repo.local={home / 'm2'}",
        ]  # fmt: skip
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"fetching the Kafka {version} jars with Maven timed out") from exc
        broker_jar = libs / f"kafka_2.13-{version}.jar"
        if result.returncode != 0 or not broker_jar.is_file():
            output = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
            raise HarnessError(
                f"fetching the Kafka {version} jars failed (exit {result.returncode}): {' '.join(argv)}\n"
                f"{output}"
            )
        marker.write_text(wanted + "\n", encoding="utf-8")
        record_timing(f"kafka {version} jars fetched into {libs} in {time.monotonic() - started:.1f}s")
    return libs


def _random_cluster_id() -> str:
    """A Kafka ``Uuid`` string: 16 random bytes, URL-safe base64, unpadded, not starting with '-'."""
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass(frozen=True)
class ExternalKafka:
    """A broker the harness does not own (``OMNICLAUDE_TEST_KAFKA``): only its address, no stop/start."""

    bootstrap: str


class KafkaBroker:
    """One Kafka broker in KRaft combined mode on 127.0.0.1, owned by the test run.

    Nothing happens at construction. :meth:`start` does the first-time work (jar fetch, temp dir,
    free ports, ``server.properties``, storage format) and then starts the JVM; later calls start it
    again on the same ports and storage, so data written before a :meth:`stop` is still there.
    :meth:`start` returns once a kafka-python admin client can describe the cluster, and records
    how long that took. Topics are never auto-created. Use as a context manager, or call
    :meth:`close` in a ``finally``.
    """

    def __init__(
        self,
        *,
        start_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        jvm_options: Sequence[str] = JVM_OPTIONS,
    ) -> None:
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.jvm_options = tuple(jvm_options)
        self._run_dir: Path | None = None
        self._port = 0
        self._controller_port = 0
        self._process: ServiceProcess | None = None
        self._classpath: Path | None = None
        self._starts = 0
        self._last_probe_error: BaseException | None = None

    @property
    def version(self) -> str:
        """The Kafka version this broker runs."""
        return kafka_version()

    @property
    def port(self) -> int:
        """The client (PLAINTEXT) port. Raises :class:`HarnessError` before the first start."""
        if not self._port:
            raise HarnessError("KafkaBroker has not been started")
        return self._port

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:PORT"``, for ``bootstrap_servers``. Stable across stop/start."""
        return f"127.0.0.1:{self.port}"

    @property
    def run_dir(self) -> Path:
        """The temporary directory with config, storage and log."""
        if self._run_dir is None:
            raise HarnessError("KafkaBroker has not been started")
        return self._run_dir

    @property
    def log_path(self) -> Path:
        """The broker's log file (JVM stdout and stderr)."""
        return self.run_dir / "broker.log"

    @property
    def running(self) -> bool:
        """Whether the broker process is up (it may still be starting)."""
        return self._process is not None and self._process.running

    def start(self) -> None:
        """Start the broker and wait until it serves admin requests.

        Raises :class:`MissingToolError` if Java (or, before the jars are cached, Maven) is missing,
        and :class:`HarnessError` with the tail of the broker log if it does not become ready
        within ``start_timeout`` seconds. Calling it while running raises :class:`HarnessError`.
        """
        if self.running:
            raise HarnessError(f"Kafka broker on {self.bootstrap} is already running")
        java = find_java()
        first = self._run_dir is None
        if first:
            self._classpath = ensure_kafka_classpath()
        started = time.monotonic()
        if first:
            try:
                self._prepare(java)
            except BaseException:
                self.close()  # the next start() begins afresh
                raise
        assert self._process is not None and self._classpath is not None
        self._process.spawn(
            [java, *self.jvm_options, *self._java_properties(), "-cp", str(self._classpath / "*"),
             "kafka.Kafka", str(self.run_dir / "server.properties")],
            cwd=self.run_dir,
        )  # fmt: skip
        self._last_probe_error = None
        try:
            wait_for(
                self._ready,
                process=self._process,
                timeout=self.start_timeout,
                what=f"Kafka {self.version} broker on {self.bootstrap}",
                interval=0.2,
            )
        except HarnessError as exc:
            if self._last_probe_error is None:
                raise
            raise HarnessError(f"{exc}\nlast admin client error: {self._last_probe_error!r}") from exc
        self._starts += 1
        seconds = time.monotonic() - started
        kind = "ready (storage formatted)" if first else f"ready again (start #{self._starts})"
        record_timing(f"kafka {self.version} broker on {self.bootstrap} {kind} in {seconds:.1f}s")

    def stop(self) -> None:
        """Stop the broker: SIGTERM (controlled shutdown), SIGKILL after ``stop_timeout`` seconds.

        Keeps ports and storage for :meth:`start`. A no-op when it is not running.
        """
        if self._process is None or not self._process.running:
            return
        if not self._process.stop(signal.SIGTERM, self.stop_timeout):
            print(
                f"harness: kafka broker did not stop within {self.stop_timeout:.0f}s; killed it",
                file=sys.stderr,
            )

    def close(self) -> None:
        """Stop the broker and delete its temporary directory. Idempotent.

        A later :meth:`start` sets up a new broker (new ports, empty storage).
        """
        try:
            self.stop()
        finally:
            if self._process is not None:
                self._process.kill()
            if self._run_dir is not None:
                shutil.rmtree(self._run_dir, ignore_errors=True)
                self._run_dir = None

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

    def _prepare(self, java: str) -> None:
        run_dir = Path(tempfile.mkdtemp(prefix="omniclaude-kafka-"))
        self._run_dir = run_dir
        (run_dir / "tmp").mkdir()
        (run_dir / "log4j2.properties").write_text(_LOG4J2_PROPERTIES, encoding="utf-8")
        self._port = free_port()
        self._controller_port = free_port()
        while self._controller_port == self._port:
            self._controller_port = free_port()
        config = run_dir / "server.properties"
        config.write_text(self._server_properties(), encoding="utf-8")
        self._process = ServiceProcess("kafka", self.log_path)
        assert self._classpath is not None
        argv = [*setpriv_prefix(), java, *self.jvm_options, *self._java_properties(),
                "-cp", str(self._classpath / "*"), "kafka.tools.StorageTool", "format",
                "--cluster-id", _random_cluster_id(), "--config", str(config)]  # fmt: skip
        with self.log_path.open("ab") as log:
            try:
                result = subprocess.run(
                    argv, cwd=run_dir, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, timeout=120, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired as exc:
                raise HarnessError(f"formatting Kafka storage timed out; log {self.log_path}") from exc
        if result.returncode != 0:
            raise HarnessError(
                f"formatting Kafka storage failed (exit {result.returncode}); log {self.log_path}:\n"
                f"{log_tail(self.log_path)}"
            )

    def _java_properties(self) -> list[str]:
        return [
            f"-Djava.io.tmpdir={self.run_dir / 'tmp'}",
            f"-Dlog4j2.configurationFile={self.run_dir / 'log4j2.properties'}",
        ]

    def _server_properties(self) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self._controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self._port},CONTROLLER://127.0.0.1:{self._controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self._port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.run_dir / "data"),
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "share.coordinator.state.topic.num.partitions": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "background.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
            "log.cleaner.threads": "1",
            "log.cleaner.dedupe.buffer.size": "4194304",
            "log.segment.bytes": "8388608",
            "log.index.size.max.bytes": "1048576",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _ready(self) -> bool:
        if not port_open(self._port):
            return False
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap,
                client_id="omniclaude-test-harness",
                bootstrap_timeout_ms=2000,
                request_timeout_ms=5000,
            )
        except (KafkaError, OSError) as exc:
            self._last_probe_error = exc
            return False
        try:
            admin.describe_cluster()
        except (KafkaError, OSError) as exc:
            self._last_probe_error = exc
            return False
        finally:
            with contextlib.suppress(Exception):
                admin.close()
        return True
