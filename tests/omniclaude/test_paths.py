import os
import stat
from unittest import mock

import platformdirs
import pytest
from omniclaude.paths import UnsafePathError, check_dir, ensure_dir, open_private, resolve_dirs


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
        (
            "linux",
            {
                "HOME": "/home/ada",
                "XDG_STATE_HOME": "/xdg/state",
                "XDG_CONFIG_HOME": "/xdg/config",
                "XDG_DATA_HOME": "/xdg/data",
                "XDG_CACHE_HOME": "/xdg/cache",
            },
        ),
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
        "/srv/oc/state",
        "/srv/oc/config",
        "/srv/oc/data",
        "/srv/oc/cache",
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


def test_ensure_dir_makes_every_missing_folder_private_whatever_the_umask(tmp_path: "os.PathLike[str]") -> None:
    old = os.umask(0)
    try:
        ensure_dir(os.path.join(os.fspath(tmp_path), "a", "b", "c"))
    finally:
        os.umask(old)
    for part in ("a", "a/b", "a/b/c"):
        assert stat.S_IMODE(os.stat(os.path.join(os.fspath(tmp_path), part)).st_mode) == 0o700


def test_ensure_dir_makes_an_own_readable_folder_private_and_refuses_a_writable_one(
    tmp_path: "os.PathLike[str]",
) -> None:
    readable = os.path.join(os.fspath(tmp_path), "readable")
    os.mkdir(readable, 0o755)
    os.chmod(readable, 0o755)
    with pytest.raises(UnsafePathError):
        check_dir(readable)  # reading changes nothing
    ensure_dir(readable)
    assert stat.S_IMODE(os.stat(readable).st_mode) == 0o700
    writable = os.path.join(os.fspath(tmp_path), "writable")
    os.mkdir(writable)
    os.chmod(writable, 0o777)
    with pytest.raises(UnsafePathError, match="group or others can access it"):
        ensure_dir(writable)
    assert stat.S_IMODE(os.stat(writable).st_mode) == 0o777


def test_ensure_dir_refuses_a_symlink_and_creates_nothing_under_an_unsafe_root(tmp_path: "os.PathLike[str]") -> None:
    base = os.fspath(tmp_path)
    os.mkdir(os.path.join(base, "real"), 0o700)
    os.symlink(os.path.join(base, "real"), os.path.join(base, "link"))
    with pytest.raises(UnsafePathError, match="symbolic link"):
        ensure_dir(os.path.join(base, "link"))
    root = os.path.join(base, "planted")
    os.mkdir(root)
    os.chmod(root, 0o777)
    with pytest.raises(UnsafePathError):
        ensure_dir(os.path.join(root, "spool"), root)
    with pytest.raises(UnsafePathError):
        check_dir(os.path.join(root, "spool"), root)  # the missing spool does not hide the unsafe root
    assert os.listdir(root) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_another_users_folder_and_file_are_refused(tmp_path: "os.PathLike[str]") -> None:
    folder = os.path.join(os.fspath(tmp_path), "theirs")
    os.mkdir(folder, 0o700)
    os.chown(folder, 65534, 65534)
    with pytest.raises(UnsafePathError, match="belongs to uid 65534"):
        ensure_dir(folder)
    path = os.path.join(os.fspath(tmp_path), "file")
    fd, _st = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    os.close(fd)
    os.chown(path, 65534, 65534)
    with pytest.raises(UnsafePathError, match="belongs to uid 65534"):
        open_private(path, os.O_RDONLY)


def test_open_private_refuses_links_and_special_files(tmp_path: "os.PathLike[str]") -> None:
    base = os.fspath(tmp_path)
    target = os.path.join(base, "target")
    os.symlink(target, os.path.join(base, "dangling"))
    with pytest.raises(UnsafePathError, match="symbolic link"):
        open_private(os.path.join(base, "dangling"), os.O_WRONLY | os.O_CREAT)
    assert not os.path.exists(target)
    os.mkfifo(os.path.join(base, "fifo"), 0o600)
    with pytest.raises(UnsafePathError, match="not a regular file"):
        open_private(os.path.join(base, "fifo"), os.O_RDONLY)  # and does not block waiting for a writer
    fd, st = open_private(os.path.join(base, "new"), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    os.close(fd)
    assert stat.S_IMODE(st.st_mode) == 0o600
