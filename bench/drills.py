"""Load drills at full length: 200 events/s for 10 minutes through the whole pipeline, and a 200,000-event
drain by three consumers on twelve partitions, each restarted in turn.

Usage: python bench/drills.py [--rate R] [--seconds S] [--events N] [--skip-load] [--skip-scale-out]

The drills themselves are `tests/integration/drills.py` (the tests run them short). Needs Kafka and
PostgreSQL: OMNICLAUDE_TEST_KAFKA / OMNICLAUDE_TEST_DATABASE_URL, else the harness starts both. A drill has
no bare library to compare with: its summary lines give the goal as the baseline (ratio <= 1 meets it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from summary import summary_line  # bench/ is on sys.path when a benchmark runs

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "consumer"), str(ROOT)]

from consume import services  # noqa: E402

from tests.consumer.conftest import migrate  # noqa: E402
from tests.integration.drills import scale_out, sustained_load  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-scale-out", action="store_true")
    args = parser.parse_args()
    with services() as (bootstrap, databases), tempfile.TemporaryDirectory(prefix="omniclaude-drill-") as tmp:
        if not args.skip_load:
            url = migrate(databases.create_database())
            load = sustained_load(bootstrap, url, Path(tmp) / "load", rate=args.rate, seconds=args.seconds)
            print(
                f"sustained load: {load.written:,} events at {load.achieved_rate:.1f}/s for {args.seconds:g} s; "
                f"rows {load.rows:,}, missing {load.missing}, duplicated {load.rows - load.distinct}"
            )
            print(
                f"  hook-to-row latency p50 {load.latency_p50_s:.3f} s, p99 {load.latency_p99_s:.3f} s, "
                f"max {load.latency_max_s:.3f} s (goal: p99 <= 3 s)"
            )
            print(
                f"  RSS at 25/50/75/100 %: forwarder {load.forwarder_rss_mb} MiB, consumer {load.consumer_rss_mb} MiB"
            )
            print(summary_line("sustained_load_p99", load.latency_p99_s, "s", 3.0, "<=3s"))
        if not args.skip_scale_out:
            url = migrate(databases.create_database())
            scale = scale_out(bootstrap, url, Path(tmp) / "scale", events=args.events)
            expected = sum(len(ids) for ids in scale.expected.values())
            missing = sum(len(scale.expected[t] - scale.stored.get(t, set())) for t in scale.expected)
            print(
                f"scale-out: {scale.events:,} events by 3 consumers on 12 partitions, each restarted in turn; "
                f"drained in {scale.drain_seconds:.1f} s; rows {scale.rows:,} of {expected:,}, missing {missing}"
            )
            print(f"  re-balance after each restart: {', '.join(f'{s:.1f} s' for s in scale.rebalance_seconds)}")
            print(summary_line("scale_out_rebalance", statistics.median(scale.rebalance_seconds), "s", 5.0, "<=5s"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
