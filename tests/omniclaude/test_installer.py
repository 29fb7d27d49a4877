"""The installer module, without a venv, pip or Claude Code: layouts, options, settings files, the plugin
folder and the command links (install.sh itself is driven for real in tests/test_install.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from omniclaude import installer
from omniclaude.config import FIELDS, parse_env_file
from omniclaude.installer import MANAGED, Installer, Options, UsageError, help_text, layout, parse_args, path_line
from omniclaude.plugin_folder import plugin_files, plugin_version

REPO = Path(__file__).resolve().parents[2]


# -- layouts per platform ---------------------------------------------------------------------------------


def test_linux_layout_follows_xdg_and_links_into_local_bin() -> None:
    where = layout({"HOME": "/home/u", "XDG_DATA_HOME": "/d"}, "linux")
    assert where.venv_python == "/d/omniclaude/venv/bin/python"
    assert where.plugin == "/d/omniclaude/plugin"
    assert where.record == "/d/omniclaude/python"
    assert where.links == {
        "/home/u/.local/bin/omniclaude": "/d/omniclaude/venv/bin/omniclaude",
        "/home/u/.local/bin/omniclaude-consumer": "/d/omniclaude/venv/bin/omniclaude-consumer",
    }


def test_windows_layout_uses_localappdata_scripts_and_cmd_links() -> None:
    env = {"USERPROFILE": "C:\\Users\\u", "LOCALAPPDATA": "C:\\Users\\u\\AppData\\Local"}
    where = layout(env, "win32")
    base = "C:\\Users\\u\\AppData\\Local\\omniclaude\\omniclaude"
    assert where.venv_python == f"{base}\\venv\\Scripts\\python.exe"
    assert where.plugin == f"{base}\\plugin"
    assert where.omniclaude == f"{base}\\venv\\Scripts\\omniclaude.exe"
    assert where.links["C:\\Users\\u\\.local\\bin\\omniclaude.cmd"] == f"{base}\\venv\\Scripts\\omniclaude.exe"
    assert installer.link_text("C:\\x\\omniclaude.exe", "win32") == '@"C:\\x\\omniclaude.exe" %*\r\n'


def test_path_line_only_when_the_bin_dir_is_missing_from_path() -> None:
    assert path_line("/h/.local/bin", {"PATH": "/usr/bin:/h/.local/bin/"}, "linux") is None
    assert path_line("/h/.local/bin", {"PATH": "/usr/bin", "SHELL": "/bin/zsh"}, "linux") == (
        'export PATH="/h/.local/bin:$PATH"   # in ~/.zshrc'
    )
    assert "fish_add_path /h/.local/bin" in str(path_line("/h/.local/bin", {"SHELL": "/usr/bin/fish"}, "linux"))
    assert path_line("C:\\b", {"PATH": "c:\\B;C:\\x"}, "win32") is None
    assert "SetEnvironmentVariable" in str(path_line("C:\\b", {"PATH": "C:\\x"}, "win32"))


# -- options, derived from the settings declaration ---------------------------------------------------------


def test_every_install_option_comes_from_the_declaration() -> None:
    text = help_text()
    for field in MANAGED:
        assert f"{field.flag} {field.option}" in text and f"[{field.env}]" in text
    options = parse_args(["--topic-prefix=ops", "--capture-mode", "", "--dry-run"])
    assert options.flags == {"topic_prefix": "ops", "capture_mode": ""} and options.dry_run
    assert {f.name for f in MANAGED} < {f.name for f in FIELDS}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--topic-prefix"], "--topic-prefix needs a value"),
        (["--dry-run=1"], "--dry-run takes no value"),
        (["--keep-data"], "--keep-data goes with --uninstall"),
        (["--uninstall", "--topic-prefix", "x"], "--uninstall takes only --keep-data and --dry-run"),
        (["--uninstall", "--local-stack"], "--uninstall takes only --keep-data and --dry-run"),
        (["--local-stack=yes"], "--local-stack takes no value"),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_args(argv)


def test_main_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert installer.main(["--bogus"], {"HOME": str(tmp_path)}) == 2
    assert "install.sh: unrecognized arguments: --bogus (see ./install.sh --help)" in capsys.readouterr().err
    assert installer.main(["--help"], {"HOME": str(tmp_path)}) == 0
    assert "--kafka-bootstrap-servers HOST:PORT[,...]" in capsys.readouterr().out
    assert installer.main(["--capture-mode", "all"], {"HOME": str(tmp_path), "PATH": ""}) == 2
    assert "--capture-mode must be one of full, redacted, hash, off" in capsys.readouterr().err
    assert installer.main(["--topic-prefix", "x\\ny"], {"HOME": str(tmp_path), "PATH": ""}) == 2
    assert "cannot be stored in a settings file (see ./install.sh --help)" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# -- the settings files ------------------------------------------------------------------------------------


def test_local_stack_runs_stack_up_after_the_install(tmp_path: Path) -> None:
    assert "--local-stack" in help_text()
    run, lines = make(tmp_path, "--local-stack", "--dry-run")
    assert run.options.local_stack
    run.start_local_stack()
    assert lines[-1].endswith(f"would run: {run.where.omniclaude} stack up")
    assert not run.stack_failed


def make(tmp_path: Path, *argv: str, **env: str) -> tuple[Installer, list[str]]:
    lines: list[str] = []
    environ = {"HOME": str(tmp_path / "home"), "PATH": "", **env}
    return Installer(parse_args(argv), environ, str(REPO), "linux", out=lines.append, cwd=str(tmp_path)), lines


def test_write_config_secrets_apart_and_never_printed(tmp_path: Path) -> None:
    run, lines = make(
        tmp_path,
        "--database-url",
        "postgresql://me:hunter2@db/x",
        "--kafka-ssl-cafile",
        "ca.pem",
        "--kafka-sasl-password",
        "pw1",
    )
    run.write_config()
    config = Path(run.where.dirs.config)
    assert parse_env_file((config / "config.env").read_text()) == {
        "OMNICLAUDE_KAFKA_SSL_CAFILE": str(tmp_path / "ca.pem")
    }
    assert parse_env_file((config / "secrets.env").read_text()) == {
        "OMNICLAUDE_DATABASE_URL": "postgresql://me:hunter2@db/x",
        "OMNICLAUDE_KAFKA_SASL_PASSWORD": "pw1",
    }
    printed = "\n".join(lines)
    assert "hunter2" not in printed and "pw1" not in printed
    assert "set OMNICLAUDE_DATABASE_URL=postgresql://me:***@db/x" in printed
    assert oct(os.stat(config / "secrets.env").st_mode & 0o777) == "0o600"
    before = (config / "config.env").read_text(), (config / "secrets.env").read_text()
    run, lines = make(tmp_path)
    run.write_config()
    assert ((config / "config.env").read_text(), (config / "secrets.env").read_text()) == before


# -- the plugin folder -------------------------------------------------------------------------------------


def test_build_plugin_is_idempotent_and_versions_each_change(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for rel in plugin_files(str(REPO)):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, repo / rel)
    (repo / "lib" / "omniclaude" / "__pycache__").mkdir()
    (repo / "lib" / "omniclaude" / "__pycache__" / "x.pyc").write_bytes(b"x")
    lines: list[str] = []
    run = Installer(Options(), {"HOME": str(tmp_path / "home")}, str(repo), "linux", out=lines.append)
    assert run.build_plugin() is True
    plugin = Path(run.where.plugin)
    version = json.loads((plugin / ".claude-plugin" / "plugin.json").read_text())["version"]
    assert version == plugin_version(str(repo), plugin_files(str(repo)))
    assert os.access(plugin / "hooks" / "run", os.X_OK)
    assert not (plugin / "lib" / "omniclaude" / "__pycache__").exists()
    assert run.build_plugin() is False
    (repo / "hooks" / "capture.py").write_text("# edited\n")
    assert run.build_plugin() is True
    assert (plugin / "hooks" / "capture.py").read_text() == "# edited\n"
    assert json.loads((plugin / ".claude-plugin" / "plugin.json").read_text())["version"] != version


# -- the command links -------------------------------------------------------------------------------------


def test_links_made_once_kept_when_foreign_and_removed_on_uninstall(tmp_path: Path) -> None:
    run, lines = make(tmp_path)
    bin_dir = Path(run.where.bin_dir)
    bin_dir.mkdir(parents=True)
    (bin_dir / "omniclaude-consumer").write_text("#!/bin/sh\n")  # someone else's
    run.link_commands()
    assert os.readlink(bin_dir / "omniclaude") == os.path.join(run.where.venv, "bin", "omniclaude")
    assert (bin_dir / "omniclaude-consumer").read_text() == "#!/bin/sh\n"
    assert any("left alone" in line for line in lines)
    assert any(f'export PATH="{bin_dir}:$PATH"' in line for line in lines)
    lines.clear()
    run.link_commands()
    assert any(line.strip().startswith("unchanged") for line in lines)
    run.unlink_commands()
    assert sorted(p.name for p in bin_dir.iterdir()) == ["omniclaude-consumer"]


def test_dry_run_touches_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    status = installer.main(
        ["--dry-run", "--topic-prefix", "x", "--pip-args", "--no-index"], {"HOME": str(home), "PATH": ""}
    )
    assert status == 0
    assert list(home.iterdir()) == []
