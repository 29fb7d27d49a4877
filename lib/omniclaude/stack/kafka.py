"""One Apache Kafka node (KRaft, broker and controller in one JVM) on 127.0.0.1, its files in one folder.

The JVM runs from the official jars (:mod:`omniclaude.stack.jars`). :class:`KafkaServer` keeps, under its
``root``: ``server.properties`` (rewritten at every start, so recorded ports may change), ``data/``
(formatted once, on the first start: ``data/meta.properties`` marks it), ``tmp/``, ``log4j2.properties``
and ``kafka.log`` (the JVM's stdout and stderr). Topics are never auto-created.

Extension points, for brokers with more than the PLAINTEXT listener (a secured test broker, say):

* ``listeners``: ``{name: security protocol}`` of extra listeners, each on its own free port
  (:meth:`KafkaServer.listener_port`), advertised on 127.0.0.1 and added to the protocol map;
* ``properties``: extra ``server.properties`` entries, written last (they override the defaults);
* ``format_args``: extra arguments for ``kafka-storage format`` on the first start (``--add-scram ...``).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from omniclaude.stack.process import (
    MissingToolError,
    Service,
    ServiceProcess,
    StackError,
    free_port,
    log_tail,
    port_open,
    setpriv_prefix,
    wait_for,
)

__all__ = ["JAVA_MISSING", "JVM_OPTIONS", "KafkaServer", "find_java", "kafka_probe"]

JAVA_MISSING = (
    "java not found (the local Kafka needs Java 17+): "
    "Debian/Ubuntu: apt-get install default-jre-headless; macOS: brew install openjdk"
)

# Heap sized for one machine; serial GC and the C1 compiler only: quick to start, light on small hosts.
JVM_OPTIONS = (
    "-Xms128m",
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
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = STDOUT
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
"""

_FORMATTED = "meta.properties"


def find_java(environ: Mapping[str, str]) -> str:
    """The ``java`` to run: ``$JAVA_HOME/bin/java``, else the one on ``PATH`` (both from ``environ``).

    Raises :class:`MissingToolError` (one line, with the package to install) when there is none.
    """
    java_home = environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java", path=environ.get("PATH", os.defpath))
    if java is None:
        raise MissingToolError(JAVA_MISSING)
    return java


def kafka_probe(bootstrap: str) -> BaseException | None:
    """None when a Kafka admin client can describe the cluster at ``bootstrap`` now, else the error."""
    host, _, port = bootstrap.rpartition(":")
    if not port_open(int(port), host):
        return ConnectionRefusedError(f"nothing listens on {bootstrap}")
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="omniclaude-stack",
            bootstrap_timeout_ms=2000,
            request_timeout_ms=5000,
        )
    except (KafkaError, OSError) as exc:
        return exc
    try:
        admin.describe_cluster()
    except (KafkaError, OSError) as exc:
        return exc
    finally:
        with contextlib.suppress(Exception):
            admin.close()
    return None


def _random_cluster_id() -> str:
    """A Kafka ``Uuid`` string: 16 random bytes, URL-safe base64, unpadded, not starting with '-'."""
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaServer(Service):
    """One Kafka node on 127.0.0.1 with its configuration, storage and log under ``root``.

    Nothing happens at construction. :meth:`start` creates the folders, picks free ports for those given
    as 0, writes ``server.properties``, formats the storage the first time, starts the JVM and returns
    once a Kafka admin client can describe the cluster. A later :meth:`start` (after :meth:`stop`) keeps
    the ports and the data. ``java`` and ``jars`` are the JVM and the classpath folder to use.
    """

    def __init__(
        self,
        root: Path,
        *,
        java: str,
        jars: Path,
        port: int = 0,
        controller_port: int = 0,
        jvm_options: Sequence[str] = JVM_OPTIONS,
        listeners: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        format_args: Sequence[str] = (),
        start_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        pdeathsig: bool = False,
        log_level: str = "INFO",
        max_log_bytes: int | None = None,
    ) -> None:
        self.root = root
        self.log_level = log_level
        self.java = java
        self.jars = jars
        self.jvm_options = tuple(jvm_options)
        self.extra_listeners = dict(listeners or {})
        self.extra_properties = dict(properties or {})
        self.format_args = tuple(format_args)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._port = port
        self._controller_port = controller_port
        self._listener_ports: dict[str, int] = {}
        self._process = ServiceProcess("kafka", root / "kafka.log", pdeathsig=pdeathsig, max_log_bytes=max_log_bytes)
        self.last_probe_error: BaseException | None = None

    @property
    def port(self) -> int:
        """The PLAINTEXT client port (0 until the first start picks one when none was given)."""
        return self._port

    @property
    def controller_port(self) -> int:
        """The KRaft controller port."""
        return self._controller_port

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:PORT"`` of the PLAINTEXT listener."""
        return f"127.0.0.1:{self._port}"

    def listener_port(self, name: str) -> int:
        """The port of the extra listener ``name``; raises KeyError before the first start."""
        return self._listener_ports[name]

    @property
    def data_dir(self) -> Path:
        """The storage (``log.dirs``)."""
        return self.root / "data"

    @property
    def formatted(self) -> bool:
        """Whether the storage has been formatted."""
        return (self.data_dir / _FORMATTED).is_file()

    def prepare(self) -> None:
        """Folders, ports, ``server.properties``; the storage is formatted when it is not yet."""
        for sub in ("data", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.root / "log4j2.properties").write_text(_LOG4J2_PROPERTIES.format(level=self.log_level), encoding="utf-8")
        taken: set[int] = set()
        self._port = self._port or _fresh_port(taken)
        taken.add(self._port)
        self._controller_port = self._controller_port or _fresh_port(taken)
        taken.add(self._controller_port)
        for name in self.extra_listeners:
            if name not in self._listener_ports:
                self._listener_ports[name] = _fresh_port(taken)
            taken.add(self._listener_ports[name])
        config = self.root / "server.properties"
        config.write_text(self._server_properties(), encoding="utf-8")
        if not self.formatted:
            self._format(config)

    def start(self) -> None:
        """Start the node and wait until it serves admin requests.

        Raises :class:`StackError` with the tail of the log if it does not become ready within
        ``start_timeout`` seconds, or if it is already running.
        """
        if self.running:
            raise StackError(f"Kafka on {self.bootstrap} is already running")
        self.prepare()
        self._process.spawn(
            [
                self.java,
                *self.jvm_options,
                *self._java_properties(),
                "-cp",
                str(self.jars / "*"),
                "kafka.Kafka",
                str(self.root / "server.properties"),
            ],
            cwd=self.root,
        )
        self.last_probe_error = None
        try:
            wait_for(
                self.ready,
                process=self._process,
                timeout=self.start_timeout,
                what=f"Kafka on {self.bootstrap}",
                interval=0.2,
            )
        except StackError as exc:
            if self.last_probe_error is None:
                raise
            raise StackError(f"{exc}\nlast admin client error: {self.last_probe_error!r}") from exc

    def ready(self) -> bool:
        """Whether a Kafka admin client can describe the cluster now."""
        error = kafka_probe(self.bootstrap)
        if error is not None:
            self.last_probe_error = error
        return error is None

    def _format(self, config: Path) -> None:
        argv = [
            *setpriv_prefix(pdeathsig=self._process.pdeathsig),
            self.java,
            *self.jvm_options,
            *self._java_properties(),
            "-cp",
            str(self.jars / "*"),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            _random_cluster_id(),
            "--config",
            str(config),
            *self.format_args,
        ]
        with self.log_path.open("ab") as log:
            try:
                result = subprocess.run(
                    argv,
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=120,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise StackError(f"formatting Kafka storage timed out; log {self.log_path}") from exc
        if result.returncode != 0:
            raise StackError(
                f"formatting Kafka storage failed (exit {result.returncode}); log {self.log_path}:\n"
                f"{log_tail(self.log_path)}"
            )

    def _java_properties(self) -> list[str]:
        return [
            f"-Djava.io.tmpdir={self.root / 'tmp'}",
            f"-Dlog4j2.configurationFile={self.root / 'log4j2.properties'}",
        ]

    def _server_properties(self) -> str:
        listeners = {"PLAINTEXT": ("PLAINTEXT", self._port)}
        listeners.update(
            {name: (protocol, self._listener_ports[name]) for name, protocol in self.extra_listeners.items()}
        )
        client = ",".join(f"{name}://127.0.0.1:{port}" for name, (_protocol, port) in listeners.items())
        protocols = ",".join(f"{name}:{protocol}" for name, (protocol, _port) in listeners.items())
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self._controller_port}",
            "listeners": f"{client},CONTROLLER://127.0.0.1:{self._controller_port}",
            "advertised.listeners": client,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": f"{protocols},CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
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
            **self.extra_properties,
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())


def _fresh_port(taken: set[int]) -> int:
    while True:
        port = free_port()
        if port not in taken:
            return port
