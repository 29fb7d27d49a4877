"""The report scenario's fixtures, for the CLI tests that read a seeded database."""

from __future__ import annotations

from tests.omniclaude.db.conftest import new_database
from tests.omniclaude.report.conftest import now, seeded_url

__all__ = ["new_database", "now", "seeded_url"]
