"""`omniclaude dashboard` refuses, with one line and before listening, what cannot work or is unsafe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from omniclaude.cli import main
from omniclaude.db.migrations import upgrade


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OMNICLAUDE_DATABASE_URL", raising=False)
    monkeypatch.delenv("OMNICLAUDE_DASHBOARD_TOKEN", raising=False)


def test_a_non_loopback_host_without_a_token_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--host", "0.0.0.0", "--database-url", "postgresql://x@127.0.0.1:1/x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "without a token" in err and "OMNICLAUDE_DASHBOARD_TOKEN" in err


def test_an_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--port", "0", "--database-url", "postgresql://app:pw-9@127.0.0.1:1/x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect" in err and "pw-9" not in err


def test_a_schema_behind_is_one_line(capsys: pytest.CaptureFixture[str], new_database: Callable[[], str]) -> None:
    url = new_database()
    with psycopg.connect(url) as conn:
        upgrade(conn, to=2)
    assert main(["dashboard", "--port", "0", "--token", "t", "--host", "0.0.0.0", "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run `omniclaude db upgrade`" in err
