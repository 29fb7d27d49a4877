"""The skills are laid out as Claude Code discovers them, and each SKILL.md keeps its contract.

Claude Code looks one level below a plugin's `skills/` for `<name>/SKILL.md`; the frontmatter's
`allowed-tools` must cover exactly the command the body tells the agent to run, and the body's examples
must really work (they are run here, in-process).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ._support import SKILL_NAMES, SKILLS_DIR, load, spool_events
from .conftest import Where

PLUGIN_ROOT = "${CLAUDE_PLUGIN_ROOT}"
FENCE = re.compile(r"```bash\n(.*?)```", re.DOTALL)


SHIM = f"{PLUGIN_ROOT}/hooks/run"


def _command(name: str) -> str:
    return f"{SHIM} skills/{name}/execute.py"


def _split(name: str) -> tuple[dict[str, str], str]:
    """Returns (frontmatter as flat key: value pairs, body) of skills/<name>/SKILL.md."""
    text = (SKILLS_DIR / name / "SKILL.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    fields = {}
    for line in head.splitlines():
        key, sep, value = line.partition(": ")
        assert sep and re.fullmatch(r"[a-z-]+", key), f"not a flat `key: value` line: {line!r}"
        fields[key] = value
    return fields, body


def test_claude_code_finds_each_skill_one_level_below_skills() -> None:
    found = sorted(path.parent.name for path in SKILLS_DIR.glob("*/SKILL.md"))
    assert found == sorted(SKILL_NAMES)
    assert sorted(SKILLS_DIR.glob("**/SKILL.md")) == sorted(SKILLS_DIR.glob("*/SKILL.md"))
    for name in SKILL_NAMES:
        assert (SKILLS_DIR / name / "execute.py").is_file()


@pytest.mark.parametrize("name", SKILL_NAMES)
def test_frontmatter(name: str) -> None:
    fields, _body = _split(name)
    assert set(fields) == {"name", "description", "allowed-tools"}
    assert fields["name"] == name and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) and len(name) <= 64
    description = fields["description"]
    assert description.startswith("Use when") and len(description) <= 1024
    # A YAML plain scalar: no ": " or " #" inside, no quote or indicator first.
    assert ": " not in description and " #" not in description and description[0].isalpha()
    assert fields["allowed-tools"] == f"Bash({_command(name)}:*)"


@pytest.mark.parametrize("name", SKILL_NAMES)
def test_body_points_to_help_and_stays_short(name: str) -> None:
    _fields, body = _split(name)
    prose = " ".join(body.split())
    assert f"`{_command(name)} --help`" in prose
    assert "do not read the script's source" in prose
    assert len((SKILLS_DIR / name / "SKILL.md").read_text(encoding="utf-8").splitlines()) < 500


@pytest.mark.parametrize("name", SKILL_NAMES)
def test_every_command_in_the_body_is_covered_by_allowed_tools(name: str) -> None:
    _fields, body = _split(name)
    assert "python3" not in body  # every run goes through the shim, which picks the interpreter
    for mention in re.findall(re.escape(SHIM) + r" \S+", body):
        assert mention == _command(name), mention


@pytest.mark.parametrize("name", SKILL_NAMES)
def test_the_worked_examples_run(skill_env: Where, capsys: pytest.CaptureFixture[str], name: str) -> None:
    _fields, body = _split(name)
    commands = [line for block in FENCE.findall(body) for line in block.splitlines() if line.startswith(f"{SHIM} ")]
    assert commands, "SKILL.md has no worked example"
    for line in commands:
        argv = shlex.split(line)
        assert argv[:2] == [SHIM, f"skills/{name}/execute.py"]
        assert load(name).main(argv[2:]) == 0, capsys.readouterr().err
    assert len(spool_events(skill_env.home)) == len(commands)


def test_no_stray_files_in_skills() -> None:
    allowed = {"SKILL.md", "execute.py", "__pycache__"}
    for entry in SKILLS_DIR.iterdir():
        assert entry.is_dir() and entry.name in SKILL_NAMES, entry
        assert {child.name for child in entry.iterdir()} <= allowed, entry


def test_scripts_reach_the_plugin_lib_with_one_path_line() -> None:
    line = 'sys.path.insert(0, os.path.abspath(os.path.join(__file__, "..", "..", "..", "lib")))'
    for name in SKILL_NAMES:
        source = (SKILLS_DIR / name / "execute.py").read_text(encoding="utf-8")
        assert source.count("sys.path") == 1 and line in source
        assert Path(SKILLS_DIR / name / "execute.py").read_text().startswith("#!/usr/bin/env python3\n")
