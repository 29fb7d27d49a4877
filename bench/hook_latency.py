"""Hook latency: the exact hooks.json command on fixture payloads, against the bare interpreter start.

Usage: python bench/hook_latency.py [--runs N]

For each Kafka configuration (not configured; configured to a closed port; configured to a listener that
accepts connections and never answers) it runs the hooks.json command line under `sh -c`, as Claude Code
does, on every fixture payload (N runs each, interleaved with runs of `python -I -S -c pass`, so that both
see the same machine state), and prints median and p99 wall times and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from summary import summary_line  # bench/ is on sys.path when a benchmark runs

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "claude-code-2.1.328-session.jsonl"
EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop")


def black_hole() -> tuple[socket.socket, int]:
    """A listener that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1]


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def payloads() -> dict[str, bytes]:
    chosen: dict[str, bytes] = {}
    for line in FIXTURE.read_text().splitlines():
        stdin = json.loads(line)["stdin"]
        chosen.setdefault(stdin["hook_event_name"], json.dumps(stdin).encode())
    return {name: chosen[name] for name in EVENTS}


def timed(command: list[str], stdin: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, input=stdin, env=env, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def stop_forwarders(home: Path) -> None:
    for state in home.rglob("forwarder.state"):
        try:
            os.kill(int(json.loads(state.read_text())["pid"]), signal.SIGTERM)
        except (OSError, ValueError, KeyError):
            pass


def run(label: str, kafka: str | None, runs: int, python: str) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="omniclaude-bench-"))
    hooks = json.loads((ROOT / "hooks" / "hooks.json").read_text())["hooks"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "OMNICLAUDE_HOME": str(home / "oc"),
        "CLAUDE_PLUGIN_ROOT": str(ROOT),
        "OMNICLAUDE_PYTHON": python,
        "CLAUDE_PROJECT_DIR": str(ROOT),
    }
    if kafka:
        env["OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS"] = kafka
    hook_times: list[float] = []
    floor_times: list[float] = []
    try:
        for _ in range(runs):
            for name, stdin in payloads().items():
                command = ["sh", "-c", hooks[name][0]["hooks"][0]["command"]]
                hook_times.append(timed(command, stdin, env))
                floor_times.append(timed([python, "-I", "-S", "-c", "pass"], b"", env))
    finally:
        stop_forwarders(home)
        shutil.rmtree(home, ignore_errors=True)
    result = {
        "hook_median_ms": statistics.median(hook_times),
        "hook_p99_ms": p99(hook_times),
        "floor_median_ms": statistics.median(floor_times),
    }
    result["ratio"] = result["hook_median_ms"] / result["floor_median_ms"]
    print(
        f"{label:<28} hook median {result['hook_median_ms']:6.2f} ms  p99 {result['hook_p99_ms']:6.2f} ms  "
        f"floor median {result['floor_median_ms']:6.2f} ms  ratio {result['ratio']:.2f}x  ({len(hook_times)} runs)"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="runs per payload and configuration (default 50)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the hook uses")
    args = parser.parse_args()
    server, port = black_hole()
    try:
        configurations = {
            "kafka not configured": None,
            "kafka configured, down": f"127.0.0.1:{closed_port()}",
            "kafka never answers": f"127.0.0.1:{port}",
        }
        results = {label: run(label, kafka, args.runs, args.python) for label, kafka in configurations.items()}
    finally:
        server.close()
    base = results["kafka not configured"]["hook_median_ms"]
    spread = max(abs(r["hook_median_ms"] - base) / base for r in results.values())
    print(f"largest difference between configurations: {spread:.1%} of the unconfigured median")
    unconfigured = results["kafka not configured"]
    print(summary_line("hook_latency", unconfigured["hook_median_ms"], "ms", unconfigured["floor_median_ms"], "<=2.0"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
