"""The installer: every step install.sh takes, as one typed module (install.sh only finds a Python).

Run as `python -m omniclaude.installer [OPTIONS]` by install.sh, with the base interpreter and this
checkout's lib/ first on sys.path: the standard library only, since the venv does not exist yet.

Install: writes the settings files, creates the venv and pip-installs the checkout into it, records the
venv's python (the interpreter the hooks run), builds the plugin folder (only what the plugin needs at run
time, under the data dir), links `omniclaude` and `omniclaude-consumer` into the user's bin dir, registers
the plugin folder with Claude Code (or updates Claude Code's copy when the folder changed), runs doctor.
Uninstall reverses each step. A run with nothing to do changes no file; `--dry-run` changes nothing.

Every path depends on `platform` (default `sys.platform`), so the Windows layout can be computed and
tested anywhere. Exit status: 0 done, 1 a step failed (the message says which and what to do), 2 usage.
"""

from __future__ import annotations

import argparse
import ntpath
import os
import posixpath
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from omniclaude.config import CONFIG_FILE, FIELDS, SECRETS_FILE, Field, load_settings_or_defaults, parse_env_file
from omniclaude.envfile import edit, shown, template
from omniclaude.paths import Dirs, resolve_dirs
from omniclaude.plugin_folder import (
    MANIFEST,
    MARKETPLACE,
    PLUGIN_ID,
    has_plugin,
    is_json_list,
    marketplace_path,
    plugin_files,
    plugin_version,
    read_bytes,
    source_hash,
    stamp_manifest,
    tree_files,
)
from omniclaude.plugin_hooks import HOOKS_JSON, hooks_json_for

COMMANDS = ("omniclaude", "omniclaude-consumer")
FLUSH_TIMEOUT = 60
STOP_TIMEOUT = 15.0
MANAGED: tuple[Field, ...] = tuple(f for f in FIELDS if f.option)


class InstallError(Exception):
    """A step failed; the message says which and what to do (exit 1)."""


class UsageError(Exception):
    """The command line is wrong (exit 2)."""


# -- where things go -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Every path the installer writes, for one user and platform."""

    dirs: Dirs
    venv: str
    venv_python: str
    venv_scripts: str
    record: str
    stamp: str
    plugin: str
    bin_dir: str
    links: dict[str, str]  # link path -> what it points to
    omniclaude: str  # the venv's omniclaude command


def layout(environ: Mapping[str, str], platform: str = sys.platform) -> Layout:
    """Returns where everything goes; pure (reads only `environ`)."""
    dirs = resolve_dirs(environ, platform)
    windows = platform == "win32"
    join = ntpath.join if windows else posixpath.join
    venv = join(dirs.data, "venv")
    scripts = join(venv, "Scripts" if windows else "bin")
    home = environ.get("HOME") or environ.get("USERPROFILE") or os.path.expanduser("~")
    bin_dir = join(home, ".local", "bin")  # where pipx links its commands, on every platform
    if windows:
        links = {join(bin_dir, f"{name}.cmd"): join(scripts, f"{name}.exe") for name in COMMANDS}
    else:
        links = {join(bin_dir, name): join(scripts, name) for name in COMMANDS}
    return Layout(
        dirs=dirs,
        venv=venv,
        venv_python=join(scripts, "python.exe" if windows else "python"),
        venv_scripts=scripts,
        record=join(dirs.data, "python"),
        stamp=join(venv, ".omniclaude-install-stamp"),
        plugin=join(dirs.data, "plugin"),
        bin_dir=bin_dir,
        links=links,
        omniclaude=join(scripts, "omniclaude.exe" if windows else "omniclaude"),
    )


def link_text(target: str, platform: str = sys.platform) -> str | None:
    """The content of a command link on platforms without symlinks for users (Windows: a .cmd file)."""
    return f'@"{target}" %*\r\n' if platform == "win32" else None


def path_line(bin_dir: str, environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """None when `bin_dir` is on PATH, else the exact line that puts it there, for the user's shell."""
    sep = ";" if platform == "win32" else ":"
    normal = ntpath.normcase if platform == "win32" else posixpath.normpath
    if any(normal(entry) == normal(bin_dir) for entry in environ.get("PATH", "").split(sep) if entry):
        return None
    if platform == "win32":
        return f'[Environment]::SetEnvironmentVariable("Path", "{bin_dir};" + $env:Path, "User")'
    shell = posixpath.basename(environ.get("SHELL", ""))
    if shell == "fish":
        return f"fish_add_path {bin_dir}   # in ~/.config/fish/config.fish"
    rc = {"zsh": "~/.zshrc", "bash": "~/.bashrc"}.get(shell, "~/.profile")
    return f'export PATH="{bin_dir}:$PATH"   # in {rc}'


# -- the command line --------------------------------------------------------------------------------------


@dataclass
class Options:
    """What the command line asked for."""

    flags: dict[str, str] = field(default_factory=dict)  # setting name -> value ("" removes it)
    python: str = ""
    pip_args: str = ""
    reset_config: bool = False
    dry_run: bool = False
    uninstall: bool = False
    keep_data: bool = False
    local_stack: bool = False
    help: bool = False


def help_text(prog: str = "./install.sh") -> str:
    """install.sh's --help; the settings part is derived from the settings declaration."""
    width = max(len(f"{f.flag} {f.option}") for f in MANAGED) + 2
    settings = []
    for f in MANAGED:
        notes = []
        if f.choices:
            notes.append(f"{', '.join(f.choices)}")
        if f.default is not None:
            notes.append(f"default {f.default}")
        if f.secret:
            notes.append("secret, kept in secrets.env")
        text = f"  {f.flag} {f.option}".ljust(width + 2) + "; ".join(notes)
        settings.append(f"{text}  [{f.env}]".replace("    [", "  ["))
    return f"""\
Usage: {prog} [SETTINGS] [--local-stack] [--python PATH] [--pip-args ARGS] [--reset-config] [--dry-run]
       {prog} --uninstall [--keep-data] [--dry-run]

Installs omniclaude for the current user from this checkout, without sudo:
  1. checks for Python >= 3.10 with its venv module (python3 on PATH, or --python PATH);
  2. writes the settings to <config dir>/config.env and the secrets (Kafka SASL password, database
     URL) to <config dir>/secrets.env (both mode 0600, the config dir 0700);
  3. creates a virtual environment in <data dir>/venv and pip-installs this checkout into it (skipped
     when the checkout's package sources and pyproject.toml are unchanged since the last install);
  4. records that venv's python in <data dir>/python: the interpreter the hooks run;
  5. builds the plugin folder <data dir>/plugin (the hooks, the skills and the code they import, and
     nothing else of the checkout);
  6. links the commands omniclaude and omniclaude-consumer into ~/.local/bin (and prints the line that
     puts that folder on PATH when it is not);
  7. registers the plugin folder with Claude Code when `claude` is on PATH (claude plugin marketplace add
     <data dir>/plugin, claude plugin install {PLUGIN_ID}, at user scope; when the folder changed,
     claude plugin marketplace update + claude plugin update), or prints those commands to run later;
  8. runs `omniclaude doctor` and shows its report (its warnings and failures do not fail the install).
A second run changes nothing unless something changed. Kafka is optional: without it, capture works and
events wait in the local spool until Kafka is configured.

Directories: with OMNICLAUDE_HOME set, $OMNICLAUDE_HOME/{{state,config,data}}; else on Linux
${{XDG_CONFIG_HOME:-~/.config}}/omniclaude, ${{XDG_DATA_HOME:-~/.local/share}}/omniclaude and
${{XDG_STATE_HOME:-~/.local/state}}/omniclaude (the spool); on macOS ~/Library/Application Support/omniclaude.

Settings (each flag's environment variable is in brackets):
{chr(10).join(settings)}
How they are merged into the files:
  - a flag replaces the value in the files; a flag with an empty value (--topic-prefix '') removes it;
  - an OMNICLAUDE_* environment variable only fills a setting the files do not have yet;
  - everything else in the files (your comments, settings you added by hand) is kept;
  - --reset-config starts both files from scratch, then applies the flags and the environment.
  A file is rewritten only when its content changes. Secrets are never printed (shown as ***). A flag's
  value is visible to other local users in the process list: pass secrets through the environment.
  SSL file paths are stored as absolute paths.

Other options:
  --local-stack     then run `omniclaude stack up`: a local Kafka, PostgreSQL and consumer, with the
                    settings pointed at them (needs Java 17+ and the PostgreSQL server binaries);
                    --uninstall stops it and removes its data (unless --keep-data)
  --python PATH     the Python (>= 3.10) to create the virtual environment with (default: python3)
  --pip-args ARGS   extra arguments for pip install, split on spaces (e.g. "--no-index --find-links DIR")
  --reset-config    rewrite config.env and secrets.env from scratch (see above)
  --dry-run         print every step it would take, and change nothing
  --uninstall       undo every step: unregister the plugin (claude plugin uninstall, claude plugin
                    marketplace remove), flush the spool to Kafka when Kafka is configured (omniclaude
                    flush; a failure is reported, not fatal), then remove the state dir with the spool,
                    the venv, the plugin folder, the command links, the interpreter record, config.env
                    and secrets.env, and every omniclaude dir left empty
  --keep-data       with --uninstall: keep the state dir (the spool and the events in it)
  -h, --help        show this help

Exit status: 0 done; 1 a step failed (the message says which and what to do); 2 usage error.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parse_args(argv: Sequence[str]) -> Options:
    """Parses install.sh's arguments; raises UsageError with a one-line reason."""
    parser = _Parser(add_help=False, allow_abbrev=False)
    for f in MANAGED:
        parser.add_argument(f.flag, dest=f"setting_{f.name}", metavar=f.option)
    parser.add_argument("--python", default="")
    parser.add_argument("--pip-args", default="")
    for name in ("--reset-config", "--dry-run", "--uninstall", "--keep-data", "--local-stack"):
        parser.add_argument(name, action="store_true")
    parser.add_argument("-h", "--help", action="store_true")
    valued = {f.flag for f in MANAGED} | {"--python", "--pip-args"}
    joined: list[str] = []
    args = iter(argv)
    for arg in args:  # the word after an option is its value, even when it starts with "-"
        name = arg.partition("=")[0]
        if "=" in arg and name in (
            "--reset-config",
            "--dry-run",
            "--uninstall",
            "--keep-data",
            "--local-stack",
            "--help",
        ):
            raise UsageError(f"{name} takes no value")
        if arg in valued:
            value = next(args, None)
            if value is None:
                raise UsageError(f"{arg} needs a value")
            joined.append(f"{arg}={value}")
        else:
            joined.append(arg)
    ns = parser.parse_args(joined)
    flags = {f.name: value for f in MANAGED if (value := getattr(ns, f"setting_{f.name}")) is not None}
    options = Options(
        flags=flags,
        python=ns.python,
        pip_args=ns.pip_args,
        reset_config=ns.reset_config,
        dry_run=ns.dry_run,
        uninstall=ns.uninstall,
        keep_data=ns.keep_data,
        local_stack=ns.local_stack,
        help=ns.help,
    )
    if options.keep_data and not options.uninstall:
        raise UsageError("--keep-data goes with --uninstall")
    if options.uninstall and (options.reset_config or options.pip_args or options.flags or options.local_stack):
        raise UsageError("--uninstall takes only --keep-data and --dry-run")
    return options


# -- the settings files ------------------------------------------------------------------------------------


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def wanted_values(
    options: Options, present: Mapping[str, str], environ: Mapping[str, str], cwd: str
) -> tuple[dict[Field, str | None], list[str]]:
    """The settings to change ({field: value, None to remove}) and notes to print; UsageError when a
    value is not allowed."""
    wanted: dict[Field, str | None] = {}
    notes: list[str] = []
    for f in MANAGED:
        flag = options.flags.get(f.name)
        from_env = environ.get(f.env)
        if flag is not None:
            value, origin = flag, f.flag
        elif from_env and f.env not in present:
            value, origin = from_env, f.env
        else:
            if from_env and present.get(f.env) != from_env:
                notes.append(
                    f"    kept {f.env}={shown(f, present[f.env])} from the file: the environment only "
                    f"fills settings the file lacks (pass {f.flag} to replace it)"
                )
            continue
        if value and f.choices and value not in f.choices:
            raise UsageError(f"{origin} must be one of {', '.join(f.choices)}")
        if value and f.option == "FILE":
            value = os.path.normpath(os.path.join(cwd, os.path.expanduser(value)))
            if not os.path.isfile(value):
                notes.append(f"    warning: {f.env}: {value} does not exist")
        wanted[f] = value or None
    return wanted, notes


# -- running it ----------------------------------------------------------------------------------------------


@dataclass
class Installer:
    """One run of install.sh: the options, the environment, the paths, and where it prints."""

    options: Options
    environ: dict[str, str]
    repo: str
    platform: str = sys.platform
    out: Callable[[str], None] = print
    python: str = sys.executable
    cwd: str = field(default_factory=os.getcwd)
    plugin_failed: bool = False
    stack_failed: bool = False

    def __post_init__(self) -> None:
        self.where = layout(self.environ, self.platform)
        self.dry = self.options.dry_run

    # -- printing and doing ---------------------------------------------------------------------------

    def step(self, text: str) -> None:
        self.out(f"==> {text}")

    def say(self, text: str) -> None:
        self.out(f"    {text}")

    def run(self, *command: str, check: bool = False, quiet: bool = False) -> subprocess.CompletedProcess[str] | None:
        """Prints `command` and runs it (its output goes through), or only prints it with --dry-run.
        Returns None on a dry run; raises OSError when it cannot start."""
        self.say(f"{'would run' if self.dry else 'running'}: {' '.join(command)}")
        if self.dry:
            return None
        done = subprocess.run(list(command), env=self.environ, text=True, check=False, capture_output=quiet)
        if check and done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, command)
        return done

    def capture(self, *command: str) -> str | None:
        """The stdout of a read-only command, None when it failed."""
        try:
            done = subprocess.run(
                list(command), env=self.environ, capture_output=True, text=True, check=False, timeout=120
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    def remove(self, path: str, what: str) -> None:
        if os.path.lexists(path):
            if self.dry:
                self.say(f"would remove {what} {path}")
                return
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            self.say(f"removed {what} {path}")

    def remove_if_empty(self, path: str) -> None:
        if os.path.isdir(path) and not os.listdir(path):
            if self.dry:
                self.say(f"would remove the empty folder {path}")
            else:
                os.rmdir(path)
                self.say(f"removed the empty folder {path}")

    def make_private_dir(self, path: str) -> None:
        if not os.path.isdir(path) and not self.dry:
            os.makedirs(path, mode=0o700)
            os.chmod(path, 0o700)

    # -- install steps ------------------------------------------------------------------------------------

    def write_config(self) -> None:
        config_dir = self.where.dirs.config
        self.step(f"settings: {config_dir}")
        paths = {False: os.path.join(config_dir, CONFIG_FILE), True: os.path.join(config_dir, SECRETS_FILE)}
        texts = {kind: None if self.options.reset_config else read_text(path) for kind, path in paths.items()}
        present: dict[str, str] = {}
        for kind in (False, True):
            present.update(parse_env_file(texts[kind] or ""))
        wanted, notes = wanted_values(self.options, present, self.environ, self.cwd)
        lines = {kind: template(kind, MANAGED) if text is None else text.splitlines() for kind, text in texts.items()}
        changes = []
        for f, value in wanted.items():
            placeholder = f"# {f.env}={'' if f.default is None else f.default}"
            try:
                lines[f.secret] = edit(lines[f.secret], f.env, value, placeholder)
            except ValueError as exc:  # a value no settings file can hold
                raise UsageError(str(exc)) from None
            lines[not f.secret] = edit(lines[not f.secret], f.env, None)  # the other file must not override it
            before = present.get(f.env)
            if value is None and before is not None:
                changes.append(f"    removed {f.env}")
            elif value is not None and value != before:
                changes.append(f"    set {f.env}={shown(f, value)}")
        if not os.path.isdir(config_dir):
            self.say(f"{'would create' if self.dry else 'created'} {config_dir} (mode 0700)")
            self.make_private_dir(config_dir)
        elif self.platform != "win32" and os.stat(config_dir).st_mode & 0o777 != 0o700:
            self.say(f"{'would set' if self.dry else 'set'} the mode of {config_dir} to 0700")
            if not self.dry:
                os.chmod(config_dir, 0o700)
        for kind, path in paths.items():
            existed = os.path.exists(path)
            if self.write_private(path, "\n".join(lines[kind]) + "\n"):
                verb = "update" if existed else "create"
                self.say(f"{'would ' + verb if self.dry else verb + 'd'} {path}")
            else:
                self.say(f"unchanged {path}")
        for line in changes + notes:
            self.out(line)

    def write_private(self, path: str, text: str) -> bool:
        """Writes `text` to `path` (mode 0600, atomically) unless it holds it already; True if it (would
        have) changed the content. A wrong mode is repaired either way."""
        try:
            mode: int | None = os.stat(path).st_mode & 0o777
        except OSError:
            mode = None
        if read_text(path) == text:
            if mode is not None and mode != 0o600 and self.platform != "win32":
                self.say(f"{'would set' if self.dry else 'set'} the mode of {path} to 0600 (was {mode:04o})")
                if not self.dry:
                    os.chmod(path, 0o600)
            return False
        if not self.dry:
            tmp = f"{path}.tmp{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        return True

    def make_venv(self) -> None:
        venv, python = self.where.venv, self.where.venv_python
        if os.access(python, os.X_OK) and self.capture(python, "-c", VERSION_CHECK) is not None:
            self.step(f"venv: {venv} (exists)")
            return
        if os.path.lexists(venv):
            self.step(f"venv: {venv} is broken (its python does not run): recreating it")
            self.remove(venv, "the broken venv")
        else:
            self.step(f"venv: creating {venv}")
        if self.dry:
            self.say(f"would run: {self.python} -m venv {venv}")
            return
        self.make_private_dir(self.where.dirs.data)
        if subprocess.run([self.python, "-m", "venv", venv], env=self.environ, check=False).returncode != 0:
            raise InstallError(
                "creating the venv failed; if the message above mentions ensurepip, install "
                "python3-venv (Debian/Ubuntu: apt-get install python3-venv)"
            )

    def install_package(self) -> None:
        want = source_hash(self.repo)
        stamp = self.where.stamp
        command = self.where.omniclaude
        if read_text(stamp) == f"{want}\n" and os.access(command, os.X_OK):
            self.step("omniclaude: up to date in the venv (the checkout is unchanged since the last install)")
            return
        self.step(f"omniclaude: installing {self.repo} into the venv")
        done = self.run(
            self.where.venv_python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            *self.options.pip_args.split(),
            self.repo,
        )
        if done is None:
            return
        if done.returncode != 0:
            raise InstallError(
                "pip install failed (see above); nothing was recorded: fix the cause and run install.sh again"
            )
        replace_text(stamp, f"{want}\n", 0o644)

    def record_python(self) -> None:
        record, python = self.where.record, self.where.venv_python
        if read_text(record) == f"{python}\n":
            self.step(f"interpreter: {record} names {python} (unchanged)")
            return
        self.step(f"interpreter: recording {python} in {record}")
        if not self.dry:
            replace_text(record, f"{python}\n", 0o644)

    def build_plugin(self) -> bool:
        """Builds or refreshes the plugin folder; True when its content changed."""
        target = self.where.plugin
        wanted = plugin_files(self.repo)
        version = plugin_version(self.repo, wanted)
        have = tree_files(target) if os.path.isdir(target) else None
        rendered = {rel: read_bytes(src) for rel, src in wanted.items()}
        rendered[MANIFEST] = stamp_manifest(rendered[MANIFEST], version)
        hooks = rendered[HOOKS_JSON].decode("utf-8")
        rendered[HOOKS_JSON] = hooks_json_for(hooks, self.platform, self.where.venv_python).encode("utf-8")
        current = {rel: read_bytes(os.path.join(target, rel)) for rel in have} if have is not None else None
        if current == rendered:
            self.step(f"plugin: {target} holds omniclaude {version} (unchanged)")
            return False
        self.step(f"plugin: {'building' if current is None else 'updating'} {target} (omniclaude {version})")
        if self.dry:
            self.say(f"would write {len(rendered)} files")
            return True
        self.make_private_dir(self.where.dirs.data)
        staging = f"{target}.new{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        for rel, data in rendered.items():
            path = os.path.join(staging, *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
            src = wanted[rel]
            os.chmod(path, 0o755 if os.access(src, os.X_OK) else 0o644)
        old = f"{target}.old{os.getpid()}"
        if os.path.isdir(target):
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
        self.say(f"wrote {len(rendered)} files")
        return True

    def link_commands(self) -> None:
        bin_dir = self.where.bin_dir
        self.step(f"commands: {', '.join(COMMANDS)} in {bin_dir}")
        for link, target in self.where.links.items():
            text = link_text(target, self.platform)
            if text is None and os.path.islink(link) and os.readlink(link) == target:
                self.say(f"unchanged {link}")
                continue
            if text is not None and read_text(link) == text:
                self.say(f"unchanged {link}")
                continue
            if os.path.lexists(link) and not self.ours(link):
                self.say(f"left alone {link}: it is not omniclaude's (remove it, then run install.sh again)")
                continue
            self.say(f"{'would link' if self.dry else 'linked'} {link} -> {target}")
            if self.dry:
                continue
            os.makedirs(bin_dir, exist_ok=True)
            if os.path.lexists(link):
                os.remove(link)
            if text is None:
                os.symlink(target, link)
            else:
                replace_text(link, text, 0o755)
        line = path_line(bin_dir, self.environ, self.platform)
        if line is not None:
            self.say(f"{bin_dir} is not on PATH; add this line to your shell's startup file:")
            self.say(f"  {line}")

    def ours(self, link: str) -> bool:
        """True when `link` is a command link this installer made (for this or an earlier venv)."""
        if os.path.islink(link):
            return os.readlink(link).startswith(self.where.venv)
        text = read_text(link) if os.path.isfile(link) else None
        return text is not None and self.where.venv in text

    def claude(self) -> str | None:
        return shutil.which("claude", path=self.environ.get("PATH", ""))

    def print_register_commands(self) -> None:
        self.say(f"claude plugin marketplace add '{self.where.plugin}'")
        self.say(f"claude plugin install {PLUGIN_ID}")

    def register_plugin(self, changed: bool) -> None:
        claude = self.claude()
        plugin = self.where.plugin
        if claude is None:
            self.step("claude: not on PATH; to register the plugin with Claude Code later, run:")
            self.print_register_commands()
            return
        self.step(f"claude: registering the plugin with {claude}")
        if self.dry:
            self.say(
                f"would run (unless the marketplace is already added from {plugin}): "
                f"{claude} plugin marketplace add {plugin}"
            )
            self.say(f"would run (unless it is already installed): {claude} plugin install {PLUGIN_ID}")
            return
        current = marketplace_path(self.capture(claude, "plugin", "marketplace", "list", "--json"), MARKETPLACE)
        if current == plugin:
            if changed:
                self.plugin_failed |= not ok(self.run(claude, "plugin", "marketplace", "update", MARKETPLACE))
            else:
                self.say(f"marketplace {MARKETPLACE} already added from {plugin}")
        else:
            if current:  # added from elsewhere (an older install registered the checkout): move it here
                self.run(claude, "plugin", "marketplace", "remove", MARKETPLACE)
            self.plugin_failed |= not ok(self.run(claude, "plugin", "marketplace", "add", plugin))
        if not self.plugin_failed:
            listed = has_plugin(self.capture(claude, "plugin", "list", "--json"), PLUGIN_ID)
            if listed is True and not changed:
                self.say(f"plugin {PLUGIN_ID} already installed")
            elif listed is True:
                self.plugin_failed |= not ok(self.run(claude, "plugin", "update", PLUGIN_ID))
            else:
                self.plugin_failed |= not ok(self.run(claude, "plugin", "install", PLUGIN_ID))
        if self.plugin_failed:
            self.say("registering the plugin failed (see above); to retry by hand, run:")
            self.print_register_commands()

    def start_local_stack(self) -> None:
        """--local-stack: `omniclaude stack up`, which says itself what is missing (java, PostgreSQL)."""
        self.step("local stack: starting it")
        done = self.run(self.where.omniclaude, "stack", "up")
        self.stack_failed = not ok(done)

    def stop_local_stack(self) -> None:
        """--uninstall: `omniclaude stack down` (with --purge unless --keep-data) when there is a stack."""
        stack = os.path.join(self.where.dirs.data, "stack")
        if not os.path.isdir(stack) or not os.access(self.where.omniclaude, os.X_OK):
            return
        self.step("local stack: stopping it")
        purge = () if self.options.keep_data else ("--purge",)
        if not ok(self.run(self.where.omniclaude, "stack", "down", *purge)):
            self.say("warning: omniclaude stack down failed (see above)")

    def run_doctor(self) -> None:
        command = self.where.omniclaude
        self.step(f"doctor: {command} doctor")
        if self.dry:
            self.say(f"would run: {command} doctor --plugin-root {self.where.plugin}")
            return
        try:
            done = subprocess.run(
                [command, "doctor", "--plugin-root", self.where.plugin],
                env=self.environ,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            self.say(f"doctor did not run: {exc}")
            return
        for line in (done.stdout + done.stderr).splitlines():
            self.say(line)
        if done.returncode != 0:
            self.say(
                f"doctor reported a failure (exit {done.returncode}): the install itself is complete; "
                "see the fixes above"
            )

    def install(self) -> int:
        if self.dry:
            self.step("dry run: nothing will be changed")
        self.write_config()
        self.make_venv()
        self.install_package()
        self.record_python()
        changed = self.build_plugin()
        self.link_commands()
        self.register_plugin(changed)
        if self.options.local_stack:
            self.start_local_stack()
        self.run_doctor()
        if self.dry:
            self.step("dry run complete: nothing was changed")
        elif self.stack_failed:
            raise InstallError(
                "installed, and capture into the spool works, but the local stack did not start "
                f"(see above); then run: {self.where.omniclaude} stack up"
            )
        elif self.plugin_failed:
            raise InstallError("installed, but the plugin is not registered with Claude Code (see above)")
        else:
            self.step(f"done: hooks record into {self.where.dirs.spool}")
        return 0

    # -- uninstall steps ---------------------------------------------------------------------------------

    def unregister_plugin(self) -> None:
        claude = self.claude()
        if claude is None:
            self.step("claude: not on PATH; if the plugin was registered, remove it later with:")
            self.say(f"claude plugin uninstall {PLUGIN_ID}")
            self.say(f"claude plugin marketplace remove {MARKETPLACE}")
            return
        self.step(f"claude: unregistering the plugin with {claude}")
        if self.dry:
            self.say(f"would run (if it is installed): {claude} plugin uninstall {PLUGIN_ID}")
            self.say(f"would run (if it is added): {claude} plugin marketplace remove {MARKETPLACE}")
            return
        # A listing that is not JSON (an older claude): try anyway, and let a "not found" error pass.
        if has_plugin(self.capture(claude, "plugin", "list", "--json"), PLUGIN_ID) is False:
            self.say(f"plugin {PLUGIN_ID} is not installed")
        elif not ok(self.run(claude, "plugin", "uninstall", PLUGIN_ID)):
            self.say("warning: claude plugin uninstall failed (see above)")
        listing = self.capture(claude, "plugin", "marketplace", "list", "--json")
        if marketplace_path(listing, MARKETPLACE) == "" and is_json_list(listing):
            self.say(f"marketplace {MARKETPLACE} is not added")
        elif not ok(self.run(claude, "plugin", "marketplace", "remove", MARKETPLACE)):
            self.say("warning: claude plugin marketplace remove failed (see above)")

    def stop_forwarder(self) -> None:
        """Stops the forwarder holding the spool's lock (SIGTERM, then up to 15 s), so nothing runs from a
        removed venv or writes into a removed spool."""
        self.step("forwarder: stopping it if one runs")
        spool = self.where.dirs.spool
        try:
            from omniclaude.launcher import forwarder_running
        except ImportError:  # no fcntl (Windows): the forwarder stops by itself when idle
            return
        if not os.path.isdir(spool) or not forwarder_running(spool):
            self.say("none runs")
            return
        pid = forwarder_pid(spool)
        if pid is None:
            self.say(f"a forwarder holds {spool}, but its pid is unknown: it stops by itself when idle")
            return
        if self.dry:
            self.say(f"would stop the running forwarder (pid {pid})")
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError as exc:
            self.say(f"warning: could not stop the running forwarder (pid {pid}): {exc}")
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while forwarder_running(spool) and time.monotonic() < deadline:
            time.sleep(0.1)
        state = "stopped" if not forwarder_running(spool) else "asked to stop (it is still finishing a batch)"
        self.say(f"{state}: the running forwarder (pid {pid})")

    def flush_spool(self) -> None:
        spool = self.where.dirs.spool
        count = pending_events(spool)
        if count == 0:
            return
        if not load_settings_or_defaults(self.environ).kafka_configured:
            self.step(f"spool: {count} event(s) pending and Kafka is not configured: they are removed with the spool")
            return
        command = self.where.omniclaude
        if not os.access(command, os.X_OK):
            self.step(
                f"spool: {count} event(s) pending, but the venv is gone, so they cannot be flushed: they are removed"
            )
            return
        self.step(f"spool: flushing {count} pending event(s) to Kafka before removing it")
        if self.dry:
            self.say(f"would run: {command} flush --spool {spool} --timeout {FLUSH_TIMEOUT}")
            return
        # A broker that is down would hold the flush for its whole timeout: ask doctor's Kafka check first.
        probe = subprocess.run(
            [self.where.venv_python, "-c", KAFKA_PROBE], env=self.environ, capture_output=True, text=True, check=False
        )
        if probe.returncode == 3:
            self.say(f"not flushed: Kafka is unreachable ({probe.stdout.strip()})")
            self.say(f"the {count} pending event(s) are removed with the spool (to keep them: --uninstall --keep-data)")
            return
        done = subprocess.run(
            [command, "flush", "--spool", spool, "--timeout", str(FLUSH_TIMEOUT)],
            env=self.environ,
            capture_output=True,
            text=True,
            check=False,
        )
        for line in (done.stdout + done.stderr).splitlines():
            if not (len(line) > 11 and line[:4].isdigit() and line[4] == "-" and line[10] == " "):
                self.say(line)  # flush's own lines, not the client library's timestamped log lines
        if done.returncode != 0:
            self.say(
                f"the flush failed (exit {done.returncode}): what is still pending is removed with the "
                "spool (to keep it: --uninstall --keep-data)"
            )

    def unlink_commands(self) -> None:
        self.step(f"commands: removing the links in {self.where.bin_dir}")
        for link in self.where.links:
            if os.path.lexists(link) and self.ours(link):
                self.remove(link, "the command link")

    def uninstall(self) -> int:
        dirs = self.where.dirs
        if self.dry:
            self.step("dry run: nothing will be changed")
        self.unregister_plugin()
        self.stop_local_stack()
        self.stop_forwarder()
        if self.options.keep_data:
            self.step(f"state: keeping {dirs.state} (the spool; --keep-data)")
        else:
            self.flush_spool()
            if os.path.lexists(dirs.state):
                self.step(f"state: removing {dirs.state}")
                self.remove(dirs.state, "the state dir (spool)")
            else:
                self.step(f"state: nothing at {dirs.state}")
        self.unlink_commands()
        self.step("data: removing the venv, the plugin folder and the interpreter record")
        self.remove(self.where.venv, "the venv")
        self.remove(self.where.plugin, "the plugin folder")
        self.remove(self.where.record, "the interpreter record")
        self.step("settings: removing config.env and secrets.env")
        self.remove(os.path.join(dirs.config, CONFIG_FILE), "the settings file")
        self.remove(os.path.join(dirs.config, SECRETS_FILE), "the secrets file")
        for path in dict.fromkeys((dirs.config, dirs.data, dirs.state, dirs.cache)):
            self.remove_if_empty(path)
        if self.environ.get("OMNICLAUDE_HOME", "").strip():
            self.remove_if_empty(os.path.dirname(dirs.state))
        if not self.dry:
            for path in dict.fromkeys((dirs.config, dirs.data)):
                if os.path.isdir(path) and (path != dirs.state or not self.options.keep_data):
                    self.say(f"kept {path}: it holds files omniclaude did not put there")
        self.step("dry run complete: nothing was changed" if self.dry else "done: omniclaude is uninstalled")
        return 0


VERSION_CHECK = "import sys; sys.exit(sys.version_info < (3, 10))"
KAFKA_PROBE = """import sys
from omniclaude.config import load_settings_or_defaults
from omniclaude.doctor import check_kafka
check = check_kafka(load_settings_or_defaults())
print(check.detail)
sys.exit(3 if check.status == "fail" else 0)"""


# -- small pure helpers ----------------------------------------------------------------------------------


def ok(done: subprocess.CompletedProcess[str] | None) -> bool:
    return done is None or done.returncode == 0


def replace_text(path: str, text: str, mode: int) -> None:
    """Writes `text` to `path` atomically with `mode`."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def pending_events(spool: str) -> int:
    if not os.path.isdir(spool):
        return 0
    try:
        from omniclaude.spool import SpoolReader

        return SpoolReader(spool).pending()[0]
    except (ImportError, OSError):
        return 0


def forwarder_pid(spool: str) -> int | None:
    """The pid of the forwarder that holds the spool, when its state file names an omniclaude forwarder."""
    from omniclaude.forwarder.state import read_state

    pid = read_state(spool).get("pid")
    if not isinstance(pid, int) or pid <= 1:
        return None
    try:
        args = subprocess.run(["ps", "-p", str(pid), "-o", "args="], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    return pid if "omniclaude" in args and "forward" in args else None


# -- entry point ----------------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    repo: str | None = None,
) -> int:
    """Runs install.sh's work; returns the exit status. Errors print one line on stderr."""
    prog = "install.ps1" if platform == "win32" else "install.sh"
    env = dict(os.environ if environ is None else environ)
    checkout = repo or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
        if options.help:
            print(help_text(f"./{prog}"), end="")
            return 0
        installer = Installer(options, env, checkout, platform)
        installer.step(f"python: {sys.executable} (Python {'.'.join(map(str, sys.version_info[:3]))})")
        return installer.uninstall() if options.uninstall else installer.install()
    except UsageError as exc:
        print(f"{prog}: {exc} (see ./{prog} --help)", file=sys.stderr)
        return 2
    except InstallError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
