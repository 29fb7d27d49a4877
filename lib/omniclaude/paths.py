"""Where omniclaude keeps its files: platformdirs' rules, re-implemented with the standard library.

The hook may import only the standard library (and `pathlib` alone costs it milliseconds), so this module
computes, as plain strings, the same user directories as `platformdirs`; a test pins the two together on
Linux, macOS and Windows. `OMNICLAUDE_HOME`, when set, replaces them all with sub-folders of one directory.
Nothing here touches the disk except `ensure_dir`, `check_dir` and `open_private`, which callers use
lazily, on first use.

Safety of what omniclaude writes and reads back (spool folders and files, logs): a folder or file is
used only when it is this user's (owner == effective uid), not a symbolic link, and private (mode & 0o077
== 0). A folder of this user's that others may read but not write is made private on the way (chmod
0700): nobody else could have put anything in it. Anything else raises `UnsafePathError` and is never
written to or read. Each check is one `lstat` per folder or one `fstat` on a descriptor already held.
On Windows, where modes and owners mean something else, only symbolic links are refused.
"""

from __future__ import annotations

import errno
import os
import stat
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


_PRIVATE_DIR = 0o700
_OPEN_FLAGS = 0
for _flag in ("O_CLOEXEC", "O_NOFOLLOW", "O_NONBLOCK", "O_BINARY"):
    _OPEN_FLAGS |= getattr(os, _flag, 0)
del _flag


class UnsafePathError(PermissionError):
    """A folder or file that must not be used: a symbolic link, another user's, or open to others."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(errno.EPERM, reason, path)

    def __str__(self) -> str:
        return f"{self.filename} is not safe to use: {self.strerror}"


def unsafe_reason(st: os.stat_result, *, tolerate_readable: bool = False, mode_ok: bool = False) -> str | None:
    """Why the file or folder of this `lstat`/`fstat` result must not be used, or None when it is safe.

    `tolerate_readable` lets a folder that others may read, but not write, pass (it is made private);
    `mode_ok` leaves the mode out (the caller makes it private)."""
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not hasattr(os, "geteuid"):
        return None
    euid = os.geteuid()
    if st.st_uid != euid:
        return f"it belongs to uid {st.st_uid}, not to you (uid {euid})"
    loose = 0 if mode_ok else st.st_mode & 0o077
    if loose and not (tolerate_readable and not loose & 0o022):
        return f"group or others can access it (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def _verify_dir(path: str, st: os.stat_result, fix: bool) -> None:
    if stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode):
        reason = unsafe_reason(st, tolerate_readable=fix)
        if reason is not None:
            raise UnsafePathError(path, reason)
        if st.st_mode & 0o077 and hasattr(os, "geteuid"):
            os.chmod(path, _PRIVATE_DIR)
        return
    raise NotADirectoryError(errno.ENOTDIR, "Not a directory", path)


def _verify_chain(path: str, root: str | None, leaf: os.stat_result | None, fix: bool) -> None:
    """Checks the folders from `root` down to `path`, top first (so a missing folder under an unsafe one
    reports the unsafe one)."""
    chain = [path]
    top = root or path
    while chain[-1] != top:
        parent = os.path.dirname(chain[-1])
        if parent == chain[-1] or len(parent) < len(top):
            break
        chain.append(parent)
    for folder in reversed(chain):
        _verify_dir(folder, leaf if leaf is not None and folder == path else os.lstat(folder), fix)


def check_dir(path: str, root: str | None = None, make_private: bool = False) -> None:
    """Checks that `path` -- and every folder from `root` (an ancestor of `path`) down to it -- is a real
    folder, this user's and private; changes nothing unless `make_private` (see the module docstring).
    Raises FileNotFoundError when one is missing, NotADirectoryError, or UnsafePathError saying why it
    must not be used."""
    _verify_chain(path, root, None, fix=make_private)


def ensure_dir(path: str, root: str | None = None) -> str:
    """Creates `path` and its missing parents (each 0700), then checks it as `check_dir` does, making a
    folder of this user's that others may read but not write private; returns `path`. Raises
    UnsafePathError for a folder that must not be used, other OSError when it cannot be created."""
    missing = []
    current = path
    while True:
        try:
            leaf = os.lstat(current)
            break
        except FileNotFoundError:
            parent = os.path.dirname(current)
            if parent == current:
                raise
            missing.append(current)
            current = parent
    if missing and root is not None and len(current) >= len(root):
        _verify_chain(current, root, leaf, fix=True)  # nothing is made inside a folder that is not safe
    for folder in reversed(missing):
        try:
            os.mkdir(folder, _PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(folder, _PRIVATE_DIR)  # the umask may have taken bits away
    _verify_chain(path, root, None if missing else leaf, fix=True)
    return path


def open_private(path: str, flags: int, mode: int = 0o600, make_private: bool = False) -> tuple[int, os.stat_result]:
    """Opens a file with O_NOFOLLOW (O_CREAT files get `mode`) and checks, with one `fstat`, that it is a
    regular file, this user's and private. Returns (descriptor, its fstat). Raises UnsafePathError (the
    descriptor closed) or the OSError of `os.open`. With `make_private`, a file of this user's that is
    open to others is made private (`fchmod` 0600) instead: only for files never read back, like logs."""
    try:
        fd = os.open(path, flags | _OPEN_FLAGS, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):
            raise UnsafePathError(path, "it is a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            reason: str | None = "it is not a regular file"
        elif make_private and unsafe_reason(st, mode_ok=True) is None:
            if st.st_mode & 0o077 and hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            reason = None
        else:
            reason = unsafe_reason(st)
    except OSError:
        os.close(fd)
        raise
    if reason is not None:
        os.close(fd)
        raise UnsafePathError(path, reason)
    return fd, st
