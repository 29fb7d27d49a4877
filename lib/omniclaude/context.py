"""Who, where and in which session an event happened: the context rules, standard library only.

- project_path: `CLAUDE_PROJECT_DIR`, else the git root above the working directory (the nearest folder
  holding a `.git` file or folder; no subprocess), else the working directory.
- project_name: the last component of project_path, one trailing slash ignored (as the SQL function
  `extract_project_name`).
- claude_session_id: the hook input's `session_id`, else `CLAUDE_CODE_SESSION_ID`.
- terminal_id: the terminal's own id (`TERMINAL_VARIABLES`, as `<variable>:<value>`), else the controlling
  tty of the Claude Code process (`CLAUDE_PID`, read from /proc where it exists), else
  `<project_name>-<claude_session_id>`.
- working_directory: the hook input's `cwd`, else the process's working directory.
- pid: the Claude Code process (`CLAUDE_PID`), else this process.
Every function here is pure except for the file-system and /proc look-ups named above; none raises.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

TERMINAL_VARIABLES = (
    "TERM_SESSION_ID",
    "ITERM_SESSION_ID",
    "WT_SESSION",
    "TMUX_PANE",
    "KITTY_WINDOW_ID",
    "WEZTERM_PANE",
    "ALACRITTY_WINDOW_ID",
    "STY",
    "WINDOWID",
)

# Linux tty major numbers: 136-143 are pseudo-terminals (/dev/pts/N), 4 the virtual consoles (/dev/ttyN).
_PTS_MAJORS = range(136, 144)


def project_name(path: str | None) -> str | None:
    """Returns the last path component, one trailing slash ignored; None for None or empty."""
    if not path:
        return None
    trimmed = path[:-1] if path.endswith(("/", "\\")) and len(path) > 1 else path
    name = trimmed.replace("\\", "/").rsplit("/", 1)[-1]
    return name or None


def find_git_root(start: str) -> str | None:
    """Returns the nearest folder at or above `start` that holds `.git` (file or folder), else None."""
    current = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def project_path(env: Mapping[str, str], working_directory: str | None) -> str | None:
    """Applies the project_path rule."""
    explicit = env.get("CLAUDE_PROJECT_DIR")
    if explicit:
        return explicit
    if not working_directory:
        return None
    return find_git_root(working_directory) or working_directory


def controlling_tty(pid: str | None) -> str | None:
    """Returns the controlling terminal of process `pid` (e.g. "/dev/pts/3"), where /proc exposes it."""
    if not pid or not pid.isdigit():
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # Field 7 (tty_nr) follows the command name, which is in parentheses and may contain spaces.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        tty_nr = int(fields[4])
    except (IndexError, ValueError):
        return None
    if tty_nr == 0:
        return None
    major, minor = (tty_nr >> 8) & 0xFFF, (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if major in _PTS_MAJORS:
        return f"/dev/pts/{(major - 136) * 256 + minor}"
    if major == 4:
        return f"/dev/tty{minor}"
    return f"tty:{major}:{minor}"


def terminal_id(env: Mapping[str, str], name: str | None, session_id: str | None) -> str | None:
    """Applies the terminal_id rule."""
    for variable in TERMINAL_VARIABLES:
        value = env.get(variable)
        if value:
            return f"{variable}:{value}"
    tty = controlling_tty(env.get("CLAUDE_PID"))
    if tty:
        return tty
    if name or session_id:
        return f"{name or 'unknown'}-{session_id or 'unknown'}"
    return None


def _host() -> str | None:
    try:
        return os.uname().nodename or None
    except AttributeError:  # pragma: no cover - Windows
        import socket

        return socket.gethostname() or None


def _user(env: Mapping[str, str]) -> str | None:
    for variable in ("USER", "LOGNAME", "USERNAME"):
        if env.get(variable):
            return env[variable]
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        return None


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None


def build_context(env: Mapping[str, str], hook_input: Mapping[str, object] | None = None) -> dict[str, object]:
    """Returns the envelope's `context` for an event born now, from the environment and the hook input."""
    given = hook_input or {}
    cwd = given.get("cwd")
    working_directory = cwd if isinstance(cwd, str) and cwd else _cwd()
    session = given.get("session_id")
    session_id = session if isinstance(session, str) and session else env.get("CLAUDE_CODE_SESSION_ID") or None
    path = project_path(env, working_directory)
    name = project_name(path)
    claude_pid = env.get("CLAUDE_PID", "")
    return {
        "project_path": path,
        "project_name": name,
        "working_directory": working_directory,
        "claude_session_id": session_id,
        "terminal_id": terminal_id(env, name, session_id),
        "host": _host(),
        "user": _user(env),
        "pid": int(claude_pid) if claude_pid.isdigit() else os.getpid(),
    }
