"""The start-up check: the database schema must not be behind this code.

Uses the migration runner's status (`omniclaude.db.migrations.schema_status`). Behind (migrations not
applied): refuse to start, `SchemaNotReady`, exit 1. Ahead (the database has newer migrations) or an
applied migration edited since: start, with a warning; migrations only add what older writers can
ignore, so an older consumer keeps working during a rolling upgrade.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from omniclaude.db import migrations

from omniclaude_consumer.errors import SchemaNotReady

log = logging.getLogger(__name__)


def check_schema(conn: psycopg.Connection[Any]) -> migrations.SchemaStatus:
    """Returns the schema status; raises SchemaNotReady when the schema is behind the code.

    Raises psycopg errors (the caller retries them) when the database cannot be read.
    """
    try:
        status = migrations.schema_status(conn)
    except migrations.MigrationError as exc:
        raise SchemaNotReady(f"cannot read the migration files: {exc}") from exc
    if status.behind:
        raise SchemaNotReady(
            f"the database schema is behind this consumer ({status.describe()}); "
            "apply the migrations first: omniclaude db upgrade"
        )
    if not status.is_current:
        log.warning("starting although the schema is not exactly this code's: %s", status.describe())
    return status
