"""install.ps1 stays a thin wrapper: it only finds a Python and runs `-m omniclaude.installer` with the
arguments it was given (PowerShell is not on this machine, so this reads the script; it has not run)."""

import re
from pathlib import Path

SCRIPT = (Path(__file__).resolve().parents[1] / "install.ps1").read_text(encoding="utf-8")


def test_install_ps1_runs_only_the_installer_module() -> None:
    calls = [line for line in SCRIPT.splitlines() if line.lstrip().startswith("& ")]
    assert calls == ["& $exe @launcher -B -s -m omniclaude.installer @args"]
    assert SCRIPT.rstrip().endswith("exit $LASTEXITCODE")


def test_install_ps1_prefers_the_py_launcher_and_skips_the_store_alias() -> None:
    assert "$python = @('py', '-3')" in SCRIPT
    assert SCRIPT.index("Get-Command py ") < SCRIPT.index("Get-Command python ")
    assert "-notlike '*\\WindowsApps\\*'" in SCRIPT
    assert re.search(r"\$env:PYTHONPATH = .*\$lib", SCRIPT)
