"""Consumer benchmark: drain rate Kafka -> PostgreSQL against a bare poll + COPY baseline, and memory.

Usage: python bench/consume.py [--events N] [--runs K] [--partitions P]

Needs a Kafka broker and a PostgreSQL server: OMNICLAUDE_TEST_KAFKA=host:port and
OMNICLAUDE_TEST_DATABASE_URL=postgresql://... (a superuser: it creates databases), else both are started
with the test harness (tests/harness/kafka.py, tests/harness/postgres.py).

N mixed events (default 200,000: the six plain event types and whole execution lifecycles, about half of
the events) are preloaded once into P partitions (default 3) of every event topic. Each run then drains
all of them, each worker in a fresh process, with a fresh consumer group, into a fresh database whose
schema the migration runner created:

- consumer: the real poll loop (`omniclaude_consumer.__main__.build_loop`, default settings): decoding,
  validation, the per-table transaction with ON CONFLICT / the execution upsert, dead-letter logic,
  offset commits;
- baseline: kafka-python's poll with the same batch size (consumer_max_poll_records), `json.loads`, the
  same rows built by plain dict lookups, one psycopg `COPY` per table per poll into tables of the same
  columns without indexes or constraints; no validation, no dead letters, no offset commits.

A run's rate is N / (seconds from the start of the worker's loop, group join included, to the last
event handled). The report gives every run, the medians, the ratio of the medians, and each worker's
peak RSS (getrusage) and RSS at 25/50/75/100 % of the drain, to show memory stays flat.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from summary import summary_line  # bench/ is on sys.path when a benchmark runs

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "consumer"), str(ROOT)]

import psycopg  # noqa: E402
from omniclaude.db import migrations  # noqa: E402
from omniclaude.topics import event_topics  # noqa: E402

TARGET_RATE = 10_000
TARGET_RATIO = 0.75


def rss_mb() -> float:
    """Current resident set size of this process in MiB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process so far, every thread (the Kafka client's IO thread included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Progress:
    """Samples RSS at 25/50/75/100 % of `total`."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.marks = [total // 4, total // 2, 3 * total // 4, total]
        self.samples: list[float] = []

    def update(self, done: int) -> None:
        while self.marks and done >= self.marks[0]:
            self.marks.pop(0)
            self.samples.append(round(rss_mb(), 1))


@contextlib.contextmanager
def profiled(path: str | None) -> Iterator[None]:
    """Runs the block under cProfile when `path` is set, and writes the top functions there (by own time)."""
    if not path:
        yield
        return
    import cProfile
    import io
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
            int(os.environ.get("BENCH_TOP", "30"))
        )
        Path(path).write_text(out.getvalue(), encoding="utf-8")


# -- workers (each runs in its own process) ------------------------------------------------------------


def worker_consumer(args: argparse.Namespace) -> dict[str, Any]:
    import kafka  # noqa: F401  (imported before the clock starts, as in the baseline)
    from omniclaude_consumer.__main__ import build_loop, tune_gc
    from omniclaude_consumer.health import ConsumerState
    from omniclaude_consumer.settings import ConsumerSettings

    settings = ConsumerSettings(
        kafka_bootstrap_servers=args.bootstrap,
        database_url=args.url,
        topic_prefix=args.prefix,
        consumer_group=args.group,
        consumer_health_port=0,
        **({"consumer_max_poll_records": int(os.environ["BENCH_MPR"])} if os.environ.get("BENCH_MPR") else {}),
    )
    state = ConsumerState()
    loop = build_loop(settings, state)
    tune_gc()  # as main() does
    progress = Progress(args.events)
    finished: list[float] = []
    first: list[float] = []

    def watch() -> None:
        while True:
            consumed = state.snapshot().consumed
            progress.update(consumed)
            if consumed and not first:
                first.append(time.perf_counter())
            if consumed >= args.events:
                finished.append(time.perf_counter())
                loop.request_stop()
                return
            time.sleep(0.01)

    threading.Thread(target=watch, daemon=True).start()
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    with profiled(os.environ.get("BENCH_PROFILE")):
        code = loop.run()
    loop.close()
    snap = state.snapshot()
    return {
        "seconds": (finished[0] if finished else time.perf_counter()) - started,
        "first_seconds": (first[0] if first else time.perf_counter()) - started,
        "events": snap.consumed,
        "exit": code,
        "written": sum(snap.written.values()),
        "dead_lettered": sum(snap.dead_lettered.values()),
        "batches": snap.batches,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_mb": progress.samples,
        "cpu_seconds": round(cpu_seconds() - cpu_started, 3),
    }


def _bare_rows() -> dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]]:
    """The same rows as the consumer writes, built by plain dict lookups (no validation)."""
    dumps = json.dumps

    def ctx(d: dict[str, Any]) -> tuple[Any, ...]:
        c = d.get("context") or {}
        return (c.get("project_path"), c.get("project_name"), c.get("claude_session_id"))

    def action(d: dict[str, Any]) -> tuple[Any, ...]:
        p = d["payload"]
        return (
            d["event_id"],
            d["occurred_at"],
            p["agent"],
            p["action_type"],
            p["action_name"],
            dumps(p.get("details", {})),
            p.get("duration_ms"),
            p.get("success"),
            p.get("correlation_id"),
            *ctx(d),
            d["context"].get("working_directory"),
        )

    def routing(d: dict[str, Any]) -> tuple[Any, ...]:
        p = d["payload"]
        return (
            d["event_id"],
            d["occurred_at"],
            p["selected_agent"],
            p["confidence"],
            p["strategy"],
            p["latency_ms"],
            p.get("user_request"),
            dumps(p.get("alternatives", [])),
            p.get("reasoning"),
            dumps(p.get("context", {})),
            p.get("correlation_id"),
            *ctx(d),
        )

    def transformation(d: dict[str, Any]) -> tuple[Any, ...]:
        p = d["payload"]
        return (
            d["event_id"],
            d["occurred_at"],
            p["from_agent"],
            p["to_agent"],
            p.get("reason"),
            p.get("confidence"),
            p.get("duration_ms"),
            p.get("success"),
            p.get("correlation_id"),
            *ctx(d),
        )

    def metric(d: dict[str, Any]) -> tuple[Any, ...]:
        p = d["payload"]
        return (
            d["event_id"],
            d["occurred_at"],
            p["query"],
            p["duration_ms"],
            p.get("cache_hit"),
            p.get("candidates"),
            p.get("strategy"),
            dumps(p.get("confidence_components", {})),
            p.get("correlation_id"),
            *ctx(d),
        )

    def failure(d: dict[str, Any]) -> tuple[Any, ...]:
        p = d["payload"]
        return (
            d["event_id"],
            d["occurred_at"],
            p["prompt"],
            p["reason"],
            p.get("status", "no_detection"),
            p.get("candidates_evaluated"),
            p.get("detected_agent"),
            p.get("confidence"),
            p.get("expected_agent"),
            p.get("detection_method"),
            dumps(p.get("trigger_matches", [])),
            dumps(p.get("capability_scores", {})),
            dumps(p.get("metadata", {})),
            p.get("correlation_id"),
            *ctx(d),
        )

    def hook(d: dict[str, Any]) -> tuple[Any, ...]:
        p, c = d["payload"], d.get("context") or {}
        return (
            d["event_id"],
            p["hook_event_name"],
            d["occurred_at"],
            c.get("claude_session_id"),
            p.get("prompt_id"),
            p.get("tool_use_id"),
            p.get("tool_name"),
            p.get("agent_id"),
            p.get("agent_type"),
            p.get("success"),
            p.get("duration_ms"),
            c.get("project_path"),
            c.get("project_name"),
            c.get("working_directory"),
            c.get("terminal_id"),
            c.get("host"),
            dumps(p.get("input", {})),
            *_changes(p.get("input", {})),
        )

    def usage(d: dict[str, Any]) -> tuple[Any, ...]:
        p, c = d["payload"], d.get("context") or {}
        return (
            d["event_id"],
            c.get("claude_session_id"),
            p.get("agent_id"),
            p.get("agent_type"),
            p["model"],
            p["message_id"],
            p.get("request_id"),
            d["occurred_at"],
            c.get("project_name"),
            p.get("input_tokens", 0),
            p.get("output_tokens", 0),
            p.get("cache_creation_input_tokens", 0),
            p.get("cache_read_input_tokens", 0),
            p.get("cache_creation_5m_tokens", 0),
            p.get("cache_creation_1h_tokens", 0),
            p.get("cost_usd"),
        )

    def execution(d: dict[str, Any]) -> tuple[Any, ...]:
        p, kind, when = d["payload"], d["event_type"], d["occurred_at"]
        started, progress, completed = (
            (kind == "execution_started"),
            (kind == "execution_progress"),
            (kind == "execution_completed"),
        )
        return (
            p["execution_id"],
            d["event_id"],
            p.get("agent"),
            p.get("description"),
            p.get("user_prompt"),
            p.get("correlation_id"),
            p.get("status", "success") if completed else "in_progress",
            when if started else None,
            when if completed else None,
            p.get("quality_score"),
            p.get("error_message"),
            p.get("error_type"),
            p.get("stage"),
            p.get("percent"),
            when if progress else None,
            dumps({kind: p.get("metadata", {})}),
            *ctx(d),
            d["context"].get("terminal_id"),
        )

    return {
        "agent_actions": action,
        "agent_routing_decisions": routing,
        "agent_transformation_events": transformation,
        "router_performance_metrics": metric,
        "agent_detection_failures": failure,
        "claude_hook_events": hook,
        "agent_execution_logs": execution,
        "llm_usage": usage,
    }


def _changes(hook_input: dict[str, Any]) -> tuple[Any, ...]:
    """The code-change columns of a hook row, by the same function the consumer uses."""
    from omniclaude.usage.code_changes import code_changes

    found = code_changes(hook_input)
    if found is None:
        return (None, None, None, None, None)
    return (found.lines_added, found.lines_removed, found.commit_sha, found.commit_branch, found.pr_url)


def worker_baseline(args: argparse.Namespace) -> dict[str, Any]:
    from kafka import KafkaConsumer
    from omniclaude_consumer.rows import COLUMNS, TABLE_OF
    from omniclaude_consumer.settings import ConsumerSettings

    batch = int(os.environ.get("BENCH_MPR") or ConsumerSettings.consumer_max_poll_records)

    build = _bare_rows()
    copies = {table: f"COPY bare_{table} ({', '.join(columns)}) FROM STDIN" for table, columns in COLUMNS.items()}
    conn = psycopg.connect(args.url, autocommit=True)
    for table, columns in COLUMNS.items():
        conn.execute(f"CREATE TABLE bare_{table} AS SELECT {', '.join(columns)} FROM {table} WITH NO DATA")
    progress = Progress(args.events)
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    consumer = KafkaConsumer(
        *event_topics(args.prefix),
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch,
    )
    done = 0
    first_seconds = None
    with profiled(os.environ.get("BENCH_PROFILE")):
        while done < args.events:
            polled = consumer.poll(timeout_ms=1000, max_records=batch)
            grouped: dict[str, list[tuple[Any, ...]]] = {}
            for records in polled.values():
                for record in records:
                    data = json.loads(record.value)
                    table = TABLE_OF[data["event_type"]]
                    grouped.setdefault(table, []).append(build[table](data))
                    done += 1
            if grouped:
                with conn.transaction(), conn.cursor() as cur:
                    for table, rows in grouped.items():
                        with cur.copy(copies[table]) as copy:
                            for row in rows:
                                copy.write_row(row)
                if first_seconds is None:
                    first_seconds = time.perf_counter() - started
            progress.update(done)
    seconds = time.perf_counter() - started
    consumer.close(autocommit=False)
    conn.close()
    return {
        "seconds": seconds,
        "first_seconds": first_seconds,
        "events": done,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_mb": progress.samples,
        "cpu_seconds": round(cpu_seconds() - cpu_started, 3),
    }


# -- the driver ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def services() -> Iterator[tuple[str, Any]]:
    """(bootstrap, database factory): external ones from the environment, else harness-owned."""
    from tests.harness.postgres import ExternalPostgres, PostgresCluster

    with contextlib.ExitStack() as stack:
        bootstrap = os.environ.get("OMNICLAUDE_TEST_KAFKA")
        if not bootstrap:
            from tests.harness.kafka import KafkaBroker

            broker = stack.enter_context(KafkaBroker())
            bootstrap = broker.bootstrap
        url = os.environ.get("OMNICLAUDE_TEST_DATABASE_URL")
        databases: Any = ExternalPostgres(url) if url else stack.enter_context(PostgresCluster())
        yield bootstrap, databases


def preload(bootstrap: str, prefix: str, events: int, partitions: int) -> float:
    from tests.consumer import factory

    factory.create_topics(bootstrap, prefix, partitions=partitions)
    producer = factory.Producer(bootstrap)
    started = time.perf_counter()
    try:
        chunk: list[Any] = []
        for record in factory.good_stream(events, prefix, seed=2026):
            chunk.append(record)
            if len(chunk) == 20_000:
                producer.send(chunk)
                chunk = []
        producer.send(chunk)
    finally:
        producer.close()
    return time.perf_counter() - started


def run_worker(
    kind: str, bootstrap: str, url: str, prefix: str, events: int, *, profile: bool = False
) -> dict[str, Any]:
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--bootstrap",
        bootstrap,
        "--url",
        url,
        "--prefix",
        prefix,
        "--group",
        f"bench-{kind}-{uuid.uuid4().hex[:8]}",
        "--events",
        str(events),
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    profile_path = Path(tempfile.mkstemp(prefix="omniclaude-bench-profile-")[1]) if profile else None
    if profile_path is not None:
        env["BENCH_PROFILE"] = str(profile_path)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False, env=env, cwd=ROOT)
    if profile_path is not None:
        print(f"-- {kind} profile (cProfile, own time)\n{profile_path.read_text()}", flush=True)
        profile_path.unlink()
    if result.returncode != 0:
        raise SystemExit(f"{kind} worker failed ({result.returncode}):\n{result.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile the consumer worker (cProfile) and print it")
    parser.add_argument("--worker", choices=["consumer", "baseline"], help=argparse.SUPPRESS)
    for hidden in ("--bootstrap", "--url", "--prefix", "--group"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        report = (worker_consumer if args.worker == "consumer" else worker_baseline)(args)
        print(json.dumps(report))
        return 0

    with services() as (bootstrap, databases):
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        seconds = preload(bootstrap, prefix, args.events, args.partitions)
        print(
            f"preloaded {args.events:,} events into {prefix}.* ({args.partitions} partitions each) in {seconds:.1f}s",
            flush=True,
        )
        results: dict[str, list[dict[str, Any]]] = {"baseline": [], "consumer": []}
        for run in range(1, args.runs + 1):
            for kind in ("baseline", "consumer"):
                url = databases.create_database()
                with psycopg.connect(url) as conn:
                    migrations.upgrade(conn)
                report = run_worker(kind, bootstrap, url, prefix, args.events, profile=args.profile)
                if report["events"] < args.events:
                    raise SystemExit(f"{kind} run {run} handled only {report['events']} events: {report}")
                report["rate"] = report["events"] / report["seconds"]
                results[kind].append(report)
                print(
                    f"run {run} {kind:8}: {report['rate']:8,.0f} events/s ({report['seconds']:.2f}s, "
                    f"{report['cpu_seconds']:.2f}s CPU, first batch written after {report['first_seconds']:.2f}s), "
                    f"peak RSS {report['peak_rss_mb']:.0f} MiB, RSS at 25/50/75/100 %: {report['rss_mb']}",
                    flush=True,
                )
        consumer_rate = statistics.median(r["rate"] for r in results["consumer"])
        baseline_rate = statistics.median(r["rate"] for r in results["baseline"])
        ratio = consumer_rate / baseline_rate
        peak = statistics.median(r["peak_rss_mb"] for r in results["consumer"])
        print(
            f"median consumer {consumer_rate:,.0f} events/s (target >= {TARGET_RATE:,}), "
            f"baseline {baseline_rate:,.0f} events/s, ratio {ratio:.2f} (target >= {TARGET_RATIO}), "
            f"consumer peak RSS {peak:.0f} MiB"
        )
        ok = consumer_rate >= TARGET_RATE and ratio >= TARGET_RATIO
        print("targets met" if ok else "TARGETS MISSED")
        print(summary_line("consumer", consumer_rate, "events/s", baseline_rate, f">={TARGET_RATIO}"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
