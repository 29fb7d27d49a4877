"""Seeded data for the report and dashboard tests: a small scenario with known figures, and a bulk
load (COPY) for the benchmark.

The scenario, relative to `now`:
- `sess-alpha` (project demo-app, terminal tty-1), ended: a prompt holding `<script>` and
  `javascript:`, Write ok 18 ms (+12 -3 lines), Bash failed 31 ms, an Agent call starting subagent `ag-1`
  (general-purpose) that runs Bash ok 13 ms; two usage rows;
- `sess-beta` (project other-proj), open, two minutes old: a prompt, Read ok 4 ms; one usage row;
- executions: coder success 1200 ms, coder error; one routing decision; one detection failure.
"""

from __future__ import annotations

import io
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg

XSS_PROMPT = "add a changelog <script>window.__xss = 1</script> and a [link](javascript:alert(1))"

HOOK_COLUMNS = (
    "event_id",
    "hook_event_name",
    "occurred_at",
    "claude_session_id",
    "tool_use_id",
    "tool_name",
    "agent_id",
    "agent_type",
    "success",
    "duration_ms",
    "project_path",
    "project_name",
    "terminal_id",
    "host",
    "payload",
)

USAGE_COLUMNS = (
    "event_id",
    "claude_session_id",
    "agent_id",
    "agent_type",
    "model",
    "message_id",
    "request_id",
    "occurred_at",
    "project_name",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_tokens",
    "cache_creation_1h_tokens",
    "cost_usd",
)


@dataclass
class Session:
    """Builds one session's hook events, one second apart."""

    session_id: str
    project: str
    start: datetime
    terminal: str = "tty-1"
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    step: int = 0

    def event(
        self,
        name: str,
        *,
        tool: str | None = None,
        tool_use_id: str | None = None,
        agent: tuple[str, str] | None = None,
        success: bool | None = None,
        duration_ms: int | None = None,
        **payload: Any,
    ) -> None:
        """Appends one event (payload: the hook's other input fields)."""
        at = self.start + timedelta(seconds=self.step)
        self.step += 1
        body = {"session_id": self.session_id, "hook_event_name": name, **payload}
        if tool:
            body["tool_name"] = tool
        if agent:
            body["agent_id"], body["agent_type"] = agent
        self.rows.append(
            (
                uuid.uuid4(),
                name,
                at,
                self.session_id,
                tool_use_id,
                tool,
                agent[0] if agent else None,
                agent[1] if agent else None,
                success,
                duration_ms,
                f"/home/dev/{self.project}",
                self.project,
                self.terminal,
                "devbox",
                json.dumps(body),
            )
        )

    def tool(
        self,
        tool: str,
        use_id: str,
        ms: int,
        *,
        ok: bool = True,
        agent: tuple[str, str] | None = None,
        **tool_input: Any,
    ) -> None:
        """A PreToolUse and its PostToolUse (or PostToolUseFailure)."""
        self.event("PreToolUse", tool=tool, tool_use_id=use_id, agent=agent, tool_input=tool_input)
        if ok:
            self.event(
                "PostToolUse",
                tool=tool,
                tool_use_id=use_id,
                agent=agent,
                success=True,
                duration_ms=ms,
                tool_input=tool_input,
            )
        else:
            self.event(
                "PostToolUseFailure",
                tool=tool,
                tool_use_id=use_id,
                agent=agent,
                success=False,
                duration_ms=ms,
                tool_input=tool_input,
                error="Exit code 1",
            )


def insert_hook_events(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
    """Inserts hook event rows the way the consumer does: one INSERT ... ON CONFLICT DO NOTHING."""
    cols = ", ".join(HOOK_COLUMNS)
    marks = ", ".join(["%s"] * len(HOOK_COLUMNS))
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO claude_hook_events ({cols}) VALUES ({marks}) ON CONFLICT (event_id) DO NOTHING", rows
        )


def scenario_sessions(now: datetime) -> tuple[Session, Session]:
    alpha = Session("sess-alpha", "demo-app", now - timedelta(hours=3))
    alpha.event("SessionStart", source="startup")
    alpha.event("UserPromptSubmit", prompt=XSS_PROMPT)
    alpha.tool("Write", "toolu_1", 18, file_path="/home/dev/demo-app/CHANGELOG.md")
    alpha.tool("Bash", "toolu_2", 31, ok=False, command="git status && false")
    alpha.event("PreToolUse", tool="Agent", tool_use_id="toolu_3", tool_input={"description": "todo scan"})
    alpha.event("SubagentStart", agent=("ag-1", "general-purpose"))
    alpha.event("PostToolUse", tool="Agent", tool_use_id="toolu_3", success=True, duration_ms=11)
    alpha.tool("Bash", "toolu_4", 13, agent=("ag-1", "general-purpose"), command="grep -rn TODO .")
    alpha.event("SubagentStop", agent=("ag-1", "general-purpose"), last_assistant_message="None found.")
    alpha.event("Stop", last_assistant_message="Changelog added.")
    alpha.event("SessionEnd", reason="other")
    beta = Session("sess-beta", "other-proj", now - timedelta(minutes=2), terminal="tty-2")
    beta.event("SessionStart", source="startup")
    beta.event("UserPromptSubmit", prompt="hello")
    beta.tool("Read", "toolu_5", 4, file_path="/home/dev/other-proj/README.md")
    return alpha, beta


USAGE = (
    ("sess-alpha", None, None, "claude-sonnet-4-5", "demo-app", 1000, 200, 50, 4000, Decimal("0.012300")),
    ("sess-alpha", "ag-1", "general-purpose", "claude-haiku-4-5", "demo-app", 500, 50, 0, 0, Decimal("0.001000")),
    ("sess-beta", None, None, "claude-sonnet-4-5", "other-proj", 300, 30, 0, 100, Decimal("0.002100")),
)


def seed_scenario(conn: psycopg.Connection[Any], now: datetime) -> None:
    """Writes the scenario (see the module docstring) and commits."""
    alpha, beta = scenario_sessions(now)
    insert_hook_events(conn, alpha.rows)
    insert_hook_events(conn, beta.rows)
    conn.execute(  # the usage work's code-change columns: the Write added 12 lines and removed 3
        "UPDATE claude_hook_events SET lines_added = 12, lines_removed = 3"
        " WHERE tool_use_id = 'toolu_1' AND hook_event_name = 'PostToolUse'"
    )
    for i, (sid, agent_id, agent_type, model, project, inp, out, cc, cr, cost) in enumerate(USAGE):
        conn.execute(
            f"INSERT INTO llm_usage ({', '.join(USAGE_COLUMNS)}) VALUES ({', '.join(['%s'] * len(USAGE_COLUMNS))})",
            (
                uuid.uuid4(),
                sid,
                agent_id,
                agent_type,
                model,
                f"msg_{i}",
                f"req_{i}",
                now - timedelta(hours=2, minutes=i),
                project,
                inp,
                out,
                cc,
                cr,
                cc,
                0,
                cost,
            ),
        )
    conn.execute(
        "INSERT INTO agent_execution_logs (execution_id, event_id, agent_name, status, started_at, completed_at,"
        " duration_ms, project_name, claude_session_id) VALUES"
        " (gen_random_uuid(), gen_random_uuid(), 'coder', 'success', %(t)s, %(t)s, 1200, 'demo-app', 'sess-alpha'),"
        " (gen_random_uuid(), gen_random_uuid(), 'coder', 'error', %(t)s, NULL, NULL, 'demo-app', 'sess-alpha')",
        {"t": now - timedelta(hours=1)},
    )
    conn.execute(
        "UPDATE agent_execution_logs SET error_type = 'Timeout', error_message = 'gave up' WHERE status = 'error'"
    )
    conn.execute(
        "INSERT INTO agent_routing_decisions (event_id, occurred_at, selected_agent, confidence_score,"
        " routing_strategy, latency_ms, user_request, project_name) VALUES"
        " (gen_random_uuid(), %s, 'coder', 0.9, 'fuzzy', 12, 'fix the bug', 'demo-app')",
        (now - timedelta(hours=1),),
    )
    conn.execute(
        "INSERT INTO agent_detection_failures (event_id, occurred_at, user_prompt, failure_reason, detection_status,"
        " project_name, claude_session_id) VALUES (gen_random_uuid(), %s, 'do it', 'no agent matched', 'no_detection',"
        " 'demo-app', 'sess-alpha')",
        (now - timedelta(minutes=30),),
    )
    conn.commit()


# -- bulk load for the benchmark ---------------------------------------------------------------------

TOOLS = ("Read", "Edit", "Bash", "Write", "Grep", "Glob", "Agent", "WebFetch", "TodoWrite", "Skill")
MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5")


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _bulk_hook_lines(sessions: int, events: int, now: datetime, days: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    per_session = events // sessions
    span = timedelta(days=days).total_seconds()
    for s in range(sessions):
        sid = f"bulk-{s:05d}"
        project = f"project-{s % 40:02d}"
        start = now - timedelta(seconds=rng.random() * span)
        agent: tuple[str, str] | None = None
        for k in range(per_session):
            at = start + timedelta(seconds=k * 2)
            if k == 0:
                name, tool, ok, ms, payload = "SessionStart", None, None, None, '{"source": "startup"}'
            elif k == per_session - 1:
                name, tool, ok, ms, payload = "SessionEnd", None, None, None, '{"reason": "other"}'
            elif k % 20 == 1:
                name, tool, ok, ms, payload = "UserPromptSubmit", None, None, None, '{"prompt": "refactor the module"}'
            else:
                tool = TOOLS[rng.randrange(len(TOOLS))]
                if k % 2 == 0:
                    name, ok, ms, payload = "PreToolUse", None, None, '{"tool_input": {"command": "make test"}}'
                else:
                    failed = rng.random() < 0.05
                    name = "PostToolUseFailure" if failed else "PostToolUse"
                    ok, ms = not failed, int(rng.expovariate(1 / 120))
                    payload = '{"error": "Exit code 1"}' if failed else '{"tool_response": {}}'
            if k % 50 == 10:
                agent = (f"ag-{s}-{k}", rng.choice(("general-purpose", "Explore", "Plan")))
            elif k % 50 == 30:
                agent = None
            values = (
                uuid.UUID(int=rng.getrandbits(128)),
                name,
                at,
                sid,
                f"toolu_{s}_{k // 2}" if tool else None,
                tool,
                agent[0] if agent else None,
                agent[1] if agent else None,
                ok,
                ms,
                f"/srv/{project}",
                project,
                f"tty-{s % 7}",
                "devbox",
                payload,
            )
            yield "\t".join(_copy_text(v) for v in values) + "\n"


def _bulk_usage_lines(sessions: int, rows: int, now: datetime, days: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed + 1)
    span = timedelta(days=days).total_seconds()
    for i in range(rows):
        s = rng.randrange(sessions)
        model = MODELS[rng.randrange(len(MODELS))]
        inp, out = rng.randrange(100, 20_000), rng.randrange(10, 4_000)
        values = (
            uuid.UUID(int=rng.getrandbits(128)),
            f"bulk-{s:05d}",
            None,
            None,
            model,
            f"msg_{i}",
            f"req_{i}",
            now - timedelta(seconds=rng.random() * span),
            f"project-{s % 40:02d}",
            inp,
            out,
            0,
            rng.randrange(0, 50_000),
            0,
            0,
            f"{(inp * 3 + out * 15) / 1_000_000:.6f}",
        )
        yield "\t".join(_copy_text(v) for v in values) + "\n"


def _copy(conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...], lines: Iterator[str]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for n, line in enumerate(lines, 1):
            buffer.write(line)
            if n % 20_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def seed_bulk(
    conn: psycopg.Connection[Any],
    *,
    sessions: int = 5_000,
    events: int = 1_000_000,
    usage: int = 100_000,
    days: int = 30,
    seed: int = 7,
) -> None:
    """COPYs `events` hook events over `sessions` sessions and `usage` llm_usage rows, spread over `days`."""
    now = datetime.now(timezone.utc)
    _copy(conn, "claude_hook_events", HOOK_COLUMNS, _bulk_hook_lines(sessions, events, now, days, seed))
    _copy(conn, "llm_usage", USAGE_COLUMNS, _bulk_usage_lines(sessions, usage, now, days, seed))
    conn.commit()
