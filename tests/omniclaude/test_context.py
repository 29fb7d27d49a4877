import os
from pathlib import Path

import pytest
from omniclaude import context
from omniclaude.context import build_context, find_git_root, project_name, project_path, terminal_id


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/a/b", "b"),
        ("/a/b/", "b"),
        ("b", "b"),
        ("/", None),
        ("", None),
        (None, None),
        ("/a/b//", None),
        ("C:\\work\\demo", "demo"),
    ],
)
def test_project_name_is_the_last_component(path: str | None, name: str | None) -> None:
    assert project_name(path) == name


def test_project_path_prefers_claude_project_dir(tmp_path: Path) -> None:
    assert project_path({"CLAUDE_PROJECT_DIR": "/p/x"}, str(tmp_path)) == "/p/x"


@pytest.mark.parametrize("git_is_file", [False, True])
def test_project_path_walks_up_to_the_git_root(tmp_path: Path, git_is_file: bool) -> None:
    root = tmp_path / "repo"
    deep = root / "src" / "pkg"
    deep.mkdir(parents=True)
    if git_is_file:
        (root / ".git").write_text("gitdir: elsewhere\n")
    else:
        (root / ".git").mkdir()
    assert find_git_root(str(deep)) == str(root)
    assert project_path({}, str(deep)) == str(root)


def test_project_path_falls_back_to_the_working_directory(tmp_path: Path) -> None:
    assert project_path({}, str(tmp_path)) in (str(tmp_path), find_git_root(str(tmp_path)))
    assert project_path({}, "/nonexistent/dir/x") == "/nonexistent/dir/x"
    assert project_path({}, None) is None


def test_session_id_comes_from_the_hook_input_then_the_environment() -> None:
    env = {"CLAUDE_CODE_SESSION_ID": "from-env"}
    assert build_context(env, {"session_id": "from-input", "cwd": "/x/y"})["claude_session_id"] == "from-input"
    assert build_context(env, {"cwd": "/x/y"})["claude_session_id"] == "from-env"
    assert build_context({}, {"cwd": "/x/y"})["claude_session_id"] is None


def test_working_directory_is_the_hook_cwd_else_the_process_cwd() -> None:
    assert build_context({}, {"cwd": "/x/y"})["working_directory"] == "/x/y"
    assert build_context({}, {})["working_directory"] == os.getcwd()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TERM_SESSION_ID", "w0t0p0:ABC"),
        ("ITERM_SESSION_ID", "w0t1p0:DEF"),
        ("WT_SESSION", "guid"),
        ("TMUX_PANE", "%3"),
        ("KITTY_WINDOW_ID", "7"),
        ("WEZTERM_PANE", "2"),
        ("STY", "123.pts-0.host"),
    ],
)
def test_terminal_id_prefers_the_terminals_own_id(variable: str, value: str) -> None:
    assert terminal_id({variable: value, "CLAUDE_PID": str(os.getpid())}, "demo", "s1") == f"{variable}:{value}"


def test_terminal_id_falls_back_to_the_claude_process_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "controlling_tty", lambda pid: "/dev/pts/4" if pid == "42" else None)
    assert terminal_id({"CLAUDE_PID": "42"}, "demo", "s1") == "/dev/pts/4"


def test_terminal_id_falls_back_to_project_and_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "controlling_tty", lambda pid: None)
    assert terminal_id({"CLAUDE_PID": "42"}, "demo", "s1") == "demo-s1"


def test_controlling_tty_reads_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tty_nr 34820 = major 136, minor 4: /dev/pts/4; the command name may hold spaces and parentheses.
    stat_line = b"42 (my (odd) cmd) S 1 42 42 34820 42 4194560 0 0"
    real_open = open

    def fake_open(path: str, mode: str = "r", *args: object, **kwargs: object) -> object:
        if path == "/proc/42/stat":
            target = tmp_path / "stat"
            target.write_bytes(stat_line)
            return real_open(target, mode)
        return real_open(path, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", fake_open)
    assert context.controlling_tty("42") == "/dev/pts/4"
    assert context.controlling_tty("not-a-pid") is None
    assert context.controlling_tty(None) is None


def test_controlling_tty_of_a_missing_process_is_none() -> None:
    assert context.controlling_tty("999999999") is None


def test_context_fields_and_pid() -> None:
    ctx = build_context({"CLAUDE_PID": "1234", "USER": "ada"}, {"cwd": "/x/demo", "session_id": "s"})
    assert set(ctx) == {
        "project_path",
        "project_name",
        "working_directory",
        "claude_session_id",
        "terminal_id",
        "host",
        "user",
        "pid",
    }
    assert ctx["pid"] == 1234
    assert ctx["user"] == "ada"
    assert ctx["project_name"] == "demo"
    assert build_context({}, {})["pid"] == os.getpid()
