"""Pointing the client settings at the stack, and taking them back, keeps everything else in the files."""

from __future__ import annotations

from pathlib import Path

from omniclaude.config import load_settings
from omniclaude.stack.client import apply_settings, remove_settings

STACK = {
    "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
    "OMNICLAUDE_DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:15432/omniclaude",
}


def test_apply_then_remove(tmp_path: Path) -> None:
    environ = {"OMNICLAUDE_HOME": str(tmp_path)}
    config = tmp_path / "config"
    config.mkdir(mode=0o700)
    (config / "config.env").write_text(
        "# mine\nOMNICLAUDE_CAPTURE_MODE=full\nOMNICLAUDE_DATABASE_URL=postgresql://x/y\n"
    )

    assert apply_settings(environ, STACK) == list(STACK)
    settings = load_settings(environ)
    assert settings.kafka_bootstrap_servers == "127.0.0.1:19092"
    assert settings.database_url == STACK["OMNICLAUDE_DATABASE_URL"]
    assert settings.capture_mode == "full"
    assert "s3cret" not in (config / "config.env").read_text()
    assert (config / "secrets.env").stat().st_mode & 0o777 == 0o600
    assert apply_settings(environ, STACK) == []

    assert remove_settings(environ, {**STACK, "OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}) == [
        "OMNICLAUDE_DATABASE_URL"
    ]
    assert remove_settings(environ, STACK) == ["OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS"]
    assert (config / "config.env").read_text() == "# mine\nOMNICLAUDE_CAPTURE_MODE=full\n"
