"""`omniclaude report` through its entry point: the same figures as the library and as SQL, tables
within 80 columns, and one clear line when the database cannot be read."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from omniclaude.cli import main
from omniclaude.db.migrations import upgrade

Run = Callable[..., tuple[int, str, str]]

REPORTS = ("sessions", "usage", "tools", "agents", "failures")


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Run:
    monkeypatch.setenv("OMNICLAUDE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OMNICLAUDE_DATABASE_URL", raising=False)

    def invoke(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(["report", *argv])
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def _json(run: Run, *argv: str) -> list[dict[str, Any]]:
    code, out, err = run(*argv, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["report"] == argv[0]
    rows: list[dict[str, Any]] = document["rows"]
    return rows


def test_sessions_json_gives_the_sql_figures(run: Run, seeded_url: str) -> None:
    rows = {r["claude_session_id"]: r for r in _json(run, "sessions", "--database-url", seeded_url)}
    with psycopg.connect(seeded_url) as conn:
        view = conn.execute(
            "SELECT s.claude_session_id, s.prompt_count, s.tool_call_count, s.failure_count, s.subagent_count,"
            " (SELECT sum(cost_usd)::float8 FROM llm_usage u WHERE u.claude_session_id = s.claude_session_id)"
            " FROM claude_sessions s ORDER BY 1"
        ).fetchall()
    assert [
        (
            sid,
            rows[sid]["prompts"],
            rows[sid]["tool_calls"],
            rows[sid]["failures"],
            rows[sid]["subagents"],
            rows[sid]["cost_usd"],
        )
        for sid in sorted(rows)
    ] == [tuple(r) for r in view]
    assert rows["sess-alpha"]["project_name"] == "demo-app"
    assert rows["sess-beta"]["open"] is True


def test_usage_json_by_model_and_csv(run: Run, seeded_url: str) -> None:
    rows = _json(run, "usage", "--by", "model", "--database-url", seeded_url)
    assert [(r["key"], r["input_tokens"], r["cost_usd"]) for r in rows] == [
        ("claude-sonnet-4-5", 1300, 0.0144),
        ("claude-haiku-4-5", 500, 0.001),
    ]
    code, out, _ = run("usage", "--by", "agent", "--format", "csv", "--database-url", seeded_url)
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {r["key"]: r["requests"] for r in parsed} == {"main": "2", "general-purpose": "1"}


def test_tools_agents_failures_json(run: Run, seeded_url: str) -> None:
    tools = {r["tool_name"]: r for r in _json(run, "tools", "--database-url", seeded_url)}
    assert (tools["Bash"]["calls"], tools["Bash"]["failures"], tools["Bash"]["p50_ms"]) == (2, 1, 22.0)
    agents = _json(run, "agents", "--database-url", seeded_url)
    assert {(a["kind"], a["name"], a["runs"]) for a in agents} == {
        ("subagent", "general-purpose", 1),
        ("execution", "coder", 2),
        ("routing", "coder", 1),
    }
    failures = _json(run, "failures", "--project", "demo-app", "--database-url", seeded_url)
    assert [f["kind"] for f in failures] == ["detection", "execution", "tool"]


@pytest.mark.parametrize("name", REPORTS)
def test_tables_fit_80_columns(run: Run, seeded_url: str, name: str) -> None:
    code, out, err = run(name, "--database-url", seeded_url)
    assert code == 0, err
    assert out.strip()
    assert max(len(line) for line in out.splitlines()) <= 80


def test_since_and_limit(run: Run, seeded_url: str) -> None:
    assert [r["claude_session_id"] for r in _json(run, "sessions", "--since", "1h", "--database-url", seeded_url)] == [
        "sess-beta"
    ]
    assert len(_json(run, "sessions", "--limit", "1", "--database-url", seeded_url)) == 1
    code, _, err = run("sessions", "--since", "yesterday-ish", "--database-url", seeded_url)
    assert code == 2 and "invalid time" in err


def test_bad_group_is_a_usage_error(run: Run, seeded_url: str) -> None:
    code, _, err = run("usage", "--by", "colour", "--database-url", seeded_url)
    assert code == 2 and err.strip().count("\n") == 0 and "--by must be one of" in err


def test_empty_database_says_so(run: Run, new_database: Callable[[], str]) -> None:
    url = new_database()
    with psycopg.connect(url) as conn:
        upgrade(conn)
    code, out, _ = run("sessions", "--database-url", url)
    assert code == 0 and out.startswith("no sessions in this window")
    assert _json(run, "tools", "--database-url", url) == []


def test_unreachable_database_is_one_line_without_the_password(run: Run) -> None:
    code, out, err = run("sessions", "--database-url", "postgresql://app:s3cret@127.0.0.1:1/omniclaude")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "cannot connect" in err and "s3cret" not in err


def test_no_database_url_is_one_line(run: Run) -> None:
    code, _, err = run("sessions")
    assert code == 1 and err.count("\n") == 1 and "OMNICLAUDE_DATABASE_URL" in err


def test_schema_behind_is_one_line(run: Run, new_database: Callable[[], str]) -> None:
    url = new_database()
    with psycopg.connect(url) as conn:
        upgrade(conn, to=3)
    code, _, err = run("tools", "--database-url", url)
    assert code == 1 and err.count("\n") == 1 and "omniclaude db upgrade" in err
