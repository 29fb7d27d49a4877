import os
import stat
from unittest import mock

import platformdirs
import pytest
from omniclaude.paths import ensure_dir, resolve_dirs


def _platformdirs(platform: str, env: dict[str, str]) -> tuple[str, str, str, str]:
    with mock.patch.dict(os.environ, env, clear=True):
        if platform == "win32":
            from platformdirs.windows import Windows

            with mock.patch("platformdirs.windows.get_win_folder", lambda name: env["LOCALAPPDATA"]):
                dirs: platformdirs.PlatformDirsABC = Windows(appname="omniclaude")
                return dirs.user_state_dir, dirs.user_config_dir, dirs.user_data_dir, dirs.user_cache_dir
        if platform == "darwin":
            from platformdirs.macos import MacOS

            dirs = MacOS(appname="omniclaude")
        else:
            from platformdirs.unix import Unix

            dirs = Unix(appname="omniclaude")
        return dirs.user_state_dir, dirs.user_config_dir, dirs.user_data_dir, dirs.user_cache_dir


@pytest.mark.parametrize(
    ("platform", "env"),
    [
        ("linux", {"HOME": "/home/ada"}),
        ("linux", {"HOME": "/home/ada", "XDG_STATE_HOME": "/xdg/state", "XDG_CONFIG_HOME": "/xdg/config",
                   "XDG_DATA_HOME": "/xdg/data", "XDG_CACHE_HOME": "/xdg/cache"}),
        ("linux", {"HOME": "/home/ada", "XDG_STATE_HOME": "  "}),
        ("darwin", {"HOME": "/Users/ada"}),
        ("win32", {"HOME": "C:\\Users\\ada", "LOCALAPPDATA": "C:\\Users\\ada\\AppData\\Local"}),
    ],
)
def test_directories_match_platformdirs(platform: str, env: dict[str, str]) -> None:
    ours = resolve_dirs(env, platform)
    theirs = _platformdirs(platform, env)
    # On a POSIX host, platformdirs simulates Windows with "/" separators; compare separator-blind.
    assert [p.replace("\\", "/") for p in (ours.state, ours.config, ours.data, ours.cache)] == [
        p.replace("\\", "/") for p in theirs
    ]


def test_omniclaude_home_replaces_every_directory(tmp_path: object) -> None:
    dirs = resolve_dirs({"HOME": "/home/ada", "OMNICLAUDE_HOME": "/srv/oc"}, "linux")
    assert (dirs.state, dirs.config, dirs.data, dirs.cache) == (
        "/srv/oc/state", "/srv/oc/config", "/srv/oc/data", "/srv/oc/cache"
    )
    assert dirs.spool == "/srv/oc/state/spool"


def test_resolving_touches_nothing(tmp_path: "os.PathLike[str]") -> None:
    resolve_dirs({"OMNICLAUDE_HOME": os.fspath(tmp_path) + "/home"})
    assert not os.path.exists(os.fspath(tmp_path) + "/home")


def test_ensure_dir_creates_private_folders(tmp_path: "os.PathLike[str]") -> None:
    target = os.path.join(os.fspath(tmp_path), "a", "b")
    assert ensure_dir(target) == target
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700
    ensure_dir(target)  # idempotent


def test_ensure_dir_refuses_a_file(tmp_path: "os.PathLike[str]") -> None:
    path = os.path.join(os.fspath(tmp_path), "file")
    open(path, "w").close()
    with pytest.raises(OSError):
        ensure_dir(path)
