import json

import pytest
from omniclaude import _fastjson

SAMPLES = [
    {"a": 1, "b": [1.5, -2, None, True, False], "c": {"d": 'é\n\t"\\'}, "e": "\u2028 \U0001f600"},
    [],
    "text",
    12345678901234567890,
    {"nested": [[[{"x": []}]]]},
]


@pytest.mark.parametrize("value", SAMPLES)
def test_matches_the_json_module(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert _fastjson.dumps(value) == text
    assert _fastjson.loads(text) == json.loads(text)
    assert _fastjson.loads(json.dumps(value, indent=2)) == value


@pytest.mark.parametrize("bad", ["", "   ", "{", '{"a":1} x', "[1,]", "{'a': 1}", "nul"])
def test_rejects_what_json_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        json.loads(bad)
    with pytest.raises(ValueError):
        _fastjson.loads(bad)
