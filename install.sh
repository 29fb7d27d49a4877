#!/bin/sh
# Installs omniclaude for the current user from this checkout, or removes it: ./install.sh --help.
# POSIX sh, no sudo. Safe to run again: a run with nothing to do changes no file.
set -eu

PLUGIN_ID=omniclaude@omniclaude-local
MARKETPLACE=omniclaude-local
FLUSH_TIMEOUT=60
KAFKA_PROBE='import sys
from omniclaude.config import load_settings_or_defaults
from omniclaude.doctor import check_kafka
check = check_kafka(load_settings_or_defaults())
print(check.detail)
sys.exit(3 if check.status == "fail" else 0)'

usage() {
  cat <<'EOF'
Usage: ./install.sh [SETTINGS] [--python PATH] [--pip-args ARGS] [--reset-config] [--dry-run]
       ./install.sh --uninstall [--keep-data] [--dry-run]

Installs omniclaude for the current user from this checkout, without sudo:
  1. checks for Python >= 3.10 with its venv module (python3 on PATH, or --python PATH);
  2. writes the settings to <config dir>/config.env and the secrets (Kafka SASL password, database
     URL) to <config dir>/secrets.env (both mode 0600, the config dir 0700);
  3. creates a virtual environment in <data dir>/venv and pip-installs this checkout into it (skipped
     when the checkout's package sources and pyproject.toml are unchanged since the last install);
  4. records that venv's python in <data dir>/python: the interpreter the hooks run;
  5. registers the plugin with Claude Code when `claude` is on PATH (claude plugin marketplace add
     <this checkout>, claude plugin install omniclaude@omniclaude-local, at user scope), or prints
     those commands to run later;
  6. runs `omniclaude doctor` and shows its report (its warnings and failures do not fail the install).
A second run changes nothing unless something changed. Kafka is optional: without it, capture works and
events wait in the local spool until Kafka is configured.

Directories: with OMNICLAUDE_HOME set, $OMNICLAUDE_HOME/{state,config,data}; else on Linux
${XDG_CONFIG_HOME:-~/.config}/omniclaude, ${XDG_DATA_HOME:-~/.local/share}/omniclaude and
${XDG_STATE_HOME:-~/.local/state}/omniclaude (the spool); on macOS ~/Library/Application Support/omniclaude.

Settings (each flag's environment variable is in brackets):
  --kafka-bootstrap-servers HOST:PORT[,...]  [OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS]
  --kafka-security-protocol P   PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL  [OMNICLAUDE_KAFKA_SECURITY_PROTOCOL]
  --kafka-sasl-mechanism M      PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512  [OMNICLAUDE_KAFKA_SASL_MECHANISM]
  --kafka-sasl-username USER    [OMNICLAUDE_KAFKA_SASL_USERNAME]
  --kafka-sasl-password PW      secret, kept in secrets.env  [OMNICLAUDE_KAFKA_SASL_PASSWORD]
  --kafka-ssl-cafile FILE       [OMNICLAUDE_KAFKA_SSL_CAFILE]
  --kafka-ssl-certfile FILE     [OMNICLAUDE_KAFKA_SSL_CERTFILE]
  --kafka-ssl-keyfile FILE      [OMNICLAUDE_KAFKA_SSL_KEYFILE]
  --topic-prefix PREFIX         default omniclaude  [OMNICLAUDE_TOPIC_PREFIX]
  --database-url URL            secret, kept in secrets.env  [OMNICLAUDE_DATABASE_URL]
  --capture-mode MODE           full, redacted (default), hash or off  [OMNICLAUDE_CAPTURE_MODE]
  --health-url URL              the consumer's /health, checked by doctor  [OMNICLAUDE_HEALTH_URL]
How they are merged into the files:
  - a flag replaces the value in the files; a flag with an empty value (--topic-prefix '') removes it;
  - an OMNICLAUDE_* environment variable only fills a setting the files do not have yet;
  - everything else in the files (your comments, settings you added by hand) is kept;
  - --reset-config starts both files from scratch, then applies the flags and the environment.
  A file is rewritten only when its content changes. Secrets are never printed (shown as ***). A flag's
  value is visible to other local users in the process list: pass secrets through the environment.
  SSL file paths are stored as absolute paths.

Other options:
  --python PATH     the Python (>= 3.10) to create the virtual environment with (default: python3)
  --pip-args ARGS   extra arguments for pip install, split on spaces (e.g. "--no-index --find-links DIR")
  --reset-config    rewrite config.env and secrets.env from scratch (see above)
  --dry-run         print every step it would take, and change nothing
  --uninstall       undo every step: unregister the plugin (claude plugin uninstall, claude plugin
                    marketplace remove), flush the spool to Kafka when Kafka is configured (omniclaude
                    flush; a failure is reported, not fatal), then remove the state dir with the spool,
                    the venv, the interpreter record, config.env and secrets.env, and every omniclaude
                    dir left empty
  --keep-data       with --uninstall: keep the state dir (the spool and the events in it)
  -h, --help        show this help

Exit status: 0 done; 1 a step failed (the message says which and what to do); 2 usage error.
EOF
}

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'install.sh: %s (see ./install.sh --help)\n' "$*" >&2; exit 2; }

# -- arguments ---------------------------------------------------------------------------------------

python_arg=
pip_args=
dry_run=
uninstall=
keep_data=
reset_config=

set_flag() {  # set_flag --option-name value: exported for the config writer as _OMNICLAUDE_FLAG_<KEY>
  key=$(printf '%s' "${1#--}" | tr 'abcdefghijklmnopqrstuvwxyz-' 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_')
  export "_OMNICLAUDE_FLAG_$key=$2"
}

while [ $# -gt 0 ]; do
  option=$1
  value=
  has_value=
  case $option in
    --*=*) value=${option#*=}; option=${option%%=*}; has_value=1 ;;
  esac
  case $option in
    --kafka-bootstrap-servers|--kafka-security-protocol|--kafka-sasl-mechanism|--kafka-sasl-username|\
    --kafka-sasl-password|--kafka-ssl-cafile|--kafka-ssl-certfile|--kafka-ssl-keyfile|--topic-prefix|\
    --database-url|--capture-mode|--health-url|--python|--pip-args)
      if [ -z "$has_value" ]; then
        [ $# -ge 2 ] || usage_error "$option needs a value"
        value=$2
        shift
      fi
      case $option in
        --python) python_arg=$value ;;
        --pip-args) pip_args=$value ;;
        *) set_flag "$option" "$value" ;;
      esac
      ;;
    --dry-run|--uninstall|--keep-data|--reset-config|-h|--help)
      [ -z "$has_value" ] || usage_error "$option takes no value"
      case $option in
        --dry-run) dry_run=1 ;;
        --uninstall) uninstall=1 ;;
        --keep-data) keep_data=1 ;;
        --reset-config) reset_config=1 ;;
        *) usage; exit 0 ;;
      esac
      ;;
    *) usage_error "unknown option: $option" ;;
  esac
  shift
done

if [ -n "$keep_data" ] && [ -z "$uninstall" ]; then
  usage_error "--keep-data goes with --uninstall"
fi
if [ -n "$uninstall" ]; then
  if [ -n "$reset_config" ] || [ -n "$pip_args" ] || env | grep -q '^_OMNICLAUDE_FLAG_'; then
    usage_error "--uninstall takes only --keep-data and --dry-run"
  fi
fi

repo=$(cd "$(dirname "$0")" && pwd -P)
if [ ! -f "$repo/pyproject.toml" ] || [ ! -f "$repo/lib/omniclaude/paths.py" ]; then
  die "$repo does not look like an omniclaude checkout (no pyproject.toml or lib/omniclaude)"
fi
export _OMNICLAUDE_REPO="$repo"
export _OMNICLAUDE_DRY_RUN="$dry_run"
export _OMNICLAUDE_RESET="$reset_config"

# -- the Python side: small helpers run with the base interpreter, with this checkout's lib/ ----------

helper() {  # helper COMMAND [ARGS]: the Python side, run by the base interpreter with this checkout's
  # lib/ first on sys.path, writing no bytecode and ignoring PYTHON* variables and the user site
  "$python" -B -E -s - "$@" <<'PY'
"""install.sh's Python side: directories, the source hash, the settings files, Claude's JSON listings."""
import hashlib
import json
import os
import sys

REPO = os.environ["_OMNICLAUDE_REPO"]
sys.path.insert(0, os.path.join(REPO, "lib"))

# What `pip install <checkout>` builds from: a change here means the venv needs a new install.
HASHED = ("pyproject.toml", "MANIFEST.in", "setup.py", "setup.cfg", ".claude-plugin/plugin.json",
          "lib", "consumer", "sql")
# The settings install.sh writes; the others stay as the user wrote them.
MANAGED = ("kafka_bootstrap_servers", "kafka_security_protocol", "kafka_sasl_mechanism", "kafka_sasl_username",
           "kafka_sasl_password", "kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile",
           "topic_prefix", "database_url", "capture_mode", "health_url")
PATHS = ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
HEADERS = {
    False: [
        "# omniclaude settings: KEY=value lines; an OMNICLAUDE_* environment variable wins over this file.",
        "# Written by install.sh, which keeps what you change here; secrets live in secrets.env (mode 0600).",
        "# A setting left commented out takes its default. Check them with: omniclaude doctor",
    ],
    True: [
        "# omniclaude secrets: KEY=value lines, read after config.env. Keep this file mode 0600.",
        "# Written by install.sh, which keeps what you change here.",
    ],
}


def dirs():
    from omniclaude.paths import resolve_dirs

    found = resolve_dirs(os.environ)
    for path in (found.state, found.config, found.data, found.cache, found.spool):
        print(path)


def source_hash():
    total = hashlib.sha256()
    for top in HASHED:
        path = os.path.join(REPO, top)
        files = [path] if os.path.isfile(path) else []
        for root, subdirs, names in os.walk(path):
            subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.endswith(".egg-info"))
            files += [os.path.join(root, n) for n in sorted(names) if not n.endswith((".pyc", ".pyo"))]
        for name in files:
            with open(name, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            total.update(f"{os.path.relpath(name, REPO)}\0{digest}\n".encode("utf-8", "surrogateescape"))
    print(total.hexdigest())


def kafka_configured():
    from omniclaude.config import load_settings_or_defaults

    sys.exit(0 if load_settings_or_defaults().kafka_configured else 1)


def pending(spool):
    from omniclaude.spool import SpoolReader

    print(SpoolReader(spool).pending()[0] if os.path.isdir(spool) else 0)


def stop_forwarder(spool):
    """Stops the forwarder that holds the spool's lock (SIGTERM, then up to 15 s for it to let go), so
    nothing runs from a removed venv or writes into a removed spool. Prints what it did."""
    import signal
    import subprocess
    import time

    from omniclaude.forwarder.state import read_state
    from omniclaude.launcher import forwarder_running

    if not os.path.isdir(spool) or not forwarder_running(spool):
        print("    none runs")
        return
    pid = read_state(spool).get("pid")
    try:
        args = subprocess.run(["ps", "-p", str(int(pid)), "-o", "args="], capture_output=True, text=True,
                              check=False).stdout
    except (OSError, TypeError, ValueError):
        args = ""
    if "omniclaude" not in args or "forward" not in args:
        print(f"    a forwarder holds {spool}, but its pid is unknown: it stops by itself when idle")
        return
    if os.environ.get("_OMNICLAUDE_DRY_RUN"):
        print(f"    would stop the running forwarder (pid {pid})")
        return
    os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + 15
    while forwarder_running(spool) and time.monotonic() < deadline:
        time.sleep(0.1)
    state = "stopped" if not forwarder_running(spool) else "asked to stop (it is still finishing a batch)"
    print(f"    {state}: the running forwarder (pid {pid})")


def claude_json(what, name, text):
    """Exit 0 (printing the path for marketplace-path) when `name` is listed, 1 when not, 3 when the
    listing is not JSON."""
    try:
        entries = json.loads(text)
    except ValueError:
        sys.exit(3)
    if not isinstance(entries, list):
        sys.exit(3)
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if what == "marketplace-path" and entry.get("name") == name:
            print(entry.get("path") or entry.get("installLocation") or "")
            return
        if what == "has-plugin" and entry.get("id") == name:
            return
    sys.exit(1)


# -- the settings files -----------------------------------------------------------------------------------


def shown(key, value):
    """How a value may be printed: URLs with every credential masked, other secrets never."""
    from omniclaude.config import FIELDS, env_name

    if key.endswith("_URL"):
        from omniclaude.masking import mask_url

        return mask_url(value)
    if key.endswith("_PASSWORD") or any(env_name(name) == key and secret for name, _k, _d, secret, _doc in FIELDS):
        return "***"
    return value


def line_key(line):
    """The key an active `KEY=value` line sets (as config.parse_env_file reads it), else None."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith("export "):
        text = text[len("export "):].lstrip()
    key, sep, _value = text.partition("=")
    return key.strip() if sep else None


def encode(key, value):
    from omniclaude.config import parse_env_file

    text = value.replace("\n", "\\n")
    if text != text.strip() or (len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""):
        text = '"' + text + '"'
    if parse_env_file(f"{key}={text}").get(key) != value:
        print(f"install.sh: the value of {key} cannot be stored in a settings file", file=sys.stderr)
        sys.exit(2)
    return f"{key}={text}"


def template(secret):
    """A new file: its header, then each managed setting it holds, documented and commented out."""
    from omniclaude.config import FIELDS, env_name

    lines = list(HEADERS[secret])
    for name, _kind, default, is_secret, doc in FIELDS:
        if name in MANAGED and is_secret == secret:
            lines += ["", f"# {doc}", f"# {env_name(name)}={'' if default is None else default}"]
    return lines


def edit(lines, key, value, placeholder=None):
    """Sets `key` to `value` in `lines`: in place of its line, else of its commented-out template line,
    else at the end. None removes it, leaving `placeholder` (the template line) in its place."""
    out = []
    placed = False
    for line in lines:
        if line_key(line) == key:
            if not placed and (value is not None or placeholder is not None):
                out.append(placeholder if value is None else encode(key, value))
                placed = True
            continue
        out.append(line)
    if value is not None and not placed:
        for index, line in enumerate(out):
            if line.strip().startswith(f"# {key}="):
                out[index] = encode(key, value)
                break
        else:
            out.append(encode(key, value))
    return out


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write(path, text, dry):
    """Writes `text` to `path` (mode 0600, atomically) unless it holds it already; returns True if it
    (would have) changed the content."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        mode = None
    if read(path) == text:
        if mode is not None and mode != 0o600:
            print(f"    {'would set' if dry else 'set'} the mode of {path} to 0600 (was {mode:04o})")
            if not dry:
                os.chmod(path, 0o600)
        return False
    if not dry:
        tmp = f"{path}.tmp{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return True


def wanted_values(present):
    """The settings to change: {key: (field name, value or None to remove)}, and notes to print."""
    from omniclaude.config import CAPTURE_MODES, SASL_MECHANISMS, SECURITY_PROTOCOLS, env_name

    choices = {"capture_mode": CAPTURE_MODES, "kafka_security_protocol": SECURITY_PROTOCOLS,
               "kafka_sasl_mechanism": SASL_MECHANISMS}
    wanted = {}
    notes = []
    for name in MANAGED:
        key = env_name(name)
        option = "--" + name.replace("_", "-")
        flag = os.environ.get("_OMNICLAUDE_FLAG_" + name.upper())
        from_env = os.environ.get(key)
        if flag is not None:
            value, origin = flag, option
        elif from_env and key not in present:
            value, origin = from_env, key
        else:
            if from_env and present.get(key) != from_env:
                notes.append(f"    kept {key}={shown(key, present[key])} from the file: the environment only "
                             f"fills settings the file lacks (pass {option} to replace it)")
            continue
        if value and name in choices and value not in choices[name]:
            print(f"install.sh: {origin} must be one of {', '.join(choices[name])}", file=sys.stderr)
            sys.exit(2)
        if value and name in PATHS:
            value = os.path.abspath(os.path.expanduser(value))
            if not os.path.isfile(value):
                notes.append(f"    warning: {key}: {value} does not exist")
        wanted[key] = (name, value or None)
    return wanted, notes


def configure(config_dir):
    from omniclaude.config import CONFIG_FILE, FIELDS, SECRETS_FILE, parse_env_file

    dry = bool(os.environ.get("_OMNICLAUDE_DRY_RUN"))
    reset = bool(os.environ.get("_OMNICLAUDE_RESET"))
    secret = {name: is_secret for name, _kind, _default, is_secret, _doc in FIELDS}
    defaults = {name: default for name, _kind, default, _secret, _doc in FIELDS}
    paths = {False: os.path.join(config_dir, CONFIG_FILE), True: os.path.join(config_dir, SECRETS_FILE)}
    texts = {kind: None if reset else read(path) for kind, path in paths.items()}
    present = {}
    for kind in (False, True):
        present.update(parse_env_file(texts[kind] or ""))
    wanted, notes = wanted_values(present)
    lines = {kind: template(kind) if texts[kind] is None else texts[kind].splitlines() for kind in paths}
    changes = []
    for key, (name, value) in wanted.items():
        placeholder = f"# {key}={'' if defaults[name] is None else defaults[name]}"
        lines[secret[name]] = edit(lines[secret[name]], key, value, placeholder)
        lines[not secret[name]] = edit(lines[not secret[name]], key, None)  # the other file must not override it
        before = present.get(key)
        if value is None and before is not None:
            changes.append(f"    removed {key}")
        elif value is not None and value != before:
            changes.append(f"    set {key}={shown(key, value)}")
    if not os.path.isdir(config_dir):
        print(f"    {'would create' if dry else 'created'} {config_dir} (mode 0700)")
        if not dry:
            os.makedirs(config_dir, mode=0o700)
            os.chmod(config_dir, 0o700)
    elif os.stat(config_dir).st_mode & 0o777 != 0o700:
        print(f"    {'would set' if dry else 'set'} the mode of {config_dir} to 0700")
        if not dry:
            os.chmod(config_dir, 0o700)
    for kind, path in paths.items():
        existed = os.path.exists(path)
        if write(path, "\n".join(lines[kind]) + "\n", dry):
            verb = "update" if existed else "create"
            print(f"    {'would ' + verb if dry else verb + 'd'} {path}")
        else:
            print(f"    unchanged {path}")
    for line in changes + notes:
        print(line)


def main(argv):
    command, args = argv[0], argv[1:]
    if command == "dirs":
        dirs()
    elif command == "hash":
        source_hash()
    elif command == "kafka-configured":
        kafka_configured()
    elif command == "stop-forwarder":
        stop_forwarder(args[0])
    elif command == "pending":
        pending(args[0])
    elif command in ("marketplace-path", "has-plugin"):
        claude_json(command, args[0], args[1])
    elif command == "configure":
        configure(args[0])
    else:
        sys.exit(f"install.sh: unknown helper command {command}")


main(sys.argv[1:])
PY
}

run() {  # run COMMAND...: prints it and runs it, or only prints it with --dry-run
  if [ -n "$dry_run" ]; then
    say "    would run: $*"
  else
    say "    running: $*"
    "$@"
  fi
}

remove() {  # remove PATH DESCRIPTION: rm -rf, or say it would
  if [ -e "$1" ] || [ -L "$1" ]; then
    if [ -n "$dry_run" ]; then say "    would remove $2 $1"; else rm -rf "$1"; say "    removed $2 $1"; fi
  fi
}

remove_if_empty() {  # remove_if_empty DIR: rmdir when it exists and is empty
  if [ -d "$1" ] && [ -z "$(ls -A "$1" 2>/dev/null)" ]; then
    if [ -n "$dry_run" ]; then say "    would remove the empty folder $1"; else rmdir "$1"; say "    removed the empty folder $1"; fi
  fi
}

# -- 1. Python -----------------------------------------------------------------------------------------

check_python() {
  python=${python_arg:-python3}
  if ! command -v "$python" >/dev/null 2>&1; then
    if [ -n "$python_arg" ]; then
      die "--python $python_arg: not found or not executable"
    fi
    die "python3 is not on PATH: omniclaude needs Python >= 3.10 (Debian/Ubuntu: apt-get install python3 python3-venv; macOS: brew install python), or pass --python /path/to/python3"
  fi
  python=$(command -v "$python")
  version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) \
    || die "$python does not run (it exited with an error): omniclaude needs a working Python >= 3.10; pass --python /path/to/python3"
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  case "$major.$minor" in
    *[!0-9.]*|.*|*.) die "$python printed an unexpected version ($version): pass --python /path/to/python3" ;;
  esac
  if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 10 ]; }; then
    die "$python is Python $version, but omniclaude needs Python >= 3.10: install a newer Python and pass it with --python /path/to/python3.X"
  fi
  if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    die "$python (Python $version) has no venv module or no ensurepip: install the package python3-venv (Debian/Ubuntu: apt-get install python3-venv, or python$major.$minor-venv)"
  fi
  step "python: $python (Python $version)"
}

# -- the directories -----------------------------------------------------------------------------------

resolve_dirs() {
  dirs=$(helper dirs) || die "cannot compute omniclaude's directories (see the error above)"
  state_dir=$(printf '%s\n' "$dirs" | sed -n 1p)
  config_dir=$(printf '%s\n' "$dirs" | sed -n 2p)
  data_dir=$(printf '%s\n' "$dirs" | sed -n 3p)
  cache_dir=$(printf '%s\n' "$dirs" | sed -n 4p)
  spool_dir=$(printf '%s\n' "$dirs" | sed -n 5p)
  venv=$data_dir/venv
  venv_python=$venv/bin/python
  record=$data_dir/python
  stamp=$venv/.omniclaude-install-stamp
}

# -- install steps -------------------------------------------------------------------------------------

write_config() {
  step "settings: $config_dir"
  helper configure "$config_dir" || exit $?
}

make_venv() {
  if [ -x "$venv_python" ] && "$venv_python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    step "venv: $venv (exists)"
    return
  fi
  if [ -e "$venv" ]; then
    step "venv: $venv is broken (its python does not run): recreating it"
    remove "$venv" "the broken venv"
  else
    step "venv: creating $venv"
  fi
  if [ -n "$dry_run" ]; then
    say "    would run: $python -m venv $venv"
    return
  fi
  if [ ! -d "$data_dir" ]; then
    mkdir -p "$data_dir"
    chmod 700 "$data_dir"
  fi
  "$python" -m venv "$venv" \
    || die "creating the venv failed; if the message above mentions ensurepip, install python3-venv (Debian/Ubuntu: apt-get install python3-venv)"
}

install_package() {
  want=$(helper hash) || die "cannot hash the checkout's sources"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/omniclaude" ]; then
    step "omniclaude: up to date in the venv (the checkout is unchanged since the last install)"
    return
  fi
  step "omniclaude: installing $repo into the venv"
  set -f
  # shellcheck disable=SC2086 # --pip-args is split on spaces on purpose
  run "$venv_python" -m pip install --quiet --disable-pip-version-check --no-input $pip_args "$repo" \
    || die "pip install failed (see above); nothing was recorded: fix the cause and run install.sh again"
  set +f
  if [ -z "$dry_run" ]; then
    printf '%s\n' "$want" > "$stamp.tmp"
    mv "$stamp.tmp" "$stamp"
  fi
}

record_python() {
  if [ -f "$record" ] && printf '%s\n' "$venv_python" | cmp -s - "$record"; then
    step "interpreter: $record names $venv_python (unchanged)"
    return
  fi
  step "interpreter: recording $venv_python in $record"
  if [ -z "$dry_run" ]; then
    printf '%s\n' "$venv_python" > "$record.tmp"
    chmod 644 "$record.tmp"
    mv "$record.tmp" "$record"
  fi
}

print_register_commands() {
  say "    claude plugin marketplace add '$repo'"
  say "    claude plugin install $PLUGIN_ID"
}

register_plugin() {
  plugin_failed=
  if ! claude=$(command -v claude 2>/dev/null); then
    step "claude: not on PATH; to register the plugin with Claude Code later, run:"
    print_register_commands
    return
  fi
  step "claude: registering the plugin with $claude"
  if [ -n "$dry_run" ]; then
    say "    would run (unless the marketplace is already added from $repo): $claude plugin marketplace add $repo"
    say "    would run (unless it is already installed): $claude plugin install $PLUGIN_ID"
    return
  fi
  listed=$("$claude" plugin marketplace list --json 2>/dev/null) || listed=
  current=$(helper marketplace-path "$MARKETPLACE" "$listed") || current=
  if [ "$current" = "$repo" ]; then
    say "    marketplace $MARKETPLACE already added from $repo"
  else
    run "$claude" plugin marketplace add "$repo" || plugin_failed=1
  fi
  if [ -z "$plugin_failed" ]; then
    listed=$("$claude" plugin list --json 2>/dev/null) || listed=
    if helper has-plugin "$PLUGIN_ID" "$listed"; then
      say "    plugin $PLUGIN_ID already installed"
    else
      run "$claude" plugin install "$PLUGIN_ID" || plugin_failed=1
    fi
  fi
  if [ -n "$plugin_failed" ]; then
    say "    registering the plugin failed (see above); to retry by hand, run:"
    print_register_commands
  fi
}

run_doctor() {
  step "doctor: $venv/bin/omniclaude doctor"
  if [ -n "$dry_run" ]; then
    say "    would run: $venv/bin/omniclaude doctor --plugin-root $repo"
    return
  fi
  if report=$("$venv/bin/omniclaude" doctor --plugin-root "$repo" 2>&1); then
    doctor_status=0
  else
    doctor_status=$?
  fi
  printf '%s\n' "$report" | sed 's/^/    /'
  if [ "$doctor_status" -ne 0 ]; then
    say "    doctor reported a failure (exit $doctor_status): the install itself is complete; see the fixes above"
  fi
}

install() {
  check_python
  resolve_dirs
  [ -z "$dry_run" ] || step "dry run: nothing will be changed"
  write_config
  make_venv
  install_package
  record_python
  register_plugin
  run_doctor
  if [ -n "$dry_run" ]; then
    step "dry run complete: nothing was changed"
  elif [ -n "$plugin_failed" ]; then
    die "installed, but the plugin is not registered with Claude Code (see above)"
  else
    step "done: hooks record into $spool_dir"
  fi
}

# -- uninstall -----------------------------------------------------------------------------------------

unregister_plugin() {
  if ! claude=$(command -v claude 2>/dev/null); then
    step "claude: not on PATH; if the plugin was registered, remove it later with:"
    say "    claude plugin uninstall $PLUGIN_ID"
    say "    claude plugin marketplace remove $MARKETPLACE"
    return
  fi
  step "claude: unregistering the plugin with $claude"
  if [ -n "$dry_run" ]; then
    say "    would run (if it is installed): $claude plugin uninstall $PLUGIN_ID"
    say "    would run (if it is added): $claude plugin marketplace remove $MARKETPLACE"
    return
  fi
  # has-plugin / marketplace-path exit 0 listed, 1 not listed, 3 when the listing is not JSON (an older
  # claude): then try anyway, and let a "not found" error pass.
  listed=$("$claude" plugin list --json 2>/dev/null) || listed=
  found=0
  helper has-plugin "$PLUGIN_ID" "$listed" || found=$?
  if [ "$found" -eq 1 ]; then
    say "    plugin $PLUGIN_ID is not installed"
  else
    run "$claude" plugin uninstall "$PLUGIN_ID" || say "    warning: claude plugin uninstall failed (see above)"
  fi
  listed=$("$claude" plugin marketplace list --json 2>/dev/null) || listed=
  found=0
  helper marketplace-path "$MARKETPLACE" "$listed" >/dev/null || found=$?
  if [ "$found" -eq 1 ]; then
    say "    marketplace $MARKETPLACE is not added"
  else
    run "$claude" plugin marketplace remove "$MARKETPLACE" \
      || say "    warning: claude plugin marketplace remove failed (see above)"
  fi
}

flush_spool() {
  count=$(helper pending "$spool_dir" 2>/dev/null) || count=0
  if [ "$count" = 0 ]; then
    return
  fi
  if ! helper kafka-configured; then
    step "spool: $count event(s) pending and Kafka is not configured: they are removed with the spool"
    return
  fi
  if [ ! -x "$venv/bin/omniclaude" ]; then
    step "spool: $count event(s) pending, but the venv is gone, so they cannot be flushed: they are removed"
    return
  fi
  step "spool: flushing $count pending event(s) to Kafka before removing it"
  if [ -n "$dry_run" ]; then
    say "    would run: $venv/bin/omniclaude flush --spool $spool_dir --timeout $FLUSH_TIMEOUT"
    return
  fi
  # A broker that is down would hold the flush for its whole timeout: ask doctor's Kafka check first.
  probe_status=0
  probe=$("$venv_python" -c "$KAFKA_PROBE" 2>&1) || probe_status=$?
  if [ "$probe_status" -eq 3 ]; then
    say "    not flushed: Kafka is unreachable ($probe)"
    say "    the $count pending event(s) are removed with the spool (to keep them: --uninstall --keep-data)"
    return
  fi
  if output=$("$venv/bin/omniclaude" flush --spool "$spool_dir" --timeout "$FLUSH_TIMEOUT" 2>&1); then
    flush_status=0
  else
    flush_status=$?
  fi
  # Keep flush's own summary lines, not the client library's timestamped log lines.
  printf '%s\n' "$output" | grep -v '^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] ' | sed 's/^/    /' || true
  if [ "$flush_status" -ne 0 ]; then
    say "    the flush failed (exit $flush_status): what is still pending is removed with the spool (to keep it: --uninstall --keep-data)"
  fi
}

uninstall() {
  check_python
  resolve_dirs
  [ -z "$dry_run" ] || step "dry run: nothing will be changed"
  unregister_plugin
  step "forwarder: stopping it if one runs"
  helper stop-forwarder "$spool_dir" || say "    warning: could not stop the running forwarder (see above)"
  if [ -n "$keep_data" ]; then
    step "state: keeping $state_dir (the spool; --keep-data)"
  else
    flush_spool
    if [ -e "$state_dir" ]; then
      step "state: removing $state_dir"
      remove "$state_dir" "the state dir (spool)"
    else
      step "state: nothing at $state_dir"
    fi
  fi
  step "data: removing the venv and the interpreter record"
  remove "$venv" "the venv"
  remove "$record" "the interpreter record"
  step "settings: removing config.env and secrets.env"
  remove "$config_dir/config.env" "the settings file"
  remove "$config_dir/secrets.env" "the secrets file"
  for dir in "$config_dir" "$data_dir" "$state_dir" "$cache_dir"; do
    remove_if_empty "$dir"
  done
  if [ -n "${OMNICLAUDE_HOME:-}" ]; then
    remove_if_empty "$(dirname "$state_dir")"
  fi
  if [ -z "$dry_run" ]; then
    for dir in "$config_dir" "$data_dir"; do
      if [ -d "$dir" ] && { [ "$dir" != "$state_dir" ] || [ -z "$keep_data" ]; }; then
        say "    kept $dir: it holds files omniclaude did not put there"
      fi
    done
  fi
  if [ -n "$dry_run" ]; then step "dry run complete: nothing was changed"; else step "done: omniclaude is uninstalled"; fi
}

if [ -n "$uninstall" ]; then uninstall; else install; fi
