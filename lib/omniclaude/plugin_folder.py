"""The plugin folder install.sh builds, and what Claude Code's listings say about it.

The folder (`<data dir>/plugin`) holds what the plugin needs at run time and nothing else of the checkout:
the manifest, the hooks, the skills and the omniclaude package they import. Its plugin.json version is the
checkout's plus a digest of the files (`0.1.0+1a2b3c4d5e6f`), so Claude Code sees each change as a new
version and refreshes its copy. `source_hash` says when the venv needs a new `pip install`. The listing
readers take `claude plugin ... list --json` output as untrusted text. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping

PLUGIN_NAME = "omniclaude"
MARKETPLACE = "omniclaude-local"
PLUGIN_ID = f"{PLUGIN_NAME}@{MARKETPLACE}"
MANIFEST = ".claude-plugin/plugin.json"
# What the plugin needs at run time: the manifest, the hooks, the skills and the omniclaude package they
# import (the hook's launcher puts this lib/ first on the forwarder's path, so the package goes whole).
PLUGIN_TREES = (".claude-plugin", "hooks", "skills", "lib/omniclaude")
# What `pip install <checkout>` builds from: a change here means the venv needs a new install.
HASHED = (
    "pyproject.toml",
    "MANIFEST.in",
    "setup.py",
    "setup.cfg",
    ".claude-plugin/plugin.json",
    "lib",
    "consumer",
    "sql",
)
SKIPPED = ("__pycache__", ".pyc", ".pyo", ".mypy_cache", ".pytest_cache", ".ruff_cache")


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _walk(root: str, top: str) -> list[str]:
    """The files under `root/top` (or `top` itself), relative to `root` with `/`, sorted, caches skipped."""
    path = os.path.join(root, top)
    if os.path.isfile(path):
        return [top]
    found = []
    for folder, subdirs, names in os.walk(path):
        subdirs[:] = sorted(d for d in subdirs if not d.endswith(SKIPPED) and not d.endswith(".egg-info"))
        for name in sorted(names):
            if not name.endswith(SKIPPED):
                found.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return found


def source_hash(repo: str) -> str:
    """A digest of everything `pip install <checkout>` builds from."""
    total = hashlib.sha256()
    for top in HASHED:
        for rel in _walk(repo, top):
            digest = hashlib.sha256(read_bytes(os.path.join(repo, rel))).hexdigest()
            total.update(f"{rel}\0{digest}\n".encode("utf-8", "surrogateescape"))
    return total.hexdigest()


def plugin_files(repo: str) -> dict[str, str]:
    """The plugin folder's files: relative path -> source path in the checkout."""
    return {rel: os.path.join(repo, rel) for top in PLUGIN_TREES for rel in _walk(repo, top)}


def tree_files(root: str) -> list[str]:
    return _walk(root, ".") if os.path.isdir(root) else []


def plugin_version(repo: str, files: Mapping[str, str]) -> str:
    """plugin.json's version plus a digest of the plugin's files (`0.1.0+1a2b3c4d5e6f`), so that Claude Code
    sees every change as a new version and refreshes its copy."""
    manifest = json.loads(read_bytes(os.path.join(repo, MANIFEST)))
    total = hashlib.sha256()
    for rel in sorted(files):
        total.update(rel.encode() + b"\0" + hashlib.sha256(read_bytes(files[rel])).digest())
    return f"{manifest['version']}+{total.hexdigest()[:12]}"


def stamp_manifest(data: bytes, version: str) -> bytes:
    manifest = json.loads(data)
    manifest["version"] = version
    return (json.dumps(manifest, indent=2) + "\n").encode()


def is_json_list(text: str | None) -> bool:
    try:
        return isinstance(json.loads(text or ""), list)
    except ValueError:
        return False


def _entries(text: str | None) -> list[dict[str, object]] | None:
    try:
        parsed = json.loads(text or "")
    except ValueError:
        return None
    return [entry for entry in parsed if isinstance(entry, dict)] if isinstance(parsed, list) else None


def marketplace_path(listing: str | None, name: str) -> str:
    """The folder a marketplace was added from, per `claude plugin marketplace list --json` ("" if none)."""
    for entry in _entries(listing) or []:
        if entry.get("name") == name:
            return str(entry.get("path") or entry.get("installLocation") or "")
    return ""


def has_plugin(listing: str | None, plugin_id: str) -> bool | None:
    """Whether `claude plugin list --json` lists the plugin; None when the listing is not JSON."""
    entries = _entries(listing)
    if entries is None:
        return None
    return any(entry.get("id") == plugin_id for entry in entries)
