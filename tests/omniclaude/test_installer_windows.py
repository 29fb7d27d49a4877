"""The installer's Windows paths and the plugin folder it builds there, with the platform set to Windows
(simulated on this machine: paths are computed with ntpath; nothing has run on native Windows)."""

from __future__ import annotations

import json
import ntpath
import shutil
from pathlib import Path

from omniclaude.config import parse_env_file
from omniclaude.installer import Installer, Options, layout, parse_args
from omniclaude.paths import resolve_dirs
from omniclaude.plugin_folder import plugin_files

REPO = Path(__file__).resolve().parents[2]
LOCAL = "C:\\Users\\Jane Doe\\AppData\\Local"
BASE = f"{LOCAL}\\omniclaude\\omniclaude"


def test_windows_paths_live_under_localappdata() -> None:
    env = {"USERPROFILE": "C:\\Users\\Jane Doe", "LOCALAPPDATA": LOCAL}
    where = layout(env, "win32")
    dirs = resolve_dirs(env, "win32")
    assert (dirs.config, dirs.data, dirs.state) == (BASE, BASE, BASE)
    assert dirs.spool.startswith(BASE) and dirs.spool.endswith("spool")
    assert where.record == f"{BASE}\\python"
    assert where.venv_python == f"{BASE}\\venv\\Scripts\\python.exe"
    assert where.plugin == f"{BASE}\\plugin"


def test_the_windows_plugin_folder_runs_hooks_in_exec_form(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for rel in plugin_files(str(REPO)):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, repo / rel)
    env = {"USERPROFILE": str(tmp_path / "home"), "HOME": str(tmp_path / "home"), "LOCALAPPDATA": str(tmp_path)}
    run = Installer(Options(), env, str(repo), "win32", out=lambda line: None)
    assert run.build_plugin() is True
    hooks = json.loads((Path(run.where.plugin) / "hooks" / "hooks.json").read_text())
    for event, [group] in hooks["hooks"].items():
        [hook] = group["hooks"]
        assert hook["command"] == run.where.venv_python
        assert hook["args"] == ["-I", "-S", "${CLAUDE_PLUGIN_ROOT}/hooks/capture.py", event]
    assert run.build_plugin() is False  # the rendering is stable: a second run changes nothing


def test_posix_plugin_folders_keep_the_checkouts_hooks_json(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for rel in plugin_files(str(REPO)):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, repo / rel)
    run = Installer(Options(), {"HOME": str(tmp_path / "home")}, str(repo), "linux", out=lambda line: None)
    run.build_plugin()
    plugin_hooks = Path(run.where.plugin) / "hooks" / "hooks.json"
    assert plugin_hooks.read_text() == (REPO / "hooks" / "hooks.json").read_text()


def test_the_windows_config_is_written_under_localappdata(tmp_path: Path) -> None:
    env = {
        "USERPROFILE": str(tmp_path / "home"),
        "HOME": str(tmp_path / "home"),
        "LOCALAPPDATA": str(tmp_path),
        "PATH": "",
    }
    options = parse_args(["--kafka-bootstrap-servers", "k:9092", "--kafka-sasl-password", "pw1"])
    lines: list[str] = []
    run = Installer(options, env, str(REPO), "win32", out=lines.append, cwd=str(tmp_path))
    run.write_config()
    config = Path(run.where.dirs.config)
    assert run.where.dirs.config == ntpath.join(str(tmp_path), "omniclaude", "omniclaude")
    assert parse_env_file((config / "config.env").read_text()) == {"OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "k:9092"}
    assert parse_env_file((config / "secrets.env").read_text()) == {"OMNICLAUDE_KAFKA_SASL_PASSWORD": "pw1"}
    assert "pw1" not in "\n".join(lines)
