"""Fixtures for the real services the tests run against: a Kafka broker and a PostgreSQL cluster.

Services start lazily, on the first test that asks for them, and are stopped at session end, also
when the run is interrupted: SIGTERM is turned into KeyboardInterrupt, as Ctrl-C, so teardown runs.

Fixtures (see ``tests.harness`` for the classes):

* ``kafka`` (session): ``.bootstrap`` is ``"127.0.0.1:PORT"``. A harness-owned
  :class:`~tests.harness.kafka.KafkaBroker`, or, when ``OMNICLAUDE_TEST_KAFKA=host:port`` is set, an
  :class:`~tests.harness.kafka.ExternalKafka` with only ``.bootstrap``.
* ``kafka_controllable`` (function): always a harness-owned ``KafkaBroker`` with ``.stop()`` and
  ``.start()`` (same port and storage). Without ``OMNICLAUDE_TEST_KAFKA`` it is the same broker as
  ``kafka``; after each test it is started again if the test left it stopped.
* ``postgres`` (session): ``.url`` (``postgresql://postgres@127.0.0.1:PORT/postgres``) and
  ``.create_database(name=None) -> url``. A harness-owned :class:`~tests.harness.postgres.PostgresCluster`,
  or, when ``OMNICLAUDE_TEST_DATABASE_URL`` is set, an :class:`~tests.harness.postgres.ExternalPostgres`
  creating databases on that server.
* ``postgres_controllable`` (function): always a harness-owned ``PostgresCluster`` with
  ``.stop()``, ``.start()`` and ``.restart()``; restarted after the test if left stopped.
* ``database_url`` (module): the URL of a fresh, empty database for the test module, dropped after it.

A missing Java or PostgreSQL installation fails the tests that need it with one line saying
what to install; it never skips. Tests using these fixtures get the ``kafka`` or ``postgres`` marker,
so ``-m "not kafka and not postgres"`` runs the rest.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from tests.harness import HarnessError, timings
from tests.harness.kafka import ExternalKafka, KafkaBroker
from tests.harness.postgres import ExternalPostgres, PostgresCluster, database_name

pytest_plugins = ["tests.harness.claude_fixtures", "tests.harness.install_fixtures"]

KAFKA_ENV = "OMNICLAUDE_TEST_KAFKA"
DATABASE_ENV = "OMNICLAUDE_TEST_DATABASE_URL"

_KAFKA_FIXTURES = frozenset({"kafka", "kafka_controllable"})
_POSTGRES_FIXTURES = frozenset({"postgres", "postgres_controllable", "database_url"})


_PYTEST_PID = os.getpid()


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    if os.getpid() != _PYTEST_PID:  # a forked child: die as it would have without this handler
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM behaves like Ctrl-C, so fixtures tear down and temporary directories are removed.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _KAFKA_FIXTURES:
            item.add_marker(pytest.mark.kafka)
        if names & _POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = timings()
    if lines:
        terminalreporter.write_sep("-", "service harness")
        for line in lines:
            terminalreporter.write_line(line)


def _start_or_fail(service: KafkaBroker | PostgresCluster) -> None:
    """Start ``service``; a :class:`HarnessError` fails the test with its message alone, no traceback."""
    try:
        service.start()
    except HarnessError as exc:
        message = str(exc)
    else:
        return
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def _owned_kafka_broker() -> Iterator[KafkaBroker]:
    broker = KafkaBroker()
    try:
        _start_or_fail(broker)
        yield broker
    finally:
        broker.close()


@pytest.fixture(scope="session")
def kafka(request: pytest.FixtureRequest) -> KafkaBroker | ExternalKafka:
    """The Kafka broker to use: ``.bootstrap``; no stop/start when it is external."""
    external = os.environ.get(KAFKA_ENV)
    if external:
        return ExternalKafka(bootstrap=external)
    broker: KafkaBroker = request.getfixturevalue("_owned_kafka_broker")
    return broker


@pytest.fixture
def kafka_controllable(_owned_kafka_broker: KafkaBroker) -> Iterator[KafkaBroker]:
    """A harness-owned broker the test may stop and start; running again after the test."""
    yield _owned_kafka_broker
    if not _owned_kafka_broker.running:
        _start_or_fail(_owned_kafka_broker)


@pytest.fixture(scope="session")
def _owned_postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        _start_or_fail(cluster)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> PostgresCluster | ExternalPostgres:
    """The PostgreSQL server to use: ``.url`` and ``.create_database()``."""
    external = os.environ.get(DATABASE_ENV)
    if external:
        return ExternalPostgres(external)
    cluster: PostgresCluster = request.getfixturevalue("_owned_postgres_cluster")
    return cluster


@pytest.fixture
def postgres_controllable(_owned_postgres_cluster: PostgresCluster) -> Iterator[PostgresCluster]:
    """A harness-owned cluster the test may stop, start or restart; running again after the test."""
    yield _owned_postgres_cluster
    if not _owned_postgres_cluster.running:
        _start_or_fail(_owned_postgres_cluster)


@pytest.fixture(scope="module")
def database_url(postgres: PostgresCluster | ExternalPostgres) -> Iterator[str]:
    """A fresh, empty database for this test module (dropped afterwards)."""
    url = postgres.create_database()
    yield url
    postgres.drop_database(database_name(url))
