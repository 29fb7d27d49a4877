"""Where omniclaude keeps its files: platformdirs' rules, re-implemented with the standard library.

The hook may import only the standard library (and `pathlib` alone costs it milliseconds), so this module
computes, as plain strings, the same user directories as `platformdirs`; a test pins the two together on
Linux, macOS and Windows. `OMNICLAUDE_HOME`, when set, replaces them all with sub-folders of one directory.
Nothing here touches the disk except `ensure_dir`, which callers use lazily, on first write.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

APP_NAME = "omniclaude"


class Dirs:
    """The four per-user directories of omniclaude (absolute paths); none is created until used."""

    __slots__ = ("cache", "config", "data", "state")

    def __init__(self, state: str, config: str, data: str, cache: str) -> None:
        self.state = state
        self.config = config
        self.data = data
        self.cache = cache

    def __repr__(self) -> str:
        return f"Dirs(state={self.state!r}, config={self.config!r}, data={self.data!r}, cache={self.cache!r})"

    @property
    def spool(self) -> str:
        """The spool folder, inside the state directory."""
        return os.path.join(self.state, "spool")


def _home(env: Mapping[str, str]) -> str:
    return env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~")


def _xdg(env: Mapping[str, str], name: str, *default: str) -> str:
    value = env.get(name, "").strip()
    return value if value else os.path.join(*default)


def resolve_dirs(env: Mapping[str, str], platform: str = sys.platform) -> Dirs:
    """Returns the directories for this user and platform; pure (reads only `env`)."""
    override = env.get("OMNICLAUDE_HOME", "").strip()
    if override:
        root = os.path.abspath(os.path.expanduser(override))
        return Dirs(*(os.path.join(root, part) for part in ("state", "config", "data", "cache")))
    home = _home(env)
    if platform == "darwin":
        support = os.path.join(home, "Library", "Application Support", APP_NAME)
        return Dirs(support, support, support, os.path.join(home, "Library", "Caches", APP_NAME))
    if platform == "win32":
        import ntpath

        local = env.get("LOCALAPPDATA", "").strip() or ntpath.join(home, "AppData", "Local")
        base = ntpath.join(local, APP_NAME, APP_NAME)
        return Dirs(base, base, base, ntpath.join(base, "Cache"))
    return Dirs(
        os.path.join(_xdg(env, "XDG_STATE_HOME", home, ".local", "state"), APP_NAME),
        os.path.join(_xdg(env, "XDG_CONFIG_HOME", home, ".config"), APP_NAME),
        os.path.join(_xdg(env, "XDG_DATA_HOME", home, ".local", "share"), APP_NAME),
        os.path.join(_xdg(env, "XDG_CACHE_HOME", home, ".cache"), APP_NAME),
    )


def ensure_dir(path: str) -> str:
    """Creates `path` (and parents) with mode 0700 if missing; returns it. Raises OSError if impossible."""
    try:
        os.makedirs(path, mode=0o700)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
    else:
        os.chmod(path, 0o700)
    return path
