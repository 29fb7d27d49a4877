"""The version, read from `.claude-plugin/plugin.json`, the one place it is written.

In a checkout (or the plugin cache) the manifest sits two folders above this package; in an installed
wheel the build copied it into the distribution metadata. Nothing is read at import time.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[2] / ".claude-plugin" / "plugin.json"


@cache
def version() -> str:
    """Returns the plugin's version; never raises ("0+unknown" when no source is readable)."""
    try:
        value = json.loads(MANIFEST.read_text(encoding="utf-8"))["version"]
        if isinstance(value, str):
            return value
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("omniclaude")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(name)
