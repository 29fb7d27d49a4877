"""pytest fixtures for running the real Claude Code client offline.

Register in ``tests/conftest.py`` with
``pytest_plugins = ["tests.harness.claude_fixtures"]``.

Fixtures:

* ``claude_bin`` (session): the ``claude`` executable, installed on first use
  by :func:`~tests.harness.claude_code.ensure_claude_code`; the version comes
  from ``OMNICLAUDE_TEST_CLAUDE_CODE_VERSION`` (default 2.1.328). Fails the
  test with one line when npm is missing or the install fails.
* ``messages_api`` (function): a started, empty
  :class:`~tests.harness.messages_api.MessagesAPI`; add scripts with
  ``messages_api.add(marker, *turns)``. Stopped after the test.
* ``claude_home`` (function): an empty isolated home directory,
  ``tmp_path/"home"``.
* ``claude_project`` (function): a git repository with one commit,
  ``tmp_path/"project"``, the default working directory of a session.
* ``claude_session`` (function): a callable running one ``claude -p`` session
  with the three fixtures above; see :class:`ClaudeSession`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from .claude_code import (
    DEFAULT_VERSION,
    ClaudeCodeUnavailable,
    ClaudeResult,
    claude_env,
    ensure_claude_code,
    init_git_repo,
    prepare_home,
    run_claude,
)
from .messages_api import MessagesAPI

__all__ = ["ClaudeSession", "claude_bin", "claude_home", "claude_project", "claude_session", "messages_api"]

VERSION_VARIABLE = "OMNICLAUDE_TEST_CLAUDE_CODE_VERSION"


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The ``claude`` executable of the pinned version (installed into the user cache once)."""
    try:
        return ensure_claude_code(os.environ.get(VERSION_VARIABLE) or DEFAULT_VERSION)
    except ClaudeCodeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def messages_api() -> Iterator[MessagesAPI]:
    """A started Messages API stand-in with no scripts; stopped after the test."""
    with MessagesAPI() as api:
        yield api


@pytest.fixture
def claude_home(tmp_path: Path) -> Path:
    """An empty, isolated home directory for the client (``tmp_path/"home"``)."""
    return prepare_home(tmp_path / "home")


@pytest.fixture
def claude_project(tmp_path: Path) -> Path:
    """A git repository on ``main`` with one commit (``tmp_path/"project"``)."""
    return init_git_repo(tmp_path / "project")


@dataclass(frozen=True)
class ClaudeSession:
    """Runs ``claude -p`` sessions against this test's stand-in and home.

    ``session(prompt, plugin_dir=..., cwd=..., env=..., extra_args=...)``
    returns the :class:`~tests.harness.claude_code.ClaudeResult`. ``cwd``
    defaults to ``claude_project``; ``env`` entries are added to
    :func:`~tests.harness.claude_code.claude_env` and win. The stand-in must
    already hold the scripts the session needs.
    """

    claude: Path
    api: MessagesAPI
    home: Path
    project: Path

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The isolated environment a session of this fixture runs with."""
        return claude_env(self.home, self.api.base_url, extra)

    def __call__(
        self,
        prompt: str,
        *,
        plugin_dir: Path | None = None,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        timeout: float = 120.0,
    ) -> ClaudeResult:
        return run_claude(
            self.claude, prompt, cwd or self.project, self.env(env), plugin_dir, extra_args=extra_args, timeout=timeout
        )


@pytest.fixture
def claude_session(
    claude_bin: Path, messages_api: MessagesAPI, claude_home: Path, claude_project: Path
) -> ClaudeSession:
    """A :class:`ClaudeSession` bound to this test's stand-in, home and project."""
    return ClaudeSession(claude_bin, messages_api, claude_home, claude_project)
