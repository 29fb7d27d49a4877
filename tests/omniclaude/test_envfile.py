"""Editing the settings files: every value round-trips through parse_env_file or is refused."""

from __future__ import annotations

import pytest
from omniclaude.config import parse_env_file
from omniclaude.envfile import edit, encode


def test_encode_round_trips_or_refuses() -> None:
    for value in ("plain", " padded ", "'quoted'", "a=b", "two\nlines"):
        key, _, _ = encode("K", value).partition("=")
        assert parse_env_file(encode("K", value)) == {key: value}
    with pytest.raises(ValueError, match="cannot be stored"):
        encode("K", "x\\ny")


def test_edit_replaces_in_place_and_leaves_the_placeholder() -> None:
    lines = ["# head", "# K=", "OTHER=1"]
    assert edit(lines, "K", "v") == ["# head", "K=v", "OTHER=1"]
    assert edit(["K=v", "OTHER=1"], "K", None, "# K=") == ["# K=", "OTHER=1"]
    assert edit(["OTHER=1"], "K", "v") == ["OTHER=1", "K=v"]
