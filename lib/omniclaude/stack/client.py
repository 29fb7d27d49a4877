"""Point the client settings (config.env, secrets.env) at the local stack, or take them back.

Each setting goes to the file ``omniclaude.config.FIELDS`` says (secrets to ``secrets.env``), edited in
place by ``omniclaude.envfile.edit``, and is removed from the other file so that one cannot override it.
Every other line is kept. Files are written atomically with mode 0600, in the config dir (0700).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from omniclaude.config import CONFIG_FILE, FIELDS, SECRETS_FILE, parse_env_file
from omniclaude.envfile import edit
from omniclaude.paths import ensure_dir, resolve_dirs

__all__ = ["apply_settings", "remove_settings"]

_SECRET = {f.env: f.secret for f in FIELDS}


def _read(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except FileNotFoundError:
        return []


def _write(path: str, lines: list[str]) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _edit(environ: Mapping[str, str], wanted: Mapping[str, str | None], only_if: Mapping[str, str] | None) -> list[str]:
    config_dir = ensure_dir(resolve_dirs(environ).config)
    paths = {False: os.path.join(config_dir, CONFIG_FILE), True: os.path.join(config_dir, SECRETS_FILE)}
    files = {kind: _read(path) for kind, path in paths.items()}
    current = {**parse_env_file("\n".join(files[False])), **parse_env_file("\n".join(files[True]))}
    changed = []
    for key, value in wanted.items():
        if only_if is not None and current.get(key) != only_if.get(key):
            continue
        if value is not None and current.get(key) == value:
            continue
        if value is None and key not in current:
            continue
        for kind in (False, True):
            files[kind] = edit(files[kind], key, value if kind == _SECRET.get(key, False) else None)
        changed.append(key)
    if changed:
        for kind, path in paths.items():
            if files[kind] or os.path.exists(path):
                _write(path, files[kind])
    return changed


def apply_settings(environ: Mapping[str, str], values: Mapping[str, str]) -> list[str]:
    """Set every ``OMNICLAUDE_*`` key of ``values`` in the user's settings files; the keys that changed."""
    return _edit(environ, values, None)


def remove_settings(environ: Mapping[str, str], values: Mapping[str, str]) -> list[str]:
    """Remove the keys of ``values`` whose file value is still the one given; the keys removed."""
    return _edit(environ, dict.fromkeys(values), values)
