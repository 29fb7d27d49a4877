"""Fixtures for the skill tests: an isolated omniclaude home, a project folder, the process environment."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from omniclaude.logger import reset_logger

from ._support import CONTEXT_VARIABLES, SESSION_ID, VENV_PYTHON, subprocess_env


@dataclass
class Where:
    home: Path
    """OMNICLAUDE_HOME: the spool is home/state/spool."""
    user_home: Path
    project: Path
    """A git checkout (it holds .git); the skills run in its src/ folder."""
    cwd: Path


@pytest.fixture
def where(tmp_path: Path) -> Where:
    project = tmp_path / "projects" / "shop"
    (project / ".git").mkdir(parents=True)
    (project / "src").mkdir()
    user_home = tmp_path / "user"
    user_home.mkdir()
    return Where(home=tmp_path / "omniclaude", user_home=user_home, project=project, cwd=project / "src")


@pytest.fixture
def skill_env(where: Where, monkeypatch: pytest.MonkeyPatch) -> Iterator[Where]:
    """This process set up as a skill sees it inside Claude Code's Bash tool, without a real install."""
    import os

    for key in list(os.environ):
        if key.startswith(("OMNICLAUDE_", "XDG_")) or key in CONTEXT_VARIABLES:
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(where.user_home))
    monkeypatch.setenv("OMNICLAUDE_HOME", str(where.home))
    monkeypatch.setenv("CLAUDE_CODE_SESSION_ID", SESSION_ID)
    monkeypatch.chdir(where.cwd)
    reset_logger()
    yield where
    reset_logger()


@pytest.fixture
def env(where: Where) -> dict[str, str]:
    """The environment for running a script in a subprocess (see `skill_env`)."""
    return subprocess_env(where.home, where.user_home)


def _lacks_pydantic(command: list[str]) -> bool:
    probe = subprocess.run([*command, "-c", "import pydantic"], capture_output=True, check=False, timeout=60)
    return probe.returncode != 0


@pytest.fixture(scope="session")
def bare_python() -> list[str]:
    """An interpreter command without pydantic: the .venv's own python without its site-packages."""
    command = [VENV_PYTHON, "-I", "-S"]
    assert _lacks_pydantic(command)
    return command


@pytest.fixture(scope="session")
def system_python() -> list[str]:
    """A plain python3 on this machine that lacks pydantic, run isolated (`-I`); skipped if none."""
    import shutil

    for candidate in ("/usr/bin/python3", shutil.which("python3"), "/usr/local/bin/python3"):
        if candidate and Path(candidate).exists():
            command = [candidate, "-I"]
            version = subprocess.run(
                [*command, "-c", "import sys; print(sys.version_info >= (3, 10))"],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            if version.stdout.strip() == "True" and _lacks_pydantic(command):
                return command
    pytest.skip("no python3 >= 3.10 without pydantic on this machine")
