"""Editing omniclaude's settings files (config.env, secrets.env) in place, keeping the user's own lines.

`omniclaude.config.parse_env_file` reads them; this module writes what it reads back: `encode` makes the
line for a value (or refuses one that cannot round-trip), `edit` sets or removes one key where it stands
(else where its commented-out template line is, else at the end), `template` is a new file with every
setting documented and commented out, `shown` is how a value may be printed. Standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence

from omniclaude.config import Field, parse_env_file
from omniclaude.masking import mask_url

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


def shown(f: Field, value: str) -> str:
    """How a value may be printed: secrets never, except URLs with their password masked."""
    if f.secret:
        return mask_url(value) if f.name.endswith("_url") else "***"
    return mask_url(value) if f.name.endswith("_url") else value


def line_key(line: str) -> str | None:
    """The key an active `KEY=value` line sets (as config.parse_env_file reads it), else None."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith("export "):
        text = text[len("export ") :].lstrip()
    key, sep, _value = text.partition("=")
    return key.strip() if sep else None


def encode(key: str, value: str) -> str:
    """The `KEY=value` line that parse_env_file reads back as `value`; ValueError when none can."""
    text = value.replace("\n", "\\n")
    if text != text.strip() or (len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""):
        text = '"' + text + '"'
    if parse_env_file(f"{key}={text}").get(key) != value:
        raise ValueError(f"the value of {key} cannot be stored in a settings file")
    return f"{key}={text}"


def template(secret: bool, fields: Sequence[Field]) -> list[str]:
    """A new file: its header, then each of `fields` it holds, documented and commented out."""
    lines = list(HEADERS[secret])
    for f in fields:
        if f.secret == secret:
            lines += ["", f"# {f.doc}", f"# {f.env}={'' if f.default is None else f.default}"]
    return lines


def edit(lines: list[str], key: str, value: str | None, placeholder: str | None = None) -> list[str]:
    """Sets `key` to `value` in `lines`: in place of its line, else of its commented-out template line,
    else at the end. None removes it, leaving `placeholder` (the template line) in its place."""
    out: list[str] = []
    placed = False
    for line in lines:
        if line_key(line) == key:
            if not placed and (value is not None or placeholder is not None):
                out.append(encode(key, value) if value is not None else str(placeholder))
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
