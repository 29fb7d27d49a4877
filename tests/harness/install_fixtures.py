"""pytest fixtures for running install.sh for real: a copy of the checkout, a wheelhouse, bare tools.

Register in ``tests/conftest.py`` through ``pytest_plugins``. The installs run from a copy of the
checkout (so edits to the real one cannot change its hash mid-run) and pip installs from a wheelhouse
built once per session (`--pip-args "--no-index --find-links ..."`), so only that build touches the
network. Each run gets a bare environment: HOME is a temporary folder, PATH holds only symlinked tools,
a `python3` and whatever folders the test adds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = (
    "sh",
    "dash",
    "dirname",
    "tr",
    "env",
    "grep",
    "sed",
    "cat",
    "cmp",
    "mv",
    "chmod",
    "mkdir",
    "rm",
    "rmdir",
    "ls",
    "ps",
    "uname",
)


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout's files (tracked and untracked, not ignored) that the tests install from."""
    target = tmp_path_factory.mktemp("checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file() and "__pycache__" not in source.parts:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target.resolve()


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, checkout: Path) -> Path:
    """Wheels of omniclaude's dependencies and build backend, for offline, fast installs."""
    target = tmp_path_factory.mktemp("wheelhouse")
    build = tmp_path_factory.mktemp("wheel-build")
    source = build / "src"
    shutil.copytree(checkout, source)  # pip builds in the tree: keep build/ and egg-info out of `checkout`
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "-w",
            str(target),
            str(source),
            "setuptools>=69",
            "wheel",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"pip wheel failed: {done.stderr.strip()[-2000:]}", pytrace=False)
    return target


@pytest.fixture(scope="session")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of symlinks to the system tools install.sh (and pip, and the hook) use, and no others."""
    folder = tmp_path_factory.mktemp("tools")
    for name in TOOLS:
        found = shutil.which(name)
        if found is None:
            pytest.fail(
                f"{name} is not installed (apt-get install {'dash' if name == 'dash' else 'coreutils'})", pytrace=False
            )
        (folder / name).symlink_to(found)
    return folder


@pytest.fixture(scope="session")
def python_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose `python3` is the interpreter running the tests (its base, not the dev venv)."""
    folder = tmp_path_factory.mktemp("python")
    (folder / "python3").symlink_to(os.path.realpath(sys.executable))
    return folder


@dataclass
class Installer:
    """Runs install.sh from the checkout copy with a bare environment around `home`."""

    checkout: Path
    wheelhouse: Path
    tools: Path
    python_dir: Path
    scratch: Path

    def path(self, *first: Path) -> str:
        return os.pathsep.join(str(p) for p in (*first, self.python_dir, self.tools))

    def env(self, home: Path, *, path: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        tmp = self.scratch / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {"HOME": str(home), "PATH": path or self.path(), "LANG": "C.UTF-8", "TMPDIR": str(tmp)}
        env.update(extra or {})
        return env

    def run(
        self,
        home: Path,
        *args: str,
        path: str | None = None,
        extra: Mapping[str, str] | None = None,
        pip: bool = True,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.tools / "dash"), str(self.checkout / "install.sh"), *args]
        if pip and "--uninstall" not in args:
            command += ["--pip-args", f"--no-index --find-links {self.wheelhouse} --no-cache-dir"]
        return subprocess.run(
            command,
            env=self.env(home, path=path, extra=extra),
            cwd=self.scratch,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def installer(checkout: Path, wheelhouse: Path, tools: Path, python_dir: Path, tmp_path: Path) -> Installer:
    return Installer(checkout, wheelhouse, tools, python_dir, tmp_path)
