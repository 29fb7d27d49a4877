"""Windows and times given on a command line or in a query string."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from omniclaude.report import Window, parse_when

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=timezone.utc)),
        ("2026-11-01T08:30:00+02:00", datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["", "soon", "7 days", "0d", "-1d", "2026-13-01"])
def test_parse_when_refuses_with_a_readable_message(text: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        parse_when(text, now=NOW)


def test_window_bounds() -> None:
    with pytest.raises(ValueError, match="limit"):
        Window(limit=0)
    with pytest.raises(ValueError, match="--until must be later"):
        Window(since=NOW, until=NOW - timedelta(days=1))
    assert Window(since=NOW).params == {"since": NOW, "until": Window(since=NOW).end, "project": None}
