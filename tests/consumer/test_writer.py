"""The writer against PostgreSQL: batched, idempotent, bisecting bad rows, recovering from lost connections."""

from __future__ import annotations

import random

import psycopg
import pytest
from omniclaude.events import Envelope
from omniclaude_consumer import errors
from omniclaude_consumer.rows import AGENT_ACTIONS, to_row
from omniclaude_consumer.writer import Pending, Writer

from tests.consumer import factory


def _actions(count: int, seed: int = 1) -> list[Pending[int]]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        record = factory.good_event(rng, "p", "agent_action")
        assert record.value is not None
        out.append(Pending(index, to_row(Envelope.parse_json(record.value)).values))
    return out


def test_bad_rows_are_isolated_by_bisection_and_the_rest_is_written(migrated_url: str) -> None:
    rows = _actions(1000)
    bad = {17: "nul\x00text", 500: "x", 501: "y", 998: "z"}
    for index, text in bad.items():
        if index == 17:
            rows[index].row["agent_name"] = text
        else:
            rows[index].row["action_details"] = '{"a": "\\u0000"}'
    writer: Writer[int] = Writer.for_url(migrated_url)
    try:
        result = writer.write({AGENT_ACTIONS: rows})
    finally:
        writer.close()
    assert sorted(r.ref for r in result.rejected) == sorted(bad)
    assert all(isinstance(r.error, errors.RowRejected) for r in result.rejected)
    assert all(r.attempts >= 2 for r in result.rejected)
    assert result.written[AGENT_ACTIONS] == 996
    assert result.statements < 100  # bisection, not one statement per row
    with psycopg.connect(migrated_url) as conn:
        assert conn.execute("SELECT count(*) FROM agent_actions").fetchone() == (996,)


def test_a_lost_connection_is_transient_and_the_next_call_reconnects(migrated_url: str) -> None:
    writer: Writer[int] = Writer.for_url(migrated_url)
    try:
        writer.write({AGENT_ACTIONS: _actions(5)})
        pid = writer.call(lambda conn: conn.info.backend_pid)
        with psycopg.connect(migrated_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(errors.DatabaseUnavailable):
            writer.write({AGENT_ACTIONS: _actions(5, seed=2)})
        result = writer.write({AGENT_ACTIONS: _actions(5, seed=2)})
        assert result.written[AGENT_ACTIONS] == 5
    finally:
        writer.close()


def test_one_transaction_for_all_tables_nothing_committed_on_a_transient_failure(migrated_url: str) -> None:
    hook = factory.good_event(random.Random(3), "p", "claude_hook")
    assert hook.value is not None
    hook_row = to_row(Envelope.parse_json(hook.value))
    writer: Writer[int] = Writer(lambda: psycopg.connect(migrated_url, autocommit=True, options="-c lock_timeout=300"))
    try:
        writer.write({AGENT_ACTIONS: _actions(1, seed=9)})  # connected, staging tables created
        with psycopg.connect(migrated_url) as locker:
            locker.execute("LOCK TABLE claude_hook_events IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(errors.DatabaseUnavailable, match="55P03"):
                writer.write({AGENT_ACTIONS: _actions(10), hook_row.table: [Pending(99, hook_row.values)]})
        with psycopg.connect(migrated_url) as conn:
            assert conn.execute("SELECT count(*) FROM agent_actions").fetchone() == (1,)
        result = writer.write({AGENT_ACTIONS: _actions(10), hook_row.table: [Pending(99, hook_row.values)]})
        assert result.written == {AGENT_ACTIONS: 10, hook_row.table: 1}
    finally:
        writer.close()


def test_unreachable_database_is_transient() -> None:
    writer: Writer[int] = Writer.for_url("postgresql://nobody@127.0.0.1:1/none", connect_timeout=1)
    with pytest.raises(errors.DatabaseUnavailable):
        writer.write({AGENT_ACTIONS: _actions(1)})
    with pytest.raises(errors.DatabaseUnavailable):
        writer.ping()


def test_a_started_write_counts_like_write_and_a_replay_changes_nothing(migrated_url: str) -> None:
    hook = factory.good_event(random.Random(4), "p", "claude_hook")
    assert hook.value is not None
    hook_row = to_row(Envelope.parse_json(hook.value))
    batch = {AGENT_ACTIONS: _actions(50), hook_row.table: [Pending(99, hook_row.values)]}
    writer: Writer[int] = Writer.for_url(migrated_url)
    try:
        first = writer.start(batch).result()
        again = writer.start(batch).result()
    finally:
        writer.close()
    assert first.written == {AGENT_ACTIONS: 50, hook_row.table: 1} and not first.rejected
    assert not +again.written and again.unchanged == {AGENT_ACTIONS: 50, hook_row.table: 1}


def test_rows_refused_in_a_started_write_are_isolated_and_the_rest_is_written(migrated_url: str) -> None:
    rows = _actions(200)
    rows[3].row["duration_ms"] = -1  # refused by the table's CHECK, once the rows are applied
    rows[150].row["action_details"] = '{"a": "\\u0000"}'  # refused while staging
    writer: Writer[int] = Writer.for_url(migrated_url)
    try:
        result = writer.start({AGENT_ACTIONS: rows}).result()
        refused_late = writer.start({AGENT_ACTIONS: [rows[3], *_actions(5, seed=5)]}).result()
    finally:
        writer.close()
    assert sorted(r.ref for r in result.rejected) == [3, 150]
    assert result.written[AGENT_ACTIONS] == 198
    assert [r.ref for r in refused_late.rejected] == [3] and refused_late.written[AGENT_ACTIONS] == 5
    with psycopg.connect(migrated_url) as conn:
        assert conn.execute("SELECT count(*) FROM agent_actions").fetchone() == (203,)


def test_a_started_write_that_fails_for_the_moment_commits_nothing(migrated_url: str) -> None:
    writer: Writer[int] = Writer(lambda: psycopg.connect(migrated_url, autocommit=True, options="-c lock_timeout=300"))
    try:
        writer.write({AGENT_ACTIONS: _actions(1, seed=9)})  # connected, staging tables created
        with psycopg.connect(migrated_url) as locker:
            locker.execute("LOCK TABLE agent_actions IN ACCESS EXCLUSIVE MODE")
            started = writer.start({AGENT_ACTIONS: _actions(10)})
            with pytest.raises(errors.DatabaseUnavailable, match="55P03"):
                started.result()
        with psycopg.connect(migrated_url) as conn:
            assert conn.execute("SELECT count(*) FROM agent_actions").fetchone() == (1,)
        assert writer.start({AGENT_ACTIONS: _actions(10)}).result().written[AGENT_ACTIONS] == 10
    finally:
        writer.close()
