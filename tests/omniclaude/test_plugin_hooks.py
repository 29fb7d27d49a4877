"""omniclaude.plugin_hooks: the hooks.json each platform gets."""

import json
import subprocess
import sys
from pathlib import Path

from omniclaude.doctor import exec_hook
from omniclaude.plugin_hooks import SHIM, exec_form, hooks_json_for

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT = (ROOT / "hooks" / "hooks.json").read_text()
WINDOWS_PYTHON = r"C:\Users\Jane Doe\AppData\Local\omniclaude\omniclaude\venv\Scripts\python.exe"


def test_posix_gets_the_checkouts_hooks_json_unchanged() -> None:
    assert hooks_json_for(CHECKOUT, "linux", "/usr/bin/python3") == CHECKOUT
    assert hooks_json_for(CHECKOUT, "darwin", "/usr/bin/python3") == CHECKOUT


def test_windows_gets_exec_form_under_the_recorded_python() -> None:
    original = json.loads(CHECKOUT)
    rendered = json.loads(hooks_json_for(CHECKOUT, "win32", WINDOWS_PYTHON))
    assert rendered["description"] == original["description"]
    assert set(rendered["hooks"]) == set(original["hooks"])
    for event, groups in rendered["hooks"].items():
        [group] = groups
        [hook] = group["hooks"]
        assert hook == {
            "type": "command",
            "command": WINDOWS_PYTHON,
            "timeout": 10,
            "args": ["-I", "-S", "${CLAUDE_PLUGIN_ROOT}/hooks/capture.py", event],
        }
    assert json.loads(CHECKOUT) == original  # the input is not changed


def test_hooks_not_run_through_the_shim_are_left_alone() -> None:
    other = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo hi"}, {"type": "prompt"}]}]}}
    assert exec_form(other, WINDOWS_PYTHON) == other
    assert exec_form({"hooks": "nonsense"}, WINDOWS_PYTHON) == {"hooks": "nonsense"}


def test_exec_form_runs_the_real_hook_with_a_plugin_root_with_spaces(tmp_path: Path) -> None:
    # What Claude Code does with exec form: substitute ${CLAUDE_PLUGIN_ROOT} per argument, start with no shell.
    import shutil

    plugin = tmp_path / "Program Files" / "omniclaude plugin"
    shutil.copytree(ROOT / "hooks", plugin / "hooks")
    shutil.copytree(ROOT / "lib" / "omniclaude", plugin / "lib" / "omniclaude")
    (plugin / "hooks" / "hooks.json").write_text(hooks_json_for(CHECKOUT, "win32", sys.executable))
    argv = exec_hook(str(plugin))
    assert argv == [sys.executable, "-I", "-S", f"{plugin}/hooks/capture.py", "Stop"]
    home = tmp_path / "oc"
    result = subprocess.run(
        argv, input=b'{"session_id": "s"}', env={"OMNICLAUDE_HOME": str(home)}, capture_output=True, timeout=30
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert len(list((home / "state" / "spool").glob("*.jsonl"))) == 1


def test_the_shim_named_here_is_the_checkouts() -> None:
    assert all(
        hook["command"].startswith(f'"{SHIM}" ')
        for groups in json.loads(CHECKOUT)["hooks"].values()
        for group in groups
        for hook in group["hooks"]
    )
