"""The migrations ship in the wheel as package `omniclaude_migrations`, and an installed wheel (no
checkout in sight) loads them. Builds the wheel from a copy of the source tree, so the checkout gets no
build/ directory. Needs pip's build isolation (setuptools from the package index, or pip's cache)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("pyproject.toml", "MANIFEST.in", "README.md", "lib", "consumer", "sql", ".claude-plugin")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")


def _expected() -> set[str]:
    return {p.name for p in (ROOT / "sql" / "migrations").glob("*.sql")}


def _build_wheel(tmp_path: Path) -> Path:
    tree = tmp_path / "src"
    tree.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=IGNORED)
        elif source.exists():
            shutil.copy2(source, tree / name)
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(tree), "-w", str(out), "--no-deps", "-q",
         "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    (wheel,) = out.glob("omniclaude-*.whl")
    return wheel


def test_the_wheel_ships_and_finds_the_migrations(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n.split("/", 1)[1] for n in archive.namelist() if n.startswith("omniclaude_migrations/")}
        assert shipped == _expected() | {"__init__.py"}
        installed = tmp_path / "installed"
        archive.extractall(installed)  # a pure wheel installs by unpacking

    # -S: no site-packages processing, so neither the editable install nor the checkout is importable;
    # psycopg comes from its own directory, put after the unpacked wheel.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(installed), str(Path(psycopg.__file__).parents[1])]),
    }
    code = (
        "import json, omniclaude_migrations, omniclaude.db.migrations as m\n"
        "print(json.dumps([omniclaude_migrations.__file__, [x.filename(d) for x in m.load_migrations() "
        "for d in ('up', 'down')]]))"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    location, files = json.loads(result.stdout)
    assert Path(location).is_relative_to(installed)
    assert set(files) == _expected()
