#!/bin/sh
# Installs omniclaude for the current user from this checkout, or removes it: ./install.sh --help.
# POSIX sh, no sudo. Safe to run again: a run with nothing to do changes no file.
# This script only finds a Python >= 3.10 with venv; the steps are omniclaude.installer (run with that
# Python and this checkout's lib/, before any venv exists).
set -eu

die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

python_arg=
previous=
for arg in "$@"; do
  case $previous in --python) python_arg=$arg ;; esac
  case $arg in --python=*) python_arg=${arg#--python=} ;; esac
  previous=$arg
done

repo=$(cd "$(dirname "$0")" && pwd -P)
if [ ! -f "$repo/pyproject.toml" ] || [ ! -f "$repo/lib/omniclaude/installer.py" ]; then
  die "$repo does not look like an omniclaude checkout (no pyproject.toml or lib/omniclaude)"
fi

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
# python -m omniclaude.installer, with this checkout's lib/ first on sys.path, writing no bytecode and
# ignoring PYTHON* variables and the user site.
exec "$python" -B -E -s -c 'import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); runpy.run_module("omniclaude.installer", run_name="__main__", alter_sys=True)' "$repo/lib" "$@"
