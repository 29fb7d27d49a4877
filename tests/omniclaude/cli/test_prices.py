"""`omniclaude prices` through the real entry point: the table, the user's file, a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omniclaude.cli import main


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path))
    return tmp_path / "config"


def test_prints_the_shipped_table(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices"]) == 0
    out = capsys.readouterr().out
    assert "claude-opus-5-5" in out and "above 100000 tokens" in out
    assert str(config_dir / "prices.json") in out


def test_json_shows_the_users_entries(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir.mkdir()
    entry = {"input": 1, "output": 2, "cache_read": 0.1, "cache_write_5m": 1.25, "cache_write_1h": 2}
    (config_dir / "prices.json").write_text(json.dumps({"models": {"local-llm": entry}}))
    assert main(["prices", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["models"]["local-llm"] == entry
    assert table["models"]["claude-opus-5-5"]["input"] == 4
    assert table["sources"][-1] == str(config_dir / "prices.json")


def test_a_bad_file_is_one_line_and_exit_1(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir.mkdir()
    (config_dir / "prices.json").write_text('{"models": {"m": {"input": "cheap"}}}')
    assert main(["prices"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'input' must be a non-negative number" in err
