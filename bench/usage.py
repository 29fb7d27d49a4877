"""Transcript usage benchmark: extraction MB/s against a bare `json.loads` of the same lines.

Usage: python bench/usage.py [--megabytes N] [--runs K]

A transcript of about N MB (default 200) is built from the recorded Claude Code 2.1.328 session
(tests/fixtures/claude-code-2.1.328-transcripts): the main transcript and its subagent's, repeated, each
copy with its own message ids. Measured on one core, in this process:

- usage: `UsageCollector.collect` reading the whole file from a fresh cursor (a Stop event names it),
  building one priced, encoded `llm_usage` envelope per response (handed to a no-op spool);
- baseline: reading the same file and `json.loads` of every line (what a reader that parses each line
  would pay at the least).

The ratio is usage MB/s / baseline MB/s. Each is run K times (default 3); the report gives every run
and the median. Target: at least 50 MB/s for usage.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lib"), str(ROOT)]

from omniclaude.usage.collect import UsageCollector  # noqa: E402
from omniclaude.usage.transcript import scan  # noqa: E402
from summary import summary_line  # noqa: E402  # bench/ is on sys.path when a benchmark runs

FIXTURE = ROOT / "tests" / "fixtures" / "claude-code-2.1.328-transcripts" / "projects" / "-home-dev-projects-ledger"
SESSION = "3579e493-7201-4256-964c-09bae301f2d9"


def build(path: Path, megabytes: int) -> tuple[int, int]:
    """Writes the transcript; returns (bytes, responses)."""
    main = (FIXTURE / f"{SESSION}.jsonl").read_bytes()
    sub = next((FIXTURE / SESSION / "subagents").glob("*.jsonl")).read_bytes()
    block = main + sub
    copies = max(1, megabytes * 1_000_000 // len(block))
    with path.open("wb") as handle:
        for copy in range(copies):
            handle.write(block.replace(b'"id":"msg_', f'"id":"msg_{copy}_'.encode()))
    responses = len(scan(main).records) + len(scan(sub).records)
    return path.stat().st_size, copies * responses


def usage_pass(path: Path, scratch: Path, run: int) -> tuple[float, int]:
    collector = UsageCollector(str(scratch / f"state-{run}"), None)
    stop = {
        "event_type": "claude_hook",
        "context": {"project_name": "ledger"},
        "payload": {"hook_event_name": "Stop", "input": {"transcript_path": str(path)}},
    }
    started = time.perf_counter()
    emitted = collector.collect([stop], lambda _line: None)
    return time.perf_counter() - started, emitted


def baseline_pass(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            json.loads(line)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="omniclaude-bench-usage-"))
    try:
        transcript = scratch / f"{SESSION}.jsonl"
        size, responses = build(transcript, args.megabytes)
        mb = size / 1_000_000
        print(f"transcript: {mb:.1f} MB, {responses} API responses")
        usage_rates, base_rates = [], []
        for run in range(args.runs):
            seconds, emitted = usage_pass(transcript, scratch, run)
            assert emitted == responses, (emitted, responses)
            usage_rates.append(mb / seconds)
            base_rates.append(mb / baseline_pass(transcript))
            print(f"run {run + 1}: usage {usage_rates[-1]:.1f} MB/s, json.loads baseline {base_rates[-1]:.1f} MB/s")
        usage, base = statistics.median(usage_rates), statistics.median(base_rates)
        print(
            f"median: usage {usage:.1f} MB/s, baseline {base:.1f} MB/s, ratio {usage / base:.2f}x"
            f" (target >= 50 MB/s: {'met' if usage >= 50 else 'NOT met'})"
        )
        print(summary_line("usage", usage, "MB/s", base, ">=50MB/s"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
