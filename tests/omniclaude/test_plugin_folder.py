"""The plugin folder's contents and Claude Code's listings, read as untrusted text."""

from __future__ import annotations

import json
from pathlib import Path

from omniclaude.plugin_folder import has_plugin, marketplace_path, plugin_files

REPO = Path(__file__).resolve().parents[2]


def test_the_plugin_holds_only_what_runs_in_claude_code() -> None:
    files = plugin_files(str(REPO))
    tops = {rel.split("/")[0] for rel in files}
    assert tops == {".claude-plugin", "hooks", "lib", "skills"}
    assert "hooks/hooks.json" in files and "lib/omniclaude/hook.py" in files
    assert {rel.split("/")[1] for rel in files if rel.startswith("lib/")} == {"omniclaude"}
    assert "lib/omniclaude/forwarder/run.py" in files  # the hook's launcher starts the forwarder from it
    assert not [rel for rel in files if "__pycache__" in rel or ".venv" in rel]


def test_listings_are_read_defensively() -> None:
    market = json.dumps([{"name": "omniclaude-local", "path": "/p"}, "junk"])
    assert marketplace_path(market, "omniclaude-local") == "/p"
    assert marketplace_path("not json", "omniclaude-local") == ""
    assert has_plugin(json.dumps([{"id": "omniclaude@omniclaude-local"}]), "omniclaude@omniclaude-local") is True
    assert has_plugin("[]", "omniclaude@omniclaude-local") is False
    assert has_plugin("Installed plugins: ...", "omniclaude@omniclaude-local") is None
