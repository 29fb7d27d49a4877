"""Report rows as JSON, CSV or an 80-column table.

- `jsonable(value)`: dataclasses, lists and dicts to plain JSON values: datetimes and dates as ISO
  8601 strings, Decimal as float, others unchanged. The JSON of a report is `{"report": name,
  "rows": [...]}` with the rows' field names as keys: stable for scripts.
- `write_csv(rows, out)`: a header of field names, then one line per row.
- `write_table(rows, title, out)`: a rich table; long text is cut with an ellipsis, session ids are
  shortened to 8 characters, times shown to the minute (UTC).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import IO, Any

TABLE_WIDTH = 80


def jsonable(value: Any) -> Any:
    """`value` as plain JSON types (see the module docstring)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def to_json(name: str, rows: Sequence[Any]) -> str:
    """The JSON document of a report."""
    return json.dumps({"report": name, "rows": jsonable(list(rows))}, indent=2, ensure_ascii=False)


def _fields(rows: Sequence[Any]) -> list[str]:
    return [f.name for f in dataclasses.fields(rows[0])] if rows else []


def write_csv(rows: Sequence[Any], out: IO[str]) -> None:
    """Rows as CSV with a header line (nothing for no rows)."""
    if not rows:
        return
    writer = csv.writer(out)
    names = _fields(rows)
    writer.writerow(names)
    for row in rows:
        plain = jsonable(row)
        writer.writerow(["" if plain[n] is None else plain[n] for n in names])


def cell(name: str, value: Any) -> str:
    """One value as a short table cell."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%m-%d %H:%M")
    if isinstance(value, Decimal):
        if not name.endswith("usd"):
            return str(value)
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4f}"
    if isinstance(value, float):
        if name.endswith("rate"):
            return f"{value:.1%}"
        if name.endswith("_s"):
            return _duration(value)
        return f"{value:.0f}" if abs(value) >= 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value).replace("\n", " ")
    if name == "claude_session_id":
        return text[:8]
    return text


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def write_table(
    rows: Sequence[Any], columns: Sequence[tuple[str, str]], title: str, out: IO[str], *, width: int = TABLE_WIDTH
) -> None:
    """Rows as a rich table of `columns` (field, header); `empty` text when there are none."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=width, color_system=None, highlight=False, soft_wrap=False)
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        title_justify="left",
    )
    for field, header in columns:
        values = [getattr(row, field) for row in rows if getattr(row, field) is not None]
        numeric = bool(values) and all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in values)
        table.add_column(header, justify="right" if numeric else "left", overflow="ellipsis", no_wrap=True)
    for row in rows:
        table.add_row(*(cell(field, getattr(row, field)) for field, _ in columns))
    console.print(table)
