"""The load drills, short: a steady stream through the whole pipeline, and a consumer group scaled out.

Full-length runs with the figures are `bench/drills.py`; here the behaviour is checked: nothing lost,
nothing doubled, memory flat, every restart re-balanced.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.consumer.conftest import migrate
from tests.integration.drills import scale_out, sustained_load

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.drill]

LOAD_SECONDS = float(os.environ.get("OMNICLAUDE_TEST_LOAD_SECONDS", "60"))


def test_a_steady_stream_reaches_postgres_whole_once_and_promptly_with_flat_memory(
    kafka: Any, postgres: Any, tmp_path: Path
) -> None:
    url = migrate(postgres.create_database())
    report = sustained_load(kafka.bootstrap, url, tmp_path, rate=200, seconds=LOAD_SECONDS)
    assert report.missing == 0
    assert report.rows == report.distinct == report.written
    assert report.latency_p99_s < 10, report  # the 3 s goal is measured by bench/drills.py, not timed here
    for samples in (report.forwarder_rss_mb, report.consumer_rss_mb):
        assert len(samples) == 4 and samples[-1] <= samples[0] * 1.5 + 20, report


def test_three_consumers_on_twelve_partitions_restarted_in_turn_lose_and_double_nothing(
    kafka: Any, postgres: Any, tmp_path: Path
) -> None:
    url = migrate(postgres.create_database())
    report = scale_out(kafka.bootstrap, url, tmp_path, events=60_000)
    assert report.stored == report.expected
    assert report.rows == sum(len(ids) for ids in report.expected.values())
    assert len(report.rebalance_seconds) == 3
