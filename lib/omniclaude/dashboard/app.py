"""The dashboard's ASGI app: one HTML page and its JSON twin per view, over `omniclaude.report`.

Pages (each also at the same path + `.json`, the data the page shows):
    /                      overview: sessions per day, cost per day by model, failure rate, open sessions
    /sessions              the sessions of the window, filterable by project
    /sessions/{id}         one session: figures, timeline with subagents nested, prompts, usage
    /sessions/{id}/events.json?after=N   the session's events after id N (what the page polls)
    /tools, /agents, /projects
Query parameters: since (7d, 12h or a date; default 7d, 14d for the overview), until, project, limit.

Contract: the app holds no SQL (it calls `omniclaude.report`), reads through a pool of read-only
connections (`report.connect_kwargs`), escapes every value (Jinja2 autoescape; charts escape their
labels), and serves its templates, CSS and script from the package. A database that fails mid-flight
gives a 503 page with one line; a bad query parameter a 400.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from jinja2 import Environment, PackageLoader, select_autoescape
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from omniclaude import report
from omniclaude.dashboard import charts
from omniclaude.dashboard.security import SecurityMiddleware
from omniclaude.report.render import cell, jsonable

STATIC_DIR = Path(__file__).with_name("static")
MAX_LIMIT = 500
POLL_SECONDS = 2

Handler = Callable[[Request, "psycopg.Connection[Any]", report.Window], tuple[str, dict[str, Any]]]


class BadRequestError(ValueError):
    """A query parameter does not parse."""


def _window(request: Request, default_since: timedelta) -> report.Window:
    params = request.query_params
    try:
        since = params.get("since") or f"{default_since.days}d"
        until = params.get("until")
        limit = int(params.get("limit") or report.filters.DEFAULT_LIMIT)
        return report.Window(
            since=report.parse_when(since),
            until=report.parse_when(until) if until else None,
            project=params.get("project") or None,
            limit=max(1, min(limit, MAX_LIMIT)),
        )
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None


def _usd(value: Decimal | float | None) -> str:
    if value is None:
        return "-"
    amount = float(value)
    return f"${amount:,.2f}" if abs(amount) >= 1 or amount == 0 else f"${amount:.4f}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("omniclaude.dashboard", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = lambda value, name="": cell(name, value)
    env.globals["usd"] = _usd
    return env


def _overview(request: Request, conn: psycopg.Connection[Any], window: report.Window) -> tuple[str, dict[str, Any]]:
    data = report.overview(conn, window)
    labels = [d.day.strftime("%m-%d") for d in data.days]
    models = sorted({c.model for c in data.cost_per_day})
    by_day = {(c.day.isoformat(), c.model): float(c.cost_usd) for c in data.cost_per_day}
    series = [(m or "unknown", [by_day.get((d.day.isoformat(), m), 0.0) for d in data.days]) for m in models]
    figures = {
        "sessions_chart": charts.bar_chart(
            "sessions per day", [(lab, d.sessions) for lab, d in zip(labels, data.days, strict=True)]
        ),
        "cost_chart": charts.stacked_bar_chart("cost per day by model", labels, series, fmt=lambda v: f"${v:,.2f}"),
        "failure_chart": charts.bar_chart(
            "failure rate per day",
            [(lab, (d.failure_rate or 0.0) * 100) for lab, d in zip(labels, data.days, strict=True)],
            color=charts.PALETTE[5],
            fmt=lambda v: f"{v:.1f}%",
        ),
    }
    return "overview.html", {"overview": data, "has_sessions": report.has_sessions(conn), "charts": figures}


def _sessions(request: Request, conn: psycopg.Connection[Any], window: report.Window) -> tuple[str, dict[str, Any]]:
    rows = report.sessions(conn, window)
    figures = {
        "calls_chart": charts.bar_chart(
            "tool calls per session, most recent first",
            [(r.claude_session_id[:8], r.tool_calls) for r in rows[:30]],
        )
    }
    return "sessions.html", {"sessions": rows, "has_sessions": report.has_sessions(conn), "charts": figures}


def _tools(request: Request, conn: psycopg.Connection[Any], window: report.Window) -> tuple[str, dict[str, Any]]:
    rows = report.tools(conn, window)
    figures = {
        "calls_chart": charts.bar_chart("finished calls per tool", [(r.tool_name, r.calls) for r in rows[:12]]),
        "p95_chart": charts.bar_chart(
            "p95 latency per tool (ms)", [(r.tool_name, r.p95_ms or 0.0) for r in rows[:12]], color=charts.PALETTE[1]
        ),
    }
    return "tools.html", {"tools": rows, "charts": figures}


def _agents(request: Request, conn: psycopg.Connection[Any], window: report.Window) -> tuple[str, dict[str, Any]]:
    rows = report.agents(conn, window)
    figures = {
        "runs_chart": charts.bar_chart(
            "runs per agent", [(f"{r.name}", r.runs) for r in rows if r.kind != "routing"][:12], color=charts.PALETTE[2]
        ),
    }
    return "agents.html", {
        "agents": rows,
        "routing": report.routing_decisions(conn, window),
        "charts": figures,
    }


def _projects(request: Request, conn: psycopg.Connection[Any], window: report.Window) -> tuple[str, dict[str, Any]]:
    rows = report.projects(conn, window)
    figures = {
        "sessions_chart": charts.bar_chart(
            "sessions per project",
            [(r.project_name or "(none)", r.sessions) for r in rows[:12]],
            color=charts.PALETTE[3],
        )
    }
    return "projects.html", {"projects": rows, "charts": figures}


class Dashboard:
    """The app's state: the connection pool and the templates."""

    def __init__(self, database_url: str, *, pool_size: int = 4, wait_s: float = 5.0) -> None:
        self.pool = ConnectionPool(
            database_url,
            kwargs=report.connect_kwargs(),
            min_size=1,
            max_size=pool_size,
            open=False,
            timeout=wait_s,
            name="omniclaude-dashboard",
        )
        self.templates = _environment()

    def render(self, request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
        """The HTML page `template` with `data`, the request and the filters."""
        page = self.templates.get_template(template).render(
            request=request, params=request.query_params, poll_seconds=POLL_SECONDS, **data
        )
        return HTMLResponse(page, status_code=status)

    def error(self, request: Request, message: str, status: int, as_json: bool) -> Response:
        """One line saying what is wrong, as HTML or JSON."""
        if as_json:
            return JSONResponse({"error": message}, status_code=status)
        return self.render(request, "error.html", {"message": message}, status)

    def page(self, handler: Handler, default_since: timedelta, *, as_json: bool) -> Callable[[Request], Response]:
        """The endpoint running `handler` with a pooled connection, as HTML or as its JSON twin."""

        def endpoint(request: Request) -> Response:
            try:
                window = _window(request, default_since)
                with self.pool.connection() as conn:
                    template, data = handler(request, conn, window)
            except BadRequestError as exc:
                return self.error(request, str(exc), 400, as_json)
            except LookupError as exc:
                return self.error(request, str(exc), 404, as_json)
            except (psycopg.Error, PoolTimeout) as exc:
                line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                return self.error(request, f"database unavailable: {line}", 503, as_json)
            if as_json:
                data = {k: v for k, v in data.items() if k != "charts"}
                return JSONResponse(jsonable({"window": window.params, **data}))
            default = f"{default_since.days}d"
            return self.render(request, template, {"window": window, "default_since": default, **data})

        return endpoint


def _session(request: Request, conn: psycopg.Connection[Any], window: report.Window) -> tuple[str, dict[str, Any]]:
    detail = report.session_detail(conn, request.path_params["sid"])
    if detail is None:
        raise LookupError("no such session in the database")
    spent: dict[str, float] = {}
    for item in detail.timeline:
        for event in item.events if isinstance(item, report.SubagentBlock) else [item]:
            if event.tool_name and event.duration_ms is not None:
                spent[event.tool_name] = spent.get(event.tool_name, 0.0) + event.duration_ms
    busiest = sorted(spent.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    figures = {"tools_chart": charts.bar_chart("time in tools (ms)", busiest, color=charts.PALETTE[1])}
    return "session.html", {"detail": detail, "charts": figures}


def _events(request: Request, conn: psycopg.Connection[Any], window: report.Window) -> tuple[str, dict[str, Any]]:
    try:
        after = int(request.query_params.get("after") or 0)
    except ValueError:
        raise BadRequestError("after must be an event id") from None
    events = report.events_after(conn, request.path_params["sid"], after, limit=500)
    return "", {"events": events, "last_event_id": max((e.id for e in events), default=after)}


def create_app(database_url: str, *, token: str | None = None, pool_size: int = 4, wait_s: float = 5.0) -> Starlette:
    """The dashboard over `database_url`; with `token`, every request must carry it. A request waits at
    most `wait_s` seconds for a database connection, then gets a 503."""
    dashboard = Dashboard(database_url, pool_size=pool_size, wait_s=wait_s)
    week, fortnight = timedelta(days=7), timedelta(days=14)
    pages: list[tuple[str, Handler, timedelta]] = [
        ("/sessions/{sid}/events", _events, week),
        ("/sessions/{sid}", _session, week),
        ("/sessions", _sessions, week),
        ("/tools", _tools, week),
        ("/agents", _agents, week),
        ("/projects", _projects, week),
    ]
    routes: list[Route | Mount] = [
        Route("/", dashboard.page(_overview, fortnight, as_json=False)),
        Route("/overview.json", dashboard.page(_overview, fortnight, as_json=True)),
    ]
    for path, handler, since in pages:
        routes.append(Route(f"{path}.json", dashboard.page(handler, since, as_json=True)))
        if handler is not _events:
            routes.append(Route(path, dashboard.page(handler, since, as_json=False)))
    routes.append(Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        dashboard.pool.open(wait=False)
        try:
            yield
        finally:
            dashboard.pool.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SecurityMiddleware, token=token)
    return app
