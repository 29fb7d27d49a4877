"""The consumer as a process (`python -m omniclaude_consumer`): crashes, a group of two, shutdown, exit codes."""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from omniclaude.topics import event_topics
from omniclaude_consumer.__main__ import main

from tests.consumer import factory
from tests.consumer.conftest import (
    REPO,
    ConsumerProcess,
    consumer_env,
    event_ids,
    expected_ids,
    http_get,
    settings_for,
    table_counts,
    wait_until,
)
from tests.harness import free_port


def _drained(bootstrap: str, group: str, prefix: str, total: int) -> bool:
    committed, end = factory.committed_and_end(bootstrap, group, event_topics(prefix))
    return sum(end.values()) >= total and committed == end


def _assigned_partitions(port: int) -> int:
    try:
        _status, text = http_get(port, "/metrics")
    except OSError:
        return -1
    for line in str(text).splitlines():
        if line.startswith("omniclaude_consumer_assigned_partitions "):
            return int(float(line.split()[1]))
    return -1


def test_sigkill_at_five_random_points_loses_and_duplicates_nothing(
    kafka: Any, topics: str, migrated_url: str, consumer_process: Callable[..., ConsumerProcess]
) -> None:
    prefix = topics
    rng = random.Random(31)
    records = list(factory.good_stream(50_000, prefix, seed=31))
    group = f"{prefix}-group"
    process = consumer_process(settings_for(kafka.bootstrap, migrated_url, prefix, consumer_max_poll_records=1000))

    def produce() -> None:  # the events flow while the consumer is killed and restarted
        producer = factory.Producer(kafka.bootstrap)
        try:
            for start in range(0, len(records), 2500):
                producer.send(records[start : start + 2500])
                time.sleep(0.2)
        finally:
            producer.close()

    flow = threading.Thread(target=produce)
    flow.start()
    process.start()
    kills = 0
    try:
        for _ in range(5):
            time.sleep(rng.uniform(1.5, 4.0))
            process.kill()
            kills += 1
            process.start()
        flow.join(timeout=180)
        wait_until(
            lambda: _drained(kafka.bootstrap, group, prefix, len(records)),
            180,
            "the restarted consumer to drain the topics",
        )
    finally:
        flow.join(timeout=60)
        process.kill()
    assert kills == 5
    expected = expected_ids(records)
    assert event_ids(migrated_url) == expected, process.log_tail()
    assert table_counts(migrated_url) == {t: len(ids) for t, ids in expected.items()}
    with psycopg.connect(migrated_url) as conn:  # every lifecycle complete, as if delivered once
        incomplete = conn.execute(
            "SELECT count(*) FROM agent_execution_logs WHERE started_at IS NULL OR completed_at IS NULL "
            "OR progress_at IS NULL OR duration_ms IS NULL OR status = 'in_progress'"
        ).fetchone()
    assert incomplete == (0,)


def test_two_consumers_in_a_group_one_killed_the_other_takes_over(
    kafka: Any, prefix: str, migrated_url: str, consumer_process: Callable[..., ConsumerProcess]
) -> None:
    factory.create_topics(kafka.bootstrap, prefix, partitions=6)
    records = list(factory.good_stream(12_000, prefix, seed=41))
    settings = settings_for(kafka.bootstrap, migrated_url, prefix, consumer_max_poll_records=500)
    ports = [free_port(), free_port()]
    first, second = consumer_process(settings), consumer_process(settings)
    first.start(consumer_health_port=ports[0], consumer_instance_id=f"{prefix}-first")
    second.start(consumer_health_port=ports[1], consumer_instance_id=f"{prefix}-second")
    total_partitions = 6 * len(event_topics(prefix))

    assigned = _assigned_partitions

    def shared() -> bool:
        first_count, second_count = assigned(ports[0]), assigned(ports[1])
        return first_count > 0 and second_count > 0 and first_count + second_count == total_partitions

    wait_until(shared, 60, "both consumers to share the partitions")
    producer = factory.Producer(kafka.bootstrap)
    try:
        producer.send(records[:6000])
        time.sleep(1.0)
        second.kill()  # mid-stream, without leaving the group: its partitions move after the session timeout
        producer.send(records[6000:])
    finally:
        producer.close()
    wait_until(lambda: assigned(ports[0]) == total_partitions, 60, "the survivor to take every partition")
    wait_until(
        lambda: _drained(kafka.bootstrap, f"{prefix}-group", prefix, len(records)),
        90,
        "the survivor to drain the topics",
    )
    assert event_ids(migrated_url) == expected_ids(records), first.log_tail()
    first.signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0


def test_sigterm_under_100_concurrent_health_requests(
    kafka: Any, topics: str, migrated_url: str, consumer_process: Callable[..., ConsumerProcess]
) -> None:
    port = free_port()
    process = consumer_process(settings_for(kafka.bootstrap, migrated_url, topics))
    process.start(consumer_health_port=port)
    producer = factory.Producer(kafka.bootstrap)
    try:
        producer.send(list(factory.good_stream(2000, topics, seed=51)))
    finally:
        producer.close()

    def ready() -> bool:
        try:
            return _get(port, "/ready")[1] == 200
        except OSError:  # not listening yet
            return False

    wait_until(ready, 60, "the consumer to be ready")

    answers: list[tuple[float, float, str, int, Any]] = []  # (sent, received, path, status, body)
    refused: list[tuple[float, str]] = []  # connection errors: only once the process is going away
    lock = threading.Lock()
    done = threading.Event()

    def hammer(index: int) -> None:
        path = "/health" if index % 2 else "/ready"
        while not done.is_set():
            sent = time.monotonic()
            try:
                _, status, body = _get(port, path)
            except OSError as exc:
                with lock:
                    refused.append((sent, repr(exc)))
                time.sleep(0.01)
                continue
            with lock:
                answers.append((sent, time.monotonic(), path, status, body))

    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        futures = [pool.submit(hammer, i) for i in range(100)]
        time.sleep(1.0)
        sigterm_at = time.monotonic()
        process.signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        exited_at = time.monotonic()
        time.sleep(0.3)
        done.set()
        for future in futures:
            future.result()  # no exception in any client

    assert code == 0 and exited_at - sigterm_at < 10, exited_at - sigterm_at
    print(f"\nexit {exited_at - sigterm_at:.1f}s after SIGTERM; {len(answers)} answers, {len(refused)} refused")
    assert len(answers) > 100
    for _sent, _received, _path, status, body in answers:
        assert status in (200, 503)
        assert isinstance(body, dict) and body["status"] in ("ok", "unavailable"), body
        assert (status == 200) == (body["status"] == "ok")
    stopped = [received for _s, received, _p, _st, body in answers if body["stopped"]]
    assert stopped, "no answer saw the loop stopped"
    first_stopped = min(stopped)
    late = [a for a in answers if a[0] > first_stopped and a[3] == 200]
    assert not late, f"{len(late)} answers were 200 after the loop had stopped"
    early = [(round(sigterm_at - sent, 3), error) for sent, error in refused if sent <= sigterm_at]
    assert not early, early[:5]
    log = process.log_tail(200)
    assert "Traceback" not in log, log


def _get(port: int, path: str) -> tuple[str, int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    return path, status, body


def test_refuses_to_start_when_the_schema_is_behind(kafka: Any, postgres: Any, tmp_path: Path) -> None:
    url = postgres.create_database()  # empty: no migration applied
    settings = settings_for(kafka.bootstrap, url, "behind")
    result = subprocess.run(
        [sys.executable, "-m", "omniclaude_consumer"],
        env=consumer_env(settings, tmp_path),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "behind" in result.stderr and "omniclaude db upgrade" in result.stderr


def test_the_dead_letter_limit_stops_the_process_with_exit_3(
    kafka: Any, topics: str, migrated_url: str, consumer_process: Callable[..., ConsumerProcess]
) -> None:
    bad = [factory.Record(f"{topics}.agent-actions", b"k", b"{broken release") for _ in range(300)]
    producer = factory.Producer(kafka.bootstrap)
    try:
        producer.send(bad + list(factory.good_stream(100, topics, seed=61, execution_share=0)))
    finally:
        producer.close()
    process = consumer_process(settings_for(kafka.bootstrap, migrated_url, topics, consumer_dlq_max_share=0.5))
    process.start()
    assert process.wait(timeout=60) == 3
    assert "dead-letter" in process.log_tail()
    committed, _end = factory.committed_and_end(kafka.bootstrap, f"{topics}-group", [f"{topics}.agent-actions"])
    assert not committed  # nothing was committed past the poison


def test_settings_errors_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"HOME": str(tmp_path), "OMNICLAUDE_HOME": str(tmp_path)}
    assert main([], env) == 1
    assert "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS is required" in capsys.readouterr().err
    env.update(
        OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS="k:9092",
        OMNICLAUDE_DATABASE_URL="postgresql://u:pw@h/db",
        OMNICLAUDE_CONSUMER_DLQ_MAX_SHARE="2",
    )
    assert main([], env) == 1
    err = capsys.readouterr().err
    assert "OMNICLAUDE_CONSUMER_DLQ_MAX_SHARE" in err and "pw" not in err
    assert main(["--help"], env) == 0
    assert "omniclaude-consumer" in capsys.readouterr().out
    assert main(["--bogus"], env) == 2


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("omniclaude-consumer")
    assert script.exists()
    result = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0 and "OMNICLAUDE_DATABASE_URL" in result.stdout


def test_missing_topics_are_created_and_the_consumer_becomes_ready(
    kafka: Any, prefix: str, migrated_url: str, run_consumer: Any
) -> None:
    from kafka import KafkaAdminClient
    from omniclaude.topics import dead_letter_topic

    consumer = run_consumer(settings_for(kafka.bootstrap, migrated_url, prefix, topic_partitions=2))
    wait_until(lambda: consumer.get("/ready")[0] == 200, 60, "/ready without any topic created beforehand")
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        names = set(admin.list_topics())
    finally:
        admin.close()
    assert {*event_topics(prefix), dead_letter_topic(prefix)} <= names
    assert consumer.state.snapshot().assigned == frozenset((t, p) for t in event_topics(prefix) for p in range(2))


def test_a_killed_consumer_restarted_at_once_takes_its_partitions_back_without_the_session_timeout(
    kafka: Any, topics: str, migrated_url: str, consumer_process: Callable[..., ConsumerProcess]
) -> None:
    """Static membership: the restarted process joins as the same member, so the broker hands its partitions
    back at once instead of waiting out the 45 s session timeout for the dead one."""
    records = list(factory.good_stream(3000, topics, seed=53))
    settings = settings_for(kafka.bootstrap, migrated_url, topics, consumer_session_timeout_ms=45_000)
    port = free_port()
    process = consumer_process(settings)
    process.start(consumer_health_port=port)
    total = 3 * len(event_topics(topics))
    wait_until(lambda: _assigned_partitions(port) == total, 60, "the consumer to get its partitions")
    producer = factory.Producer(kafka.bootstrap)
    try:
        producer.send(records[:1500])
        process.kill()
        restarted_at = time.monotonic()
        process.start(consumer_health_port=port)
        producer.send(records[1500:])
    finally:
        producer.close()
    wait_until(lambda: _assigned_partitions(port) == total, 30, "the restarted consumer to get its partitions")
    assert time.monotonic() - restarted_at < 30, "waited out the session timeout"
    wait_until(
        lambda: _drained(kafka.bootstrap, f"{topics}-group", topics, len(records)),
        60,
        "the restarted consumer to drain the topics",
    )
    assert event_ids(migrated_url) == expected_ids(records), process.log_tail()
    process.signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
