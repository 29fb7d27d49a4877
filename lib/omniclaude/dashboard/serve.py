"""Running the dashboard: refuse what is unsafe or cannot work, then serve with uvicorn until stopped.

`serve` raises BindRefusedError for a non-loopback host without a token, and the report errors
(DatabaseUnreachableError, SchemaBehindError) when the database cannot be read, all before it listens.
"""

from __future__ import annotations

from omniclaude import report
from omniclaude.dashboard.security import check_bind

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090


def check_database(database_url: str | None) -> str:
    """Returns the URL once a read-only session reaches a schema this code can read; raises ReportError."""
    with report.connect(database_url) as conn:
        report.require_schema(conn)
    assert database_url is not None
    return database_url


def serve(
    database_url: str | None, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None
) -> None:
    """Serves the dashboard on host:port until SIGINT/SIGTERM."""
    import uvicorn

    from omniclaude.dashboard.app import create_app

    check_bind(host, token)
    url = check_database(database_url)
    app = create_app(url, token=token)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False)
