from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest
from omniclaude_consumer.health import ConsumerState, HealthServer, render_metrics
from omniclaude_consumer.message import Partition
from omniclaude_consumer.rows import TABLES


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> ConsumerState:
    return ConsumerState(stall_seconds=30, clock=clock, wall=lambda: 1_800_000_000.0)


@pytest.fixture
def server(state: ConsumerState) -> Iterator[HealthServer]:
    srv = HealthServer(state, "127.0.0.1", 0, tables=TABLES)
    srv.start()
    yield srv
    srv.stop()


def _get(server: HealthServer, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _ready(state: ConsumerState) -> None:
    state.database(True)
    state.set_assignment([Partition("t", 0)], {Partition("t", 0): 5})


def test_ready_needs_partitions_database_and_no_backoff(state: ConsumerState, server: HealthServer) -> None:
    status, body = _get(server, "/ready")
    assert status == 503
    reasons = json.loads(body)["reasons"]
    assert "no partitions assigned" in reasons and "the database is not reachable" in reasons
    _ready(state)
    assert _get(server, "/ready")[0] == 200
    state.backoff("connection refused")
    status, body = _get(server, "/ready")
    assert status == 503 and "connection refused" in body
    assert _get(server, "/health")[0] == 200  # backing off is alive, not ready
    state.batch_done(consumed=1, written=Counter(), unchanged=Counter(), dead=Counter(), seconds=0.1, committed=True)
    assert _get(server, "/ready")[0] == 200


def test_health_follows_the_heartbeat(state: ConsumerState, server: HealthServer, clock: Clock) -> None:
    _ready(state)
    clock.now += 29
    assert _get(server, "/health")[0] == 200
    clock.now += 2
    status, body = _get(server, "/health")
    assert status == 503 and "no progress" in body
    assert _get(server, "/ready")[0] == 503
    state.beat()
    assert _get(server, "/health")[0] == 200


def test_after_stop_both_answer_503_for_good(state: ConsumerState, server: HealthServer) -> None:
    _ready(state)
    state.stop("shutdown")
    state.beat()
    state.database(True)
    for path in ("/health", "/ready"):
        status, body = _get(server, path)
        assert status == 503
        assert json.loads(body)["stopped"] is True


def test_dead_letter_limit_is_reported(state: ConsumerState, server: HealthServer) -> None:
    _ready(state)
    state.stop("too many dead letters", limit_exceeded=True)
    body = json.loads(_get(server, "/ready")[1])
    assert body["dead_letter_limit_exceeded"] is True


def test_metrics(state: ConsumerState, server: HealthServer) -> None:
    _ready(state)
    state.batch_done(
        consumed=10,
        written=Counter(agent_actions=7),
        unchanged=Counter(agent_actions=1),
        dead=Counter(not_json=2),
        seconds=0.02,
        committed=True,
    )
    state.backoff("x")
    status, text = _get(server, "/metrics")
    assert status == 200
    assert "omniclaude_consumer_messages_consumed_total 10" in text
    assert 'omniclaude_consumer_rows_inserted_total{table="agent_actions"} 7' in text
    assert 'omniclaude_consumer_rows_inserted_total{table="claude_hook_events"} 0' in text
    assert 'omniclaude_consumer_rows_duplicate_total{table="agent_actions"} 1' in text
    assert 'omniclaude_consumer_dead_lettered_total{reason="not_json"} 2' in text
    assert 'omniclaude_consumer_dead_lettered_total{reason="db_rejected"} 0' in text
    assert "omniclaude_consumer_retries_total 1" in text
    assert 'omniclaude_consumer_batch_seconds_bucket{le="0.025"} 1' in text
    assert "omniclaude_consumer_batch_seconds_count 1" in text
    assert 'omniclaude_consumer_lag{topic="t",partition="0"} 5' in text
    assert "omniclaude_consumer_last_commit_timestamp_seconds 1800000000" in text
    for line in text.splitlines():  # every sample line is "name{labels} value"
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


def test_unknown_path_is_404(server: HealthServer) -> None:
    assert _get(server, "/nope")[0] == 404


def test_metrics_render_without_a_server(state: ConsumerState) -> None:
    text = render_metrics(state.snapshot())
    assert "# TYPE omniclaude_consumer_batch_seconds histogram" in text
