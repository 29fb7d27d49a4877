from __future__ import annotations

import pytest
from omniclaude.forwarder import redaction
from omniclaude.forwarder.redaction import CachingRedactor
from omniclaude.redact import Redactor

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
LONG_CLEAN = "plain words and numbers 12345 " * 20  # long enough to compile the scan


def test_short_strings_are_served_from_the_cache_once_known() -> None:
    plain, cached = Redactor(), CachingRedactor()
    first = {"cwd": "/home/dev/app", "tool": "Bash", "note": f"token={SECRET}", "text": LONG_CLEAN}
    assert cached.redact(first) == plain.redact(first)
    assert cached._cache["/home/dev/app"] == "/home/dev/app"  # clean: known from now on
    assert SECRET not in cached._cache[f"token={SECRET}"]
    # known clean, known secret and a new secret in one event
    second = {"cwd": "/home/dev/app", "note": f"token={SECRET}", "new": f"password=x{SECRET}", "tool": "Bash"}
    out = cached.redact(second)
    assert out == plain.redact(second)
    assert SECRET not in repr(out)


def test_a_short_secret_among_known_strings_is_still_redacted() -> None:
    cached = CachingRedactor()
    cached.redact({"a": "/home/dev/app", "text": LONG_CLEAN})
    out = cached.redact({"a": "/home/dev/app", "b": f"Authorization: Bearer {SECRET}"})
    assert out["a"] == "/home/dev/app"
    assert SECRET not in out["b"]


def test_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redaction, "MAX_CACHE_ENTRIES", 50)
    cached = CachingRedactor()
    for index in range(40):
        cached.redact({"text": LONG_CLEAN, "ids": [f"id-{index}-{n}" for n in range(7)]})
        assert len(cached._cache) <= 50
