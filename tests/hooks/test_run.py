"""The interpreter shim `hooks/run`: which interpreter it picks, and Windows-style inputs.

Windows is simulated: OS=Windows_NT, paths written with backslashes (which the shim reads as slashes, so
`\\tmp\\x` names the real folder /tmp/x here), and a Microsoft Store alias stand-in that exits 9009.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "hooks" / "run"
FAKE = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
exit {status}
"""


def fake(folder: Path, name: str, log: Path, status: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(FAKE.format(log=log, status=status))
    path.chmod(0o755)
    return path


def windows(path: Path) -> str:
    """`path` as a Windows user would write it: backslashes."""
    return str(path).replace("/", "\\")


def run(args: list[str], env: dict[str, str], stdin: bytes = b"{}") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(SHIM), *args], input=stdin, env=env, capture_output=True, timeout=30)


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "calls.log"


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("basename",):
        os.symlink(shutil.which(tool), folder / tool)  # type: ignore[arg-type]
    return folder


def test_the_recorded_interpreter_wins_with_backslashes_spaces_crlf(tmp_path: Path, log: Path, bin_dir: Path) -> None:
    home = tmp_path / "Jane Doe" / "omniclaude"
    python = fake(tmp_path / "Jane Doe" / "venv" / "Scripts", "python.exe", log)
    (home / "data").mkdir(parents=True)
    (home / "data" / "python").write_bytes(windows(python).encode() + b"\r\n")
    fake(bin_dir, "python3", log)
    env = {"PATH": str(bin_dir), "OMNICLAUDE_HOME": windows(home), "OS": "Windows_NT"}
    result = run(["hooks/capture.py", "Stop"], env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert calls(log) == [f"python.exe -I -S {ROOT}/hooks/capture.py Stop"]


def test_localappdata_is_where_windows_keeps_the_record(tmp_path: Path, log: Path, bin_dir: Path) -> None:
    local = tmp_path / "Users" / "Jane Doe" / "AppData" / "Local"
    python = fake(local / "omniclaude" / "omniclaude" / "venv" / "Scripts", "python.exe", log)
    (local / "omniclaude" / "omniclaude" / "python").write_text(windows(python) + "\n")
    env = {"PATH": str(bin_dir), "LOCALAPPDATA": windows(local), "HOME": str(tmp_path), "OS": "Windows_NT"}
    assert run(["--which"], env).stdout.decode() == f"{python}\n"
    result = run(["skills/log-execution/execute.py", "start", "--agent", "a b"], env)
    assert result.returncode == 0
    assert calls(log) == [f"python.exe {ROOT}/skills/log-execution/execute.py start --agent a b"]


def test_omniclaude_python_comes_first(tmp_path: Path, log: Path, bin_dir: Path) -> None:
    python = fake(tmp_path / "Program Files" / "Python", "python.exe", log)
    env = {"PATH": str(bin_dir), "OMNICLAUDE_PYTHON": windows(python), "HOME": str(tmp_path)}
    assert run(["--which"], env).stdout.decode() == f"{python}\n"


def test_omniclaude_home_is_the_only_place_looked_at_when_set(tmp_path: Path, log: Path, bin_dir: Path) -> None:
    recorded = fake(tmp_path / "venv", "python", log)
    (tmp_path / ".local" / "share" / "omniclaude").mkdir(parents=True)
    (tmp_path / ".local" / "share" / "omniclaude" / "python").write_text(f"{recorded}\n")
    fake(bin_dir, "python3", log)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    assert run(["--which"], env).stdout.decode() == f"{recorded}\n"
    env["OMNICLAUDE_HOME"] = str(tmp_path / "sandbox")
    assert run(["--which"], env).stdout.decode() == "python3\n"  # as omniclaude.paths: the sandbox only


def test_windows_prefers_the_py_launcher(tmp_path: Path, log: Path, bin_dir: Path) -> None:
    fake(bin_dir, "py", log)
    fake(bin_dir, "python", log)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "OS": "Windows_NT"}
    result = run(["hooks/capture.py", "Stop"], env)
    assert result.returncode == 0
    assert calls(log) == ["py -3 -c ", f"py -3 -I -S {ROOT}/hooks/capture.py Stop"]


def test_windows_skips_the_store_stub_that_exits_9009(tmp_path: Path, log: Path, bin_dir: Path) -> None:
    fake(bin_dir, "python3", log, status=9009)
    fake(bin_dir, "python", log)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "OS": "Windows_NT"}
    result = run(["hooks/capture.py", "Stop"], env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert calls(log) == ["python3 -c ", "python -c ", f"python -I -S {ROOT}/hooks/capture.py Stop"]


def test_only_store_stubs_mean_no_python(tmp_path: Path, log: Path, bin_dir: Path) -> None:
    fake(bin_dir, "python3", log, status=9009)
    fake(bin_dir, "python", log, status=9009)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "OS": "Windows_NT"}
    hook = run(["hooks/capture.py", "Stop"], env)
    assert hook.returncode == 0 and hook.stdout == b""
    assert hook.stderr.decode().count("\n") == 1 and "no Python found" in hook.stderr.decode()
    skill = run(["skills/log-execution/execute.py", "--help"], env)
    assert skill.returncode == 1 and skill.stdout == b""
    assert run(["--which"], env).returncode == 1


def test_off_windows_python3_is_not_tried_first(tmp_path: Path, log: Path, bin_dir: Path) -> None:
    fake(bin_dir, "python3", log)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    assert run(["hooks/capture.py", "Stop"], env).returncode == 0
    assert calls(log) == [f"python3 -I -S {ROOT}/hooks/capture.py Stop"]  # no probe on the hook's hot path


def test_the_hook_runs_from_a_plugin_root_with_spaces(tmp_path: Path) -> None:
    plugin = tmp_path / "Program Files" / "Claude plugins" / "omniclaude"
    shutil.copytree(ROOT / "hooks", plugin / "hooks")
    shutil.copytree(ROOT / "lib" / "omniclaude", plugin / "lib" / "omniclaude")
    command = '"${CLAUDE_PLUGIN_ROOT}/hooks/run" hooks/capture.py Stop'
    home = tmp_path / "oc"
    env = {"PATH": os.environ["PATH"], "CLAUDE_PLUGIN_ROOT": str(plugin), "OMNICLAUDE_HOME": str(home)}
    result = subprocess.run(
        ["sh", "-c", command], input=b'{"session_id": "s"}', env=env, capture_output=True, timeout=30
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert len(list((home / "state" / "spool").glob("*.jsonl"))) == 1
