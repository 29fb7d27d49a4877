"""Fixtures for the integration drills: ``migrated_url``, a fresh database with the real schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.consumer.conftest import migrate
from tests.harness.postgres import database_name


@pytest.fixture
def migrated_url(postgres: Any) -> Iterator[str]:
    url = migrate(postgres.create_database())
    yield url
    postgres.drop_database(database_name(url))
