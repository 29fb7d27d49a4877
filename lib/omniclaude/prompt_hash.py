"""The per-install key that hash capture mode signs prompts with (HMAC-SHA256), kept in secrets.env.

`ensure_key(settings)` returns the key, creating it when missing: 32 random bytes from `secrets.token_hex`,
appended to `<config dir>/secrets.env` as `OMNICLAUDE_PROMPT_HASH_KEY=...` (the file created 0600, its
folder 0700). When two processes race, the first line in the file wins and both return it. The forwarder
calls it on first use in hash mode; the installer may call it too. Standard library only.

`digest(key, prompt)` is `hmac-sha256:<hex>`: equal prompts match within one installation, while nobody
without the key can confirm a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from omniclaude.config import Settings, config_paths, env_name

FIELD = "prompt_hash_key"
PREFIX = "hmac-sha256:"


def digest(key: str, prompt: str) -> str:
    """The HMAC-SHA256 of ``prompt`` (UTF-8) under ``key``, as ``hmac-sha256:<hex>``."""
    mac = hmac.new(key.encode("utf-8"), prompt.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return PREFIX + mac.hexdigest()


def _first_key(path: str) -> str | None:
    name = env_name(FIELD) + "="
    try:
        with open(path, encoding="utf-8") as handle:
            for raw in handle:
                line = raw.strip()
                if line.startswith("export "):
                    line = line[len("export ") :].lstrip()
                if line.startswith(name) and len(line) > len(name):
                    return line[len(name) :].strip().strip("'\"")
    except (OSError, UnicodeDecodeError):
        return None
    return None


def ensure_key(settings: Settings) -> str:
    """The prompt hash key from ``settings``, or from secrets.env, or a new one written there.

    Raises OSError when secrets.env cannot be written.
    """
    configured = getattr(settings, FIELD)
    if configured:
        return str(configured)
    _, path = config_paths(settings.environ)
    found = _first_key(path)
    if found:
        return found
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if os.fstat(fd).st_size:
            with open(path, "rb") as handle:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    os.write(fd, b"\n")
        os.write(fd, f"{env_name(FIELD)}={secrets.token_hex(32)}\n".encode())
    finally:
        os.close(fd)
    found = _first_key(path)
    if not found:
        raise OSError(f"could not read the prompt hash key back from {path}")
    return found
