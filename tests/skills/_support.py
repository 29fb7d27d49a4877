"""Helpers for the skill tests: where the scripts are, how to load and run them, what the spool holds."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from omniclaude.context import TERMINAL_VARIABLES
from omniclaude.events import Envelope

REPO = Path(__file__).resolve().parents[2]
SKILLS_DIR = REPO / "skills"
SKILL_NAMES = (
    "log-execution",
    "log-agent-action",
    "log-routing-decision",
    "log-transformation",
    "log-performance-metrics",
    "log-detection-failure",
)
VENV_PYTHON = sys.executable
"""The tests run under the project's .venv interpreter, which has pydantic."""
SESSION_ID = "sess-123"
UNKNOWN_EXECUTION_ID = "01a21bf0-8e77-7209-82ac-6334164dbb2d"

# Environment variables that change what a skill records; tests set them or clear them.
CONTEXT_VARIABLES = ("CLAUDE_PROJECT_DIR", "CLAUDE_CODE_SESSION_ID", "CLAUDE_PID", *TERMINAL_VARIABLES)


def script(name: str) -> Path:
    return SKILLS_DIR / name / "execute.py"


@cache
def load(name: str) -> ModuleType:
    """Imports skills/<name>/execute.py under a module name of its own."""
    module_name = "skill_" + name.replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, script(name))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spool_lines(home: Path) -> list[bytes]:
    """Every line in the spool under OMNICLAUDE_HOME=home, oldest first."""
    spool = home / "state" / "spool"
    lines: list[bytes] = []
    for path in sorted(spool.glob("*.jsonl")) if spool.is_dir() else []:
        lines.extend(path.read_bytes().splitlines())
    return lines


def spool_events(home: Path) -> list[Envelope]:
    """The spool's events, each validated with Envelope.parse_json."""
    return [Envelope.parse_json(line) for line in spool_lines(home)]


def subprocess_env(home: Path, user_home: Path, **extra: str) -> dict[str, str]:
    """A hermetic environment for running a script: no real install, no real terminal or session."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OMNICLAUDE_", "XDG_", "PYTHON")) and key not in CONTEXT_VARIABLES
    }
    env.update(HOME=str(user_home), OMNICLAUDE_HOME=str(home), CLAUDE_CODE_SESSION_ID=SESSION_ID)
    env.update(extra)
    return env


def run(
    python: list[str], name: str, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Runs skills/<name>/execute.py as an agent does: a fresh process."""
    return subprocess.run(
        [*python, str(script(name)), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
