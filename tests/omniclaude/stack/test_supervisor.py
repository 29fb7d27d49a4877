"""The supervisor's rules, with stand-in parts: start order, restarts with backoff, the optional dashboard."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from omniclaude.stack import supervisor as supervisor_module
from omniclaude.stack.layout import Layout, read_json
from omniclaude.stack.process import StackError
from omniclaude.stack.supervisor import Supervisor


class FakePart:
    def __init__(self, name: str, events: list[str], *, failures: int = 0) -> None:
        self.name = name
        self.events = events
        self.failures_left = failures
        self.running = False
        self.pid: int | None = None
        self.log_path = Path("/nonexistent.log")

    def exit_code(self) -> int | None:
        return None if self.running else -9

    def start(self) -> None:
        self.events.append(f"start {self.name}")
        if self.failures_left:
            self.failures_left -= 1
            raise StackError(f"{self.name} would not start")
        self.running, self.pid = True, 1000 + len(self.events)

    def stop(self) -> bool:
        self.events.append(f"stop {self.name}")
        self.running = False
        return True

    def kill(self) -> None:
        self.running = False


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor_module, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(supervisor_module, "BACKOFF_MAX_SECONDS", 0.05)


def run_until(supervisor: Supervisor, condition: Callable[[], object], timeout: float = 10) -> None:
    """Run the supervisor in a thread until ``condition()`` holds (asserted), then stop it."""
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not (met := condition()) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        supervisor._stop = True
        thread.join(timeout=10)
    assert met


def test_parts_start_in_order_each_retried_until_it_runs_and_stop_in_reverse(tmp_path: Path) -> None:
    events: list[str] = []
    parts = {
        name: FakePart(name, events, failures=2 if name == "kafka" else 0) for name in ("postgres", "kafka", "consumer")
    }
    layout = Layout(tmp_path)
    supervisor = Supervisor(layout, parts)  # type: ignore[arg-type]
    run_until(supervisor, lambda: read_json(layout.state).get("ready"))
    assert events[:5] == ["start postgres", "start kafka", "start kafka", "start kafka", "start consumer"]
    assert events[-3:] == ["stop consumer", "stop kafka", "stop postgres"]
    assert read_json(layout.state)["stopping"] is True


def test_a_part_that_dies_is_restarted(tmp_path: Path) -> None:
    events: list[str] = []
    parts = {name: FakePart(name, events) for name in ("postgres", "kafka", "consumer")}
    layout = Layout(tmp_path)
    supervisor = Supervisor(layout, parts)  # type: ignore[arg-type]

    def died_and_back() -> bool:
        if read_json(layout.state).get("ready") and events.count("start kafka") == 1:
            parts["kafka"].running = False  # it dies
        return events.count("start kafka") == 2 and parts["kafka"].running

    run_until(supervisor, died_and_back)
    assert supervisor.state["kafka"]["restarts"] == 1


def test_a_failing_dashboard_does_not_keep_the_stack_from_being_ready(tmp_path: Path) -> None:
    events: list[str] = []
    parts = {name: FakePart(name, events) for name in ("postgres", "kafka", "consumer")}
    parts["dashboard"] = FakePart("dashboard", events, failures=1000)
    layout = Layout(tmp_path)
    supervisor = Supervisor(layout, parts)  # type: ignore[arg-type]

    def ready_without_it() -> bool:
        state = read_json(layout.state)
        dashboard = state.get("parts", {}).get("dashboard", {})
        return bool(state.get("ready")) and dashboard.get("state") == "failed" and dashboard.get("failures", 0) >= 2

    run_until(supervisor, ready_without_it)
