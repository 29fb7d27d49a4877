"""`omniclaude doctor`'s checks, as a library: each check is one small function returning a `Check`.

Contract:
- A check returns `Check(name, status, detail, fix)`: status `ok`, `warn` or `fail`; `fix` says what to do
  (None when there is nothing to do). `run_checks` runs them in order and turns an unexpected exception
  into a `fail` naming it, so one broken check never hides the others.
- Nothing here prints, and no secret leaves it: URLs are shown with their password masked, and error
  texts are scrubbed of the configured passwords.
- Read-only, but for the hook latency sample, which runs the real hook command into a throw-away
  `OMNICLAUDE_HOME` (a temporary directory, removed afterwards); the user's spool is never touched.
- Every wait is bounded: the Kafka admin client, the database connection and the health request give
  up after about three seconds, a subprocess after `SUBPROCESS_TIMEOUT_S`.
- Importing this module loads the standard library only: kafka, psycopg and httpx are imported inside
  the checks that use them.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from omniclaude.config import SECRETS_FILE, Settings, config_paths, env_name
from omniclaude.logger import spool_safety, unspooled_path
from omniclaude.masking import configured_secrets, mask_url, scrub
from omniclaude.plugin_folder import MARKETPLACE, PLUGIN_ID, PLUGIN_NAME
from omniclaude.spool import QUARANTINE_NAME, SpoolReader, list_segments, quarantined_lines

Status = Literal["ok", "warn", "fail"]
OK: Status = "ok"
WARN: Status = "warn"
FAIL: Status = "fail"

MIN_PYTHON = (3, 10)
HOOK_BUDGET_MS = 100.0
HOOK_SAMPLE_EVENT = "Stop"
KAFKA_TIMEOUT_MS = 3000
DATABASE_TIMEOUT_S = 3
HEALTH_TIMEOUT_S = 3.0
SUBPROCESS_TIMEOUT_S = 30.0

__all__ = [
    "FAIL",
    "OK",
    "PLUGIN_ID",
    "WARN",
    "Check",
    "PluginListing",
    "check_config",
    "check_consumer",
    "check_database",
    "check_hook_latency",
    "check_interpreter",
    "check_kafka",
    "check_plugin",
    "check_spool",
    "check_stack",
    "check_usage",
    "exec_hook",
    "find_plugin_root",
    "format_check",
    "hooks_python",
    "list_plugins",
    "register_commands",
    "run_checks",
]


@dataclass(frozen=True)
class Check:
    """The outcome of one check: `status` is ok, warn or fail; `fix` is what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The check as a JSON-ready dict."""
        return asdict(self)


def format_check(check: Check) -> str:
    """One line for a check: status, name, detail and, unless it is ok, the fix."""
    line = f"{check.status:<4}  {check.name:<11} {check.detail}"
    if check.fix and check.status != OK:
        line += f" -> fix: {check.fix}"
    return line


# -- secrets -------------------------------------------------------------------------------------------


def _scrub(text: str, settings: Settings) -> str:
    """`text` (an error message) without any configured secret or any URL's credentials, on one line."""
    return " ".join(scrub(text, configured_secrets(settings)).split())[:300]


# -- config and interpreter ----------------------------------------------------------------------------


def check_config(settings: Settings, error: Exception | None = None) -> Check:
    """The settings files: readable, valid (`error` is what loading raised), secrets.env private."""
    config_path, secrets_path = config_paths(settings.environ)
    if error is not None:
        return Check(
            "config",
            FAIL,
            f"invalid setting: {error}",
            f"correct it in {config_path}, {secrets_path} or the environment",
        )
    found = [path for path in (config_path, secrets_path) if os.path.exists(path)]
    detail = ", ".join(found) if found else f"no config file ({config_path}): all defaults"
    try:
        mode = os.stat(secrets_path).st_mode & 0o777
    except OSError:
        mode = None
    if mode is not None and mode & 0o077:
        return Check(
            "config", WARN, f"{SECRETS_FILE} is readable by others (mode {mode:04o})", f"chmod 600 '{secrets_path}'"
        )
    return Check("config", OK, detail)


def hooks_python(plugin_root: str | None, settings: Settings) -> tuple[list[str] | None, str]:
    """Returns (the interpreter command the hooks and skills run, or None; where that answer came from).

    Doctor does not guess: it asks the plugin's interpreter shim (`sh hooks/run --which`, with this
    environment), which alone decides. A hooks.json in exec form (what the installer writes on Windows)
    names its interpreter itself, as its `command`.
    """
    if plugin_root is None:
        return None, "the plugin root is unknown"
    try:
        command = exec_hook(plugin_root)
    except (OSError, ValueError):
        command = None
    if command is not None:
        return [command[0]], os.path.join(plugin_root, "hooks", "hooks.json")
    shim = os.path.join(plugin_root, "hooks", "run")
    sh = shutil.which("sh", path=settings.environ.get("PATH", os.defpath))
    if sh is None or not os.path.isfile(shim):
        return None, f"cannot run {shim} (it or sh is missing)"
    try:
        done = subprocess.run(
            [sh, shim, "--which"],
            env=dict(settings.environ),
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"{shim} did not run: {exc}"
    line = done.stdout.strip()
    if done.returncode != 0 or not line:
        return None, f"{shim} found no Python"
    return (["py", "-3"] if line == "py -3" else [line]), f"{shim} --which"


def _python_version(python: list[str]) -> tuple[int, ...] | None:
    code = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
    try:
        done = subprocess.run(
            [*python, "-c", code], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, check=False
        )
        return tuple(int(part) for part in done.stdout.strip().split(".")) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _dotted(version: Sequence[int]) -> str:
    return ".".join(str(part) for part in version)


def check_interpreter(settings: Settings, plugin_root: str | None = None) -> Check:
    """This Python, and the interpreter the hooks and skills run (as `hooks_python` learns it): present,
    recorded by the installer (not a python from PATH), and >= 3.10."""
    running = _dotted(sys.version_info[:3])
    if sys.version_info[:2] < MIN_PYTHON:
        return Check(
            "interpreter",
            FAIL,
            f"doctor runs on Python {running}; omniclaude needs >= 3.10",
            "install Python >= 3.10 and run install.sh again",
        )
    python, source = hooks_python(plugin_root, settings)
    if python is None:
        return Check(
            "interpreter",
            WARN,
            f"cannot tell which Python the hooks run: {source}",
            "run install.sh, or `omniclaude doctor --plugin-root /path/to/omniclaude`",
        )
    shown = " ".join(python)
    version = _python_version(python)
    if version is None:
        return Check(
            "interpreter",
            FAIL,
            f"{shown} (from {source}) does not run",
            "run install.sh again (it recreates the virtual environment)",
        )
    if tuple(version[:2]) < MIN_PYTHON:
        return Check(
            "interpreter",
            FAIL,
            f"{shown} is Python {_dotted(version)}; omniclaude needs >= 3.10",
            "run install.sh --python /path/to/python3.10-or-newer",
        )
    detail = f"hooks run {shown} (Python {_dotted(version)}); doctor runs Python {running}"
    if not os.path.isabs(python[0]):
        return Check(
            "interpreter",
            WARN,
            f"{detail}: found on PATH, no interpreter is recorded",
            "run install.sh (skills then validate, and the forwarder finds its Kafka client)",
        )
    return Check("interpreter", OK, detail)


# -- spool ---------------------------------------------------------------------------------------------


def _nearest_existing(path: str) -> str:
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def check_spool(settings: Settings) -> Check:
    """The spool folder: where it is, that it is safe and (or can be created) writable, and what waits in
    it; the temp-dir fallback spool when used or refused, and events dropped for want of a safe spool."""
    spool = settings.dirs.spool
    safety = spool_safety(settings)
    dropped = f"; {safety.dropped} event(s) were dropped: no safe spool folder" if safety.dropped else ""
    if safety.unsafe:
        more = f" (and {len(safety.unsafe) - 1} more)" if len(safety.unsafe) > 1 else ""
        return Check(
            "spool",
            FAIL,
            f"{safety.unsafe[0]}{more}: not used{dropped}",
            "remove it, or make it yours and private (chown; chmod 700 folders, 600 files); "
            "meanwhile events go to the temp-dir fallback when that is safe",
        )
    check = _primary_spool(settings, spool)
    if check.status == FAIL:
        return check
    if safety.fallback_refused:
        return Check(
            "spool",
            WARN,
            f"{check.detail}; fallback refused: {safety.fallback_refused}{dropped}",
            "remove the folder it names (another user may have made it); omniclaude makes its own",
        )
    if safety.dropped:
        return Check(
            "spool",
            WARN,
            f"{check.detail}{dropped}",
            f"keep the spool folders safe; delete {unspooled_path(settings)} to reset the count",
        )
    if safety.fallback_pending:
        return Check(
            "spool",
            WARN,
            f"{check.detail}; {safety.fallback_pending} event(s) wait in {safety.fallback}",
            "omniclaude flush (it drains the fallback spool too)",
        )
    return check


def _primary_spool(settings: Settings, spool: str) -> Check:
    if not os.path.isdir(spool):
        ancestor = _nearest_existing(os.path.dirname(spool))
        if os.path.isdir(ancestor) and os.access(ancestor, os.W_OK | os.X_OK):
            return Check("spool", OK, f"{spool} (created on the first event)")
        return Check(
            "spool",
            FAIL,
            f"{spool} does not exist and {ancestor} is not writable",
            f"make {ancestor} writable, or set OMNICLAUDE_HOME to a writable folder",
        )
    if not os.access(spool, os.W_OK | os.X_OK):
        return Check(
            "spool",
            FAIL,
            f"{spool} is not writable: events go to a fallback folder",
            f"chmod u+rwx '{spool}' (and check its owner)",
        )
    try:
        events, size, _first = SpoolReader(spool).pending()
    except OSError as exc:
        return Check("spool", FAIL, f"{spool} cannot be read: {exc.strerror or exc}", f"check '{spool}'")
    waiting = f"{events} event(s) pending ({size} bytes)"
    if events and not settings.kafka_configured:
        waiting += ", kept until Kafka is configured"
    quarantine = os.path.join(spool, QUARANTINE_NAME)
    held = quarantined_lines(spool)
    if held:
        return Check(
            "spool",
            WARN,
            f"{spool}: {waiting}; {held} unreadable line(s) quarantined in {quarantine}",
            f"errors.log in {spool} says why each was skipped; delete {QUARANTINE_NAME} once looked at",
        )
    return Check("spool", OK, f"{spool}: {waiting}")


def check_usage(settings: Settings) -> Check:
    """Transcript usage: the price table in force, and transcripts missing, unreadable or malformed."""
    from omniclaude.usage import PriceError, load_prices, summary

    try:
        load_prices(settings.dirs.config)
    except PriceError as exc:
        return Check(
            "usage", FAIL, f"price file ignored: {exc}", "fix or remove that file (`omniclaude prices` shows the table)"
        )
    seen = summary(settings.dirs.state)
    detail = f"{seen['transcripts']} transcript(s) followed, {seen['responses']} response(s) recorded"
    problems = [
        f"{seen[name]} {name.replace('_', ' ')}"
        for name in ("missing_files", "unreadable_files", "malformed_lines", "unknown_model_responses")
        if seen[name]
    ]
    if not problems:
        return Check("usage", OK, detail)
    fix = "check the transcript files named in the last problem"
    if seen["unknown_models"]:
        fix = (
            f"add {', '.join(seen['unknown_models'])} to {os.path.join(settings.dirs.config, 'prices.json')}"
            " (see `omniclaude prices`)"
        )
    last = f"; last: {seen['last_problem']}" if seen["last_problem"] else ""
    return Check("usage", WARN, f"{detail}; {', '.join(problems)}{last}", fix)


# -- the Claude Code plugin ----------------------------------------------------------------------------


def register_commands(plugin_root: str | None) -> str:
    """The two commands that register the plugin with Claude Code, for a fix line."""
    root = plugin_root or "/path/to/omniclaude"
    return f"claude plugin marketplace add '{root}' && claude plugin install {PLUGIN_ID}"


@dataclass(frozen=True)
class PluginListing:
    """What `claude plugin list` said: the installed plugins (JSON entries), or why it could not tell."""

    entries: list[dict[str, Any]] | None
    error: str | None = None
    text: str = ""

    def find(self) -> dict[str, Any] | None:
        """The entry of omniclaude (any marketplace), or None."""
        for entry in self.entries or []:
            plugin_id = str(entry.get("id", ""))
            if plugin_id == PLUGIN_ID or plugin_id.startswith(f"{PLUGIN_NAME}@"):
                return entry
        return None


def _plugin_list(
    claude: str, env: dict[str, str] | None, *flags: str
) -> subprocess.CompletedProcess[str] | PluginListing:
    """Runs `claude plugin list FLAGS`; a PluginListing holding the error when it did not run."""
    try:
        return subprocess.run(
            [claude, "plugin", "list", *flags],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=SUBPROCESS_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return PluginListing(None, f"`claude plugin list` did not run: {exc}")


def list_plugins(claude: str, environ: Mapping[str, str] | None = None) -> PluginListing:
    """Runs `claude plugin list --json`; falls back to the text listing when the JSON is unusable."""
    env = dict(environ) if environ is not None else None
    done = _plugin_list(claude, env, "--json")
    if isinstance(done, PluginListing):
        return done
    if done.returncode == 0:
        try:
            parsed = json.loads(done.stdout)
        except Exception:  # not JSON, or too deep to parse: fall back to the text listing
            parsed = None
        if isinstance(parsed, list):
            return PluginListing([entry for entry in parsed if isinstance(entry, dict)])
    text = _plugin_list(claude, env)
    if isinstance(text, PluginListing):
        return text
    if text.returncode != 0:
        last = (text.stderr.strip() or text.stdout.strip() or "no output").splitlines()[-1]
        return PluginListing(None, f"`claude plugin list` exited {text.returncode}: {last}")
    return PluginListing(None, text=text.stdout)


def check_plugin(claude: str | None, listing: PluginListing | None, plugin_root: str | None = None) -> Check:
    """The plugin is installed in Claude Code (and enabled); a warning when `claude` is not on PATH."""
    fix = register_commands(plugin_root)
    if claude is None or listing is None:
        return Check(
            "plugin",
            WARN,
            "claude is not on PATH: cannot tell whether the plugin is registered",
            f"once Claude Code is installed, run: {fix}",
        )
    if listing.error is not None:
        return Check("plugin", FAIL, listing.error, f"check that Claude Code works, then run: {fix}")
    if listing.entries is None:
        if f"{PLUGIN_NAME}@" in listing.text:
            return Check("plugin", OK, f"`claude plugin list` shows {PLUGIN_NAME}")
        return Check("plugin", FAIL, f"`claude plugin list` does not show {PLUGIN_NAME}", fix)
    entry = listing.find()
    if entry is None:
        return Check("plugin", FAIL, f"{PLUGIN_ID} is not installed in Claude Code", fix)
    where = entry.get("readFromFolder") or entry.get("installPath") or "?"
    loaded = entry.get("version", "?")
    detail = f"{entry.get('id')}: Claude Code has loaded {loaded} ({entry.get('scope', '?')} scope) from {where}"
    if entry.get("enabled") is False:
        return Check("plugin", WARN, f"{detail}, but it is disabled", f"claude plugin enable {entry.get('id')}")
    built = _folder_version(where if isinstance(where, str) else "")
    if built is not None and built != loaded:
        return Check(
            "plugin",
            WARN,
            f"{detail}, but that folder holds {built}",
            f"claude plugin marketplace update {MARKETPLACE} && claude plugin update {entry.get('id')}",
        )
    return Check("plugin", OK, detail)


def _folder_version(folder: str) -> str | None:
    """The version in a plugin folder's plugin.json; None when it cannot be read."""
    try:
        with open(os.path.join(folder, ".claude-plugin", "plugin.json"), encoding="utf-8") as handle:
            version = json.load(handle).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def _checkout_root() -> str | None:
    """The plugin root around this module, when it runs from a checkout (not an installed wheel)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return root if os.path.isfile(os.path.join(root, "hooks", "hooks.json")) else None


def find_plugin_root(environ: Mapping[str, str], listing: PluginListing | None = None) -> str | None:
    """The plugin's root folder: `CLAUDE_PLUGIN_ROOT`, else the checkout around this module, else the
    folder Claude Code loads the plugin from; None when none is known."""
    candidates = [environ.get("CLAUDE_PLUGIN_ROOT"), _checkout_root()]
    entry = listing.find() if listing is not None else None
    if entry is not None:
        candidates += [entry.get("readFromFolder"), entry.get("installPath")]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate and os.path.isfile(os.path.join(candidate, "hooks", "hooks.json")):
            return candidate
    return None


# -- hook latency --------------------------------------------------------------------------------------


def _command_hook(plugin_root: str, event: str) -> dict[str, Any]:
    with open(os.path.join(plugin_root, "hooks", "hooks.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    for group in config.get("hooks", {}).get(event, []):
        for hook in group.get("hooks", []):
            if hook.get("type") == "command" and isinstance(hook.get("command"), str):
                return dict(hook)
    raise ValueError(f"hooks.json registers no command for {event}")


def hook_command(plugin_root: str, event: str = HOOK_SAMPLE_EVENT) -> str:
    """The command hooks.json registers for `event`; raises ValueError when there is none."""
    return str(_command_hook(plugin_root, event)["command"])


def exec_hook(plugin_root: str, event: str = HOOK_SAMPLE_EVENT) -> list[str] | None:
    """The argv of `event`'s hook when hooks.json gives it in exec form (`command` plus `args`, run with no
    shell, `${CLAUDE_PLUGIN_ROOT}` replaced in each), else None; raises ValueError when there is none."""
    hook = _command_hook(plugin_root, event)
    args = hook.get("args")
    if not isinstance(args, list):
        return None
    return [str(part).replace("${CLAUDE_PLUGIN_ROOT}", plugin_root) for part in [hook["command"], *args]]


def _count_events(spool: str) -> int:
    total = 0
    for _seq, path, _sealed in list_segments(spool):
        try:
            with open(path, "rb") as handle:
                total += handle.read().count(b"\n")
        except OSError:
            continue
    return total


def check_hook_latency(
    plugin_root: str | None, settings: Settings, runs: int = 3, budget_ms: float = HOOK_BUDGET_MS
) -> Check:
    """Runs the hooks.json command for a synthetic Stop payload `runs` times, as Claude Code would
    (`sh -c`, or directly for exec form; `CLAUDE_PLUGIN_ROOT` set), into a throw-away OMNICLAUDE_HOME; ok
    when the median is under `budget_ms` and every run recorded its event."""
    if plugin_root is None:
        return Check(
            "hook",
            WARN,
            "plugin root unknown: no latency sample taken",
            "run `omniclaude doctor --plugin-root /path/to/omniclaude`",
        )
    try:
        command = hook_command(plugin_root)
    except (OSError, ValueError, RecursionError) as exc:
        return Check(
            "hook",
            FAIL,
            f"cannot read {plugin_root}/hooks/hooks.json: {exc}",
            "restore hooks/hooks.json in the checkout",
        )
    python, _source = hooks_python(plugin_root, settings)
    argv = exec_hook(plugin_root)
    sandbox = tempfile.mkdtemp(prefix="omniclaude-doctor-")
    try:
        env = {key: value for key, value in settings.environ.items() if not key.startswith(("OMNICLAUDE_", "CLAUDE_"))}
        env.setdefault("PATH", os.defpath)
        env.update(CLAUDE_PLUGIN_ROOT=plugin_root, OMNICLAUDE_HOME=sandbox)
        if python is not None and len(python) == 1 and os.path.isabs(python[0]):
            env["OMNICLAUDE_PYTHON"] = python[0]  # the sandbox's OMNICLAUDE_HOME holds no record
        payload = json.dumps(
            {
                "session_id": "omniclaude-doctor",
                "transcript_path": os.devnull,
                "cwd": sandbox,
                "hook_event_name": HOOK_SAMPLE_EVENT,
                "stop_hook_active": False,
            }
        ).encode("utf-8")
        shell = shutil.which("sh", path=env["PATH"]) or "/bin/sh"
        timings = []
        for _run in range(max(1, runs)):
            started = time.perf_counter()
            done = subprocess.run(
                argv or [shell, "-c", command],
                input=payload,
                env=env,
                cwd=sandbox,
                capture_output=True,
                timeout=SUBPROCESS_TIMEOUT_S,
                check=False,
            )
            timings.append((time.perf_counter() - started) * 1000)
            if done.returncode != 0:
                stderr = done.stderr.decode("utf-8", "replace").strip()
                return Check(
                    "hook",
                    FAIL,
                    f"the hook exited {done.returncode}: {stderr[-200:] or 'no output'}",
                    f"run: {command} (with CLAUDE_PLUGIN_ROOT={plugin_root})",
                )
            if done.stdout.strip():
                return Check(
                    "hook",
                    FAIL,
                    "the hook printed on stdout (Claude Code may read it as a decision)",
                    "check hooks/run and the recorded interpreter",
                )
        recorded = _count_events(os.path.join(sandbox, "state", "spool"))
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("hook", FAIL, f"the hook did not run: {exc}", f"check {plugin_root}/hooks/run")
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    median = statistics.median(timings)
    detail = f"median {median:.0f} ms over {len(timings)} run(s) of {HOOK_SAMPLE_EVENT} (budget {budget_ms:.0f} ms)"
    if recorded < len(timings):
        return Check(
            "hook",
            FAIL,
            f"{detail}, but it recorded {recorded} of {len(timings)} events",
            "run install.sh again; see the hook's stderr in Claude Code's debug log",
        )
    if median >= budget_ms:
        return Check(
            "hook",
            WARN,
            f"{detail}: slow",
            "make sure the recorded interpreter is a local, non-wrapped python (install.sh --python)",
        )
    return Check("hook", OK, detail)


# -- Kafka, PostgreSQL, the consumer -------------------------------------------------------------------


def check_kafka(settings: Settings, timeout_ms: int = KAFKA_TIMEOUT_MS) -> Check:
    """Kafka reachable with the configured security settings, and every topic of the forwarder there."""
    if not settings.kafka_configured:
        return Check(
            "kafka",
            WARN,
            "not configured: events wait in the local spool",
            "./install.sh --kafka-bootstrap-servers HOST:PORT (or set OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS)",
        )
    from kafka.errors import KafkaError

    from omniclaude import kafka, topics

    servers = settings.kafka_bootstrap_servers
    unreachable_fix = (
        f"check {env_name('kafka_bootstrap_servers')} ({servers}) and the security settings, "
        "and that the broker runs; events wait in the spool meanwhile"
    )
    try:
        admin = kafka.create_admin(settings, settings.kafka_client_id, timeout_ms)
    except kafka.KafkaConfigError as exc:
        return Check("kafka", FAIL, str(exc), "set it with install.sh or in the config files")
    except kafka.KafkaUnavailable as exc:
        return Check("kafka", FAIL, _scrub(str(exc), settings), unreachable_fix)
    try:
        existing = set(admin.list_topics())
    except (KafkaError, OSError) as exc:
        return Check("kafka", FAIL, f"{servers} did not list its topics: {_scrub(str(exc), settings)}", unreachable_fix)
    finally:
        try:
            admin.close()
        except Exception:  # closing must not hide the outcome
            pass
    wanted = [*topics.event_topics(settings.topic_prefix), topics.dead_letter_topic(settings.topic_prefix)]
    missing = [name for name in wanted if name not in existing]
    if missing:
        return Check(
            "kafka",
            WARN,
            f"{servers} reachable; missing topics: {', '.join(missing)}",
            "the forwarder creates them on its first delivery: run `omniclaude flush`",
        )
    return Check("kafka", OK, f"{servers} reachable; all {len(wanted)} topics present")


def check_database(settings: Settings, connect_timeout: int = DATABASE_TIMEOUT_S) -> Check:
    """PostgreSQL reachable and its schema exactly the migrations of this omniclaude."""
    url = settings.database_url
    if not url:
        return Check("database", OK, "not configured (only `omniclaude db` and the consumer need it)")
    import psycopg

    from omniclaude.db.migrations import MigrationError, schema_status

    shown = mask_url(url)
    try:
        conn = psycopg.connect(url, connect_timeout=connect_timeout, autocommit=True)
    except psycopg.Error as exc:
        return Check(
            "database",
            FAIL,
            f"cannot connect to {shown}: {_scrub(str(exc), settings)}",
            f"check {env_name('database_url')} (in secrets.env) and that PostgreSQL runs",
        )
    try:
        with conn:
            status = schema_status(conn)
    except (psycopg.Error, MigrationError) as exc:
        return Check(
            "database",
            FAIL,
            f"{shown}: cannot read the schema: {_scrub(str(exc), settings)}",
            "check the database user's rights, then `omniclaude db status`",
        )
    if status.is_current:
        return Check("database", OK, f"{shown}: {status.describe()}")
    if status.unknown:
        fix = "upgrade omniclaude (git pull, then install.sh): the database is newer than this code"
    elif status.modified:
        fix = "restore the edited migration files (`omniclaude db status` names them)"
    else:
        fix = "omniclaude db upgrade"
    return Check("database", FAIL, f"{shown}: {status.describe()}", fix)


def check_consumer(settings: Settings, timeout: float = HEALTH_TIMEOUT_S) -> Check:
    """The consumer's health endpoint (`health_url`) answers 2xx."""
    url = settings.health_url
    if not url:
        return Check("consumer", OK, f"not checked ({env_name('health_url')} is not set)")
    import httpx

    shown = mask_url(url)
    try:
        response = httpx.get(url, timeout=timeout)
    except (httpx.HTTPError, ValueError) as exc:
        return Check(
            "consumer",
            FAIL,
            f"{shown} did not answer: {_scrub(str(exc) or type(exc).__name__, settings)}",
            "start the consumer (omniclaude-consumer) or correct OMNICLAUDE_HEALTH_URL",
        )
    summary = response.text.strip()
    try:
        body = response.json()
    except Exception:  # any bytes may come back: not JSON, too deep to parse
        body = None
    if isinstance(body, dict) and "status" in body:
        summary = f"status {body['status']}"
        reasons = body.get("reasons")
        if reasons:
            summary += f" ({', '.join(str(r) for r in reasons) if isinstance(reasons, list) else reasons})"
    summary = _scrub(summary, settings)[:200]
    if response.is_success:
        return Check("consumer", OK, f"{shown} answered {response.status_code}: {summary}")
    return Check(
        "consumer",
        FAIL,
        f"{shown} answered {response.status_code}: {summary}",
        "see the consumer's log; `/ready` tells why it is not ready",
    )


def check_stack(settings: Settings) -> list[Check]:
    """The local stack (`omniclaude stack`), when there is one: its supervisor, then one check per part."""
    from omniclaude.stack import control

    layout = control.layout_for(settings.environ)
    if not layout.record.is_file():
        return []
    rows = control.status(settings.environ)
    if rows[0].state != "running":
        return [Check("stack", WARN, f"the local stack in {layout.root} is stopped", "omniclaude stack up")]
    checks = [Check("stack", OK, f"the local stack runs in {layout.root} (supervisor pid {rows[0].pid})")]
    for row in rows[1:]:
        detail = (
            f"{row.state}, port {row.port}, pid {row.pid or '-'}, health {row.health}, "
            f"{row.data_bytes // 1024} KB of data, {row.restarts} restart(s)"
        )
        status = OK if row.health == "ok" else FAIL
        checks.append(Check(f"stack:{row.name}", status, detail, f"omniclaude stack logs {row.name}"))
    return checks


# -- running them all ----------------------------------------------------------------------------------


def _guard(name: str, settings: Settings, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as exc:  # one broken check must not hide the others
        return Check(
            name,
            FAIL,
            f"the check crashed: {type(exc).__name__}: {_scrub(str(exc), settings)}",
            "report this as a bug in omniclaude doctor",
        )


def run_checks(
    settings: Settings,
    *,
    settings_error: Exception | None = None,
    plugin_root: str | None = None,
    claude: str | None = None,
    find_claude: bool = True,
) -> Iterator[Check]:
    """Yields every check in order, as each finishes: config, interpreter, spool, usage, plugin, hook, kafka,
    database, consumer, and the local stack's parts when there is one. `claude` defaults to `claude` on
    the settings' PATH (unless `find_claude` is False); `plugin_root` defaults to `find_plugin_root`."""
    yield _guard("config", settings, lambda: check_config(settings, settings_error))
    if claude is None and find_claude:
        claude = shutil.which("claude", path=settings.environ.get("PATH", os.defpath))
    listing = list_plugins(claude, settings.environ) if claude else None
    root = plugin_root or find_plugin_root(settings.environ, listing)
    yield _guard("interpreter", settings, lambda: check_interpreter(settings, root))
    yield _guard("spool", settings, lambda: check_spool(settings))
    yield _guard("usage", settings, lambda: check_usage(settings))
    yield _guard("plugin", settings, lambda: check_plugin(claude, listing, root))
    yield _guard("hook", settings, lambda: check_hook_latency(root, settings))
    yield _guard("kafka", settings, lambda: check_kafka(settings))
    yield _guard("database", settings, lambda: check_database(settings))
    yield _guard("consumer", settings, lambda: check_consumer(settings))
    try:
        yield from check_stack(settings)
    except Exception as exc:  # one broken check must not hide the others
        yield Check(
            "stack",
            FAIL,
            f"the check crashed: {type(exc).__name__}: {_scrub(str(exc), settings)}",
            "report this as a bug in omniclaude doctor",
        )
