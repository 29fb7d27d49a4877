import json
import random
import uuid

from omniclaude.events import Envelope
from omniclaude_consumer import rows

from tests.consumer import factory


def _envelope(record: factory.Record) -> Envelope:
    assert record.value is not None
    return Envelope.parse_json(record.value)


def test_every_event_type_maps_to_its_table_with_exactly_its_columns() -> None:
    rng = random.Random(9)
    records = [factory.good_event(rng, "p", kind) for kind in factory.PLAIN_TYPES]
    records += factory.execution_events(rng, "p", progress=1)
    seen = set()
    for record in records:
        assert record.event_type is not None
        row = rows.to_row(_envelope(record))
        assert row.table == rows.TABLE_OF[record.event_type]
        assert set(row.values) == set(rows.COLUMNS[row.table])
        assert row.values["event_id"] == uuid.UUID(record.event_id)
        seen.add(row.table)
    assert seen == set(rows.TABLES)


def test_agent_action_columns() -> None:
    rng = random.Random(1)
    record = factory.good_event(rng, "p", "agent_action")
    env = _envelope(record)
    values = rows.to_row(env).values
    assert values["agent_name"] == env.payload.agent  # type: ignore[attr-defined]
    assert json.loads(values["action_details"]) == env.payload.details  # type: ignore[attr-defined]
    assert values["working_directory"] == env.context.working_directory
    assert values["claude_session_id"] == env.context.claude_session_id


def test_execution_events_fill_only_their_own_columns() -> None:
    started, progress, completed = (
        rows.to_row(_envelope(r)).values for r in factory.execution_events(random.Random(4), "p", progress=1)
    )
    assert started["started_at"] is not None and started["completed_at"] is None and started["progress_at"] is None
    assert started["agent_name"] == "agent-1" and started["status"] == "in_progress"
    assert json.loads(started["metadata"]) == {"started": {"attempt": 1}}
    assert progress["progress_at"] is not None and progress["agent_name"] is None
    assert progress["started_at"] is None and progress["status"] == "in_progress"
    assert set(json.loads(progress["metadata"])) == {"progress"}
    assert completed["completed_at"] is not None and completed["status"] in ("success", "error", "cancelled")
    assert completed["started_at"] is None
    assert started["execution_id"] == progress["execution_id"] == completed["execution_id"]


def test_hook_payload_keeps_the_input_and_the_hooks_own_error() -> None:
    rng = random.Random(2)
    body = {"hook_event_name": "Stop", "input": {}, "error": "input is not JSON", "raw": "{oops"}
    env = Envelope.parse_json(factory.encode(factory.envelope("claude_hook", body, rng)))
    values = rows.to_row(env).values
    assert json.loads(values["payload"]) == {"omniclaude_error": "input is not JSON", "omniclaude_raw": "{oops"}
    assert values["host"] == "devbox" and values["terminal_id"] == "tty:/dev/pts/3"


def test_llm_usage_columns() -> None:
    env = _envelope(factory.good_event(random.Random(3), "p", "llm_usage"))
    values = rows.to_row(env).values
    payload = env.payload
    assert values["model"] == payload.model  # type: ignore[attr-defined]
    assert values["cache_read_input_tokens"] == payload.cache_read_input_tokens  # type: ignore[attr-defined]
    assert values["cost_usd"] == payload.cost_usd  # type: ignore[attr-defined]
    assert (values["claude_session_id"], values["project_name"]) == (
        env.context.claude_session_id,
        env.context.project_name,
    )


def test_claude_hook_rows_carry_their_code_changes() -> None:
    rng = random.Random(4)
    base = json.loads(factory.good_event(rng, "p", "claude_hook").value or b"")
    base["payload"].update(
        hook_event_name="PostToolUse",
        tool_name="Bash",
        input={
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "git commit -m x"},
            "tool_response": {"stdout": "[main 1234abc] x\n"},
        },
    )
    values = rows.to_row(Envelope.parse(base)).values
    assert (values["commit_sha"], values["commit_branch"], values["lines_added"]) == ("1234abc", "main", None)
    base["payload"]["input"] = {
        "hook_event_name": "PostToolUse",
        "tool_name": "Edit",
        "tool_response": {"structuredPatch": [{"lines": ["+a", "-b", "+c"]}]},
    }
    values = rows.to_row(Envelope.parse(base)).values
    assert (values["lines_added"], values["lines_removed"], values["commit_sha"]) == (2, 1, None)


def test_one_event_vocabulary() -> None:
    from omniclaude.events import PAYLOAD_MODELS
    from omniclaude.topics import FAMILIES

    assert list(PAYLOAD_MODELS) == list(FAMILIES)  # every event type has its schema, in the one list's order
    assert set(rows.TABLE_OF) == set(FAMILIES)  # and its table
