import subprocess
import sys

import omniclaude
from omniclaude._version import MANIFEST, version


def test_public_names_are_pinned() -> None:
    assert omniclaude.__all__ == ["EventLogger", "get_logger", "log_event"]


def test_importing_the_package_loads_no_third_party_module() -> None:
    code = (
        "import sys, omniclaude\n"
        "names = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(names - set(sys.stdlib_module_names) - {'omniclaude', '__main__'}))"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(MANIFEST.parents[1] / "lib")},
    )
    assert result.stdout.strip() == "[]"


def test_version_comes_from_the_plugin_manifest() -> None:
    import json

    assert version() == json.loads(MANIFEST.read_text())["version"]
    command = [sys.executable, "-m", "omniclaude", "--version"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"omniclaude {version()}"
