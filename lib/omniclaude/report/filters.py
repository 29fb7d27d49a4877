"""What a report looks at: a time window, an optional project, a row limit.

`parse_when("7d")` is seven days before now; an ISO date or timestamp (`2026-11-01`,
`2026-11-01T12:00:00+00:00`) is taken as given, UTC when it names no zone. Raises ValueError with a
message fit for a command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

DEFAULT_SINCE = timedelta(days=7)
DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time from `7d`/`12h` (that long before now) or an ISO date/timestamp."""
    from omniclaude.db.prune import parse_duration

    text = text.strip()
    if text and text[-1] in "smhdw" and text[:-1].isdigit():
        return (now or _now()) - parse_duration(text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid time {text!r}: want a duration such as 7d or 12h, or a date 2026-11-01") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Window:
    """The rows a report reads: occurred in [since, until), of `project` when set, at most `limit`."""

    since: datetime = field(default_factory=lambda: _now() - DEFAULT_SINCE)
    until: datetime | None = None
    project: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        if self.until is not None and self.until <= self.since:
            raise ValueError("--until must be later than --since")

    @property
    def end(self) -> datetime:
        """`until`, or far in the future when open-ended."""
        return self.until or datetime(9999, 1, 1, tzinfo=timezone.utc)

    @property
    def params(self) -> dict[str, object]:
        """The query parameters every report's SQL uses: since, until, project."""
        return {"since": self.since, "until": self.end, "project": self.project}
