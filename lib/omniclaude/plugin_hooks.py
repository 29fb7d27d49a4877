"""The plugin's hooks.json as each platform runs it; the installer writes it into the plugin folder.

The checkout's `hooks/hooks.json` is in shell form: `"${CLAUDE_PLUGIN_ROOT}/hooks/run" hooks/capture.py
EVENT`, run by `sh -c` on Linux and macOS and by Git Bash on Windows, where Claude Code hands
`CLAUDE_PLUGIN_ROOT` over with forward slashes. On Windows the installer writes exec form instead:

    {"command": "<recorded python.exe>", "args": ["-I", "-S", "${CLAUDE_PLUGIN_ROOT}/hooks/capture.py", EVENT]}

Claude Code starts that program itself, with no shell (neither Git Bash nor PowerShell) and its window
hidden, and replaces `${CLAUDE_PLUGIN_ROOT}` inside each argument, so backslashes and spaces in the path
never meet a shell parser. The interpreter is the one the installer recorded, chosen as `hooks/run`
chooses it. Standard library only (the installer runs before the virtual environment exists).
"""

from __future__ import annotations

import copy
import json
import shlex

HOOKS_JSON = "hooks/hooks.json"
"""Where hooks.json lies in the plugin folder."""
SHIM = "${CLAUDE_PLUGIN_ROOT}/hooks/run"
HOOK_FLAGS = ("-I", "-S")
"""How `hooks/run` starts a hook script: isolated, without site-packages (the hook is standard library only)."""


def exec_form(hooks: dict[str, object], python: str) -> dict[str, object]:
    """Returns a copy of a hooks.json document in which every hook run through the shim is in exec form
    under `python`; other hooks are left as they are."""
    result = copy.deepcopy(hooks)
    events = result.get("hooks")
    for groups in events.values() if isinstance(events, dict) else ():
        for group in groups if isinstance(groups, list) else ():
            for hook in group.get("hooks", []) if isinstance(group, dict) else ():
                words = shlex.split(hook.get("command", "")) if isinstance(hook, dict) else []
                if len(words) >= 2 and words[0] == SHIM:
                    hook["command"] = python
                    hook["args"] = [*HOOK_FLAGS, "${CLAUDE_PLUGIN_ROOT}/" + words[1], *words[2:]]
    return result


def hooks_json_for(text: str, platform: str, python: str) -> str:
    """Returns the hooks.json text the plugin folder gets on `platform` (a `sys.platform` value): the
    checkout's text unchanged, except on Windows, where it is rewritten in exec form under `python`."""
    if platform != "win32":
        return text
    return json.dumps(exec_form(json.loads(text), python), indent=2, ensure_ascii=False) + "\n"
