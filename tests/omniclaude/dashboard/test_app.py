"""The app in process over the seeded scenario: every page and its JSON twin, escaping, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from omniclaude.dashboard import create_app
from omniclaude.db.migrations import upgrade
from starlette.testclient import TestClient

from tests.omniclaude.report.scenario import XSS_PROMPT

PAGES = ("/", "/sessions", "/sessions/sess-alpha", "/tools", "/agents", "/projects")


@pytest.fixture(scope="module")
def client(seeded_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(seeded_url)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", PAGES)
def test_every_page_and_its_json_twin(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers
    assert "<script>" not in page.text and 'src="/static/live.js"' in page.text
    twin = client.get((path.rstrip("/") or "/overview") + ".json")
    assert twin.status_code == 200 and twin.headers["content-type"] == "application/json"
    assert "window" in twin.json()


def test_json_twins_carry_the_figures(client: TestClient) -> None:
    sessions = {s["claude_session_id"]: s for s in client.get("/sessions.json").json()["sessions"]}
    assert (sessions["sess-alpha"]["tool_calls"], sessions["sess-alpha"]["failures"]) == (4, 1)
    detail = client.get("/sessions/sess-alpha.json").json()["detail"]
    block = next(item for item in detail["timeline"] if item["kind"] == "subagent")
    assert block["agent_type"] == "general-purpose" and len(block["events"]) == 3
    tools = {t["tool_name"]: t for t in client.get("/tools.json?since=30d").json()["tools"]}
    assert tools["Bash"]["failure_rate"] == 0.5
    only = client.get("/sessions.json?project=other-proj").json()["sessions"]
    assert [s["claude_session_id"] for s in only] == ["sess-beta"]


def test_captured_text_is_escaped(client: TestClient) -> None:
    page = client.get("/sessions/sess-alpha").text
    assert "window.__xss" in page
    assert "<script>window.__xss" not in page
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    assert XSS_PROMPT in client.get("/sessions/sess-alpha.json").json()["detail"]["prompts"][0]["text"]


def test_live_poll_returns_only_newer_events(client: TestClient) -> None:
    events = client.get("/sessions/sess-beta/events.json").json()["events"]
    last = events[-1]["id"]
    assert client.get(f"/sessions/sess-beta/events.json?after={last}").json()["events"] == []


def test_unknown_session_and_bad_parameters(client: TestClient) -> None:
    assert client.get("/sessions/nope").status_code == 404
    assert client.get("/sessions/nope.json").json() == {"error": "no such session in the database"}
    bad = client.get("/tools?since=soonish")
    assert bad.status_code == 400 and "invalid time" in bad.text


def test_an_empty_database_shows_how_to_get_data(new_database: Callable[[], str]) -> None:
    url = new_database()
    with psycopg.connect(url) as conn:
        upgrade(conn)
    with TestClient(create_app(url)) as empty:
        assert "No sessions recorded yet" in empty.get("/").text
        assert "No sessions recorded yet" in empty.get("/sessions").text
        assert "No tool call in this window" in empty.get("/tools").text
        assert empty.get("/overview.json").json()["has_sessions"] is False


def test_an_unreachable_database_is_a_503_with_one_line() -> None:
    with TestClient(create_app("postgresql://nobody@127.0.0.1:1/none", wait_s=1.0)) as gone:
        page = gone.get("/tools")
    assert page.status_code == 503 and "database unavailable" in page.text
