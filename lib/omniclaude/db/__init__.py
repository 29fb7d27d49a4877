"""omniclaude's PostgreSQL schema: the migration runner and retention.

`omniclaude.db.migrations` applies, reverts and reports the versioned SQL migrations shipped as the
package `omniclaude_migrations`; `omniclaude.db.prune` deletes old event rows. Both take an open
psycopg 3 connection; the `omniclaude db` CLI (`omniclaude.cli.db`) wraps them. Import from those
modules; this package re-exports nothing.
"""
