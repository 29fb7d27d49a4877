"""Server-side SVG charts: escaped labels, no inline style, an explicit empty state."""

from __future__ import annotations

from omniclaude.dashboard.charts import EMPTY_TEXT, bar_chart, stacked_bar_chart


def test_labels_are_escaped_and_nothing_needs_unsafe_inline() -> None:
    svg = str(bar_chart("calls <b>", [("<script>alert(1)</script>", 3), ("Read", 1)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "style=" not in svg and svg.count("<rect") == 2


def test_stacked_bars_have_a_legend() -> None:
    svg = str(stacked_bar_chart("cost", ["11-27", "11-28"], [("opus", [1.0, 0.0]), ("haiku", [0.5, 0.25])]))
    assert svg.count("<rect") == 3 + 2  # three non-zero segments, two legend swatches
    assert ">opus</text>" in svg and ">haiku</text>" in svg


def test_an_empty_series_says_so() -> None:
    assert EMPTY_TEXT in str(bar_chart("sessions", [("11-28", 0)]))
    assert EMPTY_TEXT in str(stacked_bar_chart("cost", [], []))
