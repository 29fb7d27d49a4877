"""Skill latency: each skill's execute.py as a fresh process, as an agent pays it, against the bare start.

Usage: python bench/skill_latency.py [--runs N] [--python PATH] [--target-ms MS] [--top K] [--check]

For each skill it runs `<python> skills/<name>/execute.py <args>` N times (default 25), interleaved with
runs of `<python> -c pass` so both see the same machine state, and prints the median and p90 wall times
against the target (default 200 ms). It then runs one skill through the interpreter shim (`hooks/run`,
as SKILL.md has the agent run it, with OMNICLAUDE_PYTHON=<python>) to show the cost of the shim, and
`<python> -X importtime` of one skill: the slowest top-level imports and the self time per package.
Every run records into a throw-away OMNICLAUDE_HOME. With --check, exits 1 when a median misses the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from summary import summary_line  # bench/ is on sys.path when a benchmark runs

ROOT = Path(__file__).resolve().parents[1]
EXECUTION_ID = "01a21bf0-8e77-7209-82ac-6334164dbb2d"
CASES: dict[str, list[str]] = {
    "log-execution start": ["start", "--agent", "code-reviewer", "--description", "review PR 42"],
    "log-execution progress": ["progress", "--execution-id", EXECUTION_ID, "--stage", "analysis", "--percent", "50"],
    "log-agent-action": [
        "--agent",
        "code-reviewer",
        "--action-type",
        "tool_call",
        "--action-name",
        "Read",
        "--details",
        '{"file": "a.py"}',
        "--duration-ms",
        "12",
        "--success",
    ],
    "log-routing-decision": [
        "--agent",
        "api-architect",
        "--confidence",
        "0.92",
        "--strategy",
        "trigger_match",
        "--latency-ms",
        "45",
        "--alternatives",
        '[{"agent": "backend", "confidence": 0.7}]',
    ],
    "log-transformation": ["--from-agent", "polymorphic", "--to-agent", "api-architect", "--confidence", "0.85"],
    "log-performance-metrics": [
        "--query",
        "optimize queries",
        "--duration-ms",
        "12.5",
        "--no-cache-hit",
        "--candidates",
        "5",
    ],
    "log-detection-failure": [
        "--prompt",
        "fix CI",
        "--reason",
        "below threshold",
        "--status",
        "low_confidence",
        "--confidence",
        "0.41",
    ],
}


def script(case: str) -> str:
    return str(ROOT / "skills" / case.split(maxsplit=1)[0] / "execute.py")


def timed(command: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


def environment(home: Path, python: str) -> dict[str, str]:
    """What the Bash tool gives a skill: a session id, no CLAUDE_PROJECT_DIR; Kafka not configured."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "OMNICLAUDE_HOME": str(home / "oc"),
        "CLAUDE_CODE_SESSION_ID": "bench-session",
        "OMNICLAUDE_PYTHON": python,
    }


def importtime(command: list[str], env: dict[str, str], cwd: str) -> list[tuple[int, int, int, str]]:
    """Runs `command` with -X importtime; returns (depth, self us, cumulative us, module) per import."""
    run = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    rows = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((depth, int(self_us), int(cumulative_us), name.strip()))
    return rows


def report_imports(rows: list[tuple[int, int, int, str]], top: int) -> None:
    total = sum(self_us for _depth, self_us, _cumulative, _name in rows)
    print(f"\nimports (python -X importtime, one run): {total / 1000:.1f} ms in all")
    print("  slowest top-level imports (cumulative):")
    for _depth, _self, cumulative, name in sorted((r for r in rows if r[0] == 0), key=lambda r: -r[2])[:top]:
        print(f"    {cumulative / 1000:7.1f} ms  {name}")
    per_package: dict[str, int] = defaultdict(int)
    for _depth, self_us, _cumulative, name in rows:
        per_package[name.split(".")[0]] += self_us
    print("  self time per package:")
    for package, self_us in sorted(per_package.items(), key=lambda item: -item[1])[:top]:
        print(f"    {self_us / 1000:7.1f} ms  {100 * self_us / total:4.1f}%  {package}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Wall time of each skill's execute.py as a fresh process.")
    parser.add_argument("--runs", type=int, default=25, help="runs per skill (default 25, at least 20 advised)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter with pydantic (default: this one)")
    parser.add_argument("--target-ms", type=float, default=200.0, help="the median to stay under (default 200)")
    parser.add_argument("--top", type=int, default=8, help="import rows to show (default 8)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a median misses the target")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="omniclaude-bench-") as tmp:
        home = Path(tmp)
        project = home / "project"
        (project / ".git").mkdir(parents=True)
        cwd = str(project)
        env = environment(home, args.python)
        print(f"{'skill':<26} {'median':>9} {'p90':>9}   (python -c pass: median; {args.runs} runs each)")
        floors: list[float] = []
        missed = []
        medians: list[float] = []
        for case, argv in CASES.items():
            times = []
            for _ in range(args.runs):
                times.append(timed([args.python, script(case), *argv], env, cwd))
                floors.append(timed([args.python, "-c", "pass"], env, cwd))
            median = statistics.median(times)
            medians.append(median)
            if median > args.target_ms:
                missed.append(case)
            flag = "" if median <= args.target_ms else f"  over the {args.target_ms:.0f} ms target"
            print(f"{case:<26} {median:7.1f} ms {p90(times):7.1f} ms{flag}")
        print(f"{'python -c pass':<26} {statistics.median(floors):7.1f} ms {p90(floors):7.1f} ms")
        slowest = max(medians)

        case = "log-agent-action"
        shim = str(ROOT / "hooks" / "run")
        shimmed = [timed([shim, script(case), *CASES[case]], env, cwd) for _ in range(args.runs)]
        print(
            f"{case + ' via hooks/run':<26} {statistics.median(shimmed):7.1f} ms {p90(shimmed):7.1f} ms"
            "   (the interpreter shim, as SKILL.md runs it)"
        )

        report_imports(importtime([args.python, script(case), *CASES[case]], env, cwd), args.top)

    if missed:
        print(f"\nmedian over {args.target_ms:.0f} ms: {', '.join(missed)}")
    print(summary_line("skill_latency", slowest, "ms", statistics.median(floors), f"<={args.target_ms:.0f}ms"))
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
