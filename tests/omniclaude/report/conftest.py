"""A database migrated to the latest schema and seeded with the scenario (see `scenario`)."""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest
from omniclaude.db.migrations import upgrade

from tests.omniclaude.report.scenario import seed_scenario


@pytest.fixture(scope="module")
def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def seeded_url(database_url: str, now: datetime) -> str:
    """The module's database, migrated and seeded once."""
    with psycopg.connect(database_url) as conn:
        upgrade(conn)
        seed_scenario(conn, now)
    return database_url
