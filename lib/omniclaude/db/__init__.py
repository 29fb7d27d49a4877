"""omniclaude's PostgreSQL schema: the migration runner and retention.

`omniclaude.db.migrations` applies, reverts and reports the versioned SQL migrations shipped as the
package `omniclaude_migrations`; `omniclaude.db.prune` deletes old event rows. Both take an open
psycopg 3 connection; the `omniclaude db` CLI (`omniclaude.cli.db`) wraps them.
"""

from omniclaude.db.migrations import (
    AppliedMigration,
    DatabaseAheadError,
    Migration,
    MigrationError,
    MigrationFailedError,
    MigrationSourceError,
    ModifiedMigrationError,
    SchemaNotCurrentError,
    SchemaStatus,
    UnknownVersionError,
    applied_migrations,
    current_version,
    downgrade,
    downgrade_script,
    latest_version,
    load_migrations,
    pending,
    require_current,
    schema_status,
    upgrade,
    upgrade_script,
)
from omniclaude.db.prune import parse_duration, prune

__all__ = [
    "AppliedMigration",
    "DatabaseAheadError",
    "Migration",
    "MigrationError",
    "MigrationFailedError",
    "MigrationSourceError",
    "ModifiedMigrationError",
    "SchemaNotCurrentError",
    "SchemaStatus",
    "UnknownVersionError",
    "applied_migrations",
    "current_version",
    "downgrade",
    "downgrade_script",
    "latest_version",
    "load_migrations",
    "parse_duration",
    "pending",
    "prune",
    "require_current",
    "schema_status",
    "upgrade",
    "upgrade_script",
]
