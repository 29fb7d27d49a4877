"""The forwarder package: no re-exports, and that importing it loads neither kafka nor pydantic."""

from __future__ import annotations

import ast
import subprocess
import sys

import omniclaude.db
import omniclaude.forwarder


def test_the_package_faces_reexport_nothing() -> None:
    for package in (omniclaude.forwarder, omniclaude.db):
        assert package.__file__ is not None
        with open(package.__file__, encoding="utf-8") as handle:
            body = ast.parse(handle.read()).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), package  # the docstring only


def test_importing_the_forwarder_loads_no_kafka() -> None:
    code = (
        "import sys, omniclaude.forwarder, omniclaude.cli.forward, omniclaude.cli.flush\n"
        "print(sorted(m for m in ('kafka', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
