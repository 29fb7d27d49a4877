"""Rows as JSON, CSV and 80-column tables."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from omniclaude.report.render import cell, jsonable, to_json, write_csv, write_table


@dataclass(frozen=True)
class Row:
    claude_session_id: str
    started: datetime
    cost_usd: Decimal
    failure_rate: float
    note: str | None


ROWS = [
    Row("153ea425-3c84-4994", datetime(2026, 11, 28, 9, 5, tzinfo=timezone.utc), Decimal("0.0133"), 0.25, None),
    Row("aa8903f6-676b-498b", datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc), Decimal("12.5"), 0.0, "x" * 200),
]


def test_json_is_plain_and_stable() -> None:
    assert jsonable({"d": date(2026, 11, 1), "rows": ROWS[:1]}) == {
        "d": "2026-11-01",
        "rows": [
            {
                "claude_session_id": "153ea425-3c84-4994",
                "started": "2026-11-28T09:05:00+00:00",
                "cost_usd": 0.0133,
                "failure_rate": 0.25,
                "note": None,
            }
        ],
    }
    assert json.loads(to_json("sessions", ROWS))["report"] == "sessions"


def test_csv_has_a_header_and_empty_for_none() -> None:
    out = io.StringIO()
    write_csv(ROWS, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "claude_session_id,started,cost_usd,failure_rate,note"
    assert lines[1].endswith(",0.0133,0.25,")


def test_cells() -> None:
    assert cell("claude_session_id", "153ea425-3c84-4994") == "153ea425"
    assert cell("cost_usd", Decimal("0.0133")) == "0.0133"
    assert cell("cost_usd", Decimal("1234.5")) == "1,234.50"
    assert cell("failure_rate", 0.25) == "25.0%"
    assert cell("duration_s", 3725.0) == "1h02m"
    assert cell("x", None) == "-"


def test_tables_fit_80_columns() -> None:
    out = io.StringIO()
    columns = [("claude_session_id", "session"), ("started", "started"), ("cost_usd", "$"), ("note", "note")]
    write_table(ROWS, columns, "sessions", out)
    assert max(len(line) for line in out.getvalue().splitlines()) <= 80
    assert "…" in out.getvalue()
