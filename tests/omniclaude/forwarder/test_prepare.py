"""prepare(): topic, key, value, headers, redaction and the prompt capture modes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from omniclaude import prompt_hash
from omniclaude.forwarder.prepare import OMITTED_PROMPT, dead_letter, prepare
from omniclaude.forwarder.redaction import CachingRedactor
from omniclaude.redact import Redactor

from tests.omniclaude.forwarder.helpers import make_settings, new_event

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
PROMPT = f"deploy with token {SECRET} please"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "claude-code-2.1.328-session.jsonl"
HASH_KEY = "0f" * 32


def value_of(record: Any) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(record.value)
    return decoded


def hook_event(name: str, prompt: str = PROMPT) -> dict[str, Any]:
    hook_input = {"session_id": "sess-1", "hook_event_name": name, "prompt": prompt, "cwd": "/home/dev/demo"}
    payload = {"hook_event_name": name, "prompt_id": "p1", "input": hook_input}
    return new_event("claude_hook", session="sess-1", payload=payload)


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


def test_topic_key_headers_and_value(tmp_path: Path, redactor: Redactor) -> None:
    settings = make_settings(tmp_path, prefix="acme")
    event = new_event(session="sess-7")
    record = prepare(event, settings, redactor)
    assert record.topic == "acme.agent-actions"
    assert record.key == b"sess-7"
    assert record.headers == [("event_type", b"agent_action"), ("schema_version", b"1")]
    assert value_of(record) == event
    assert record.event_id == event["event_id"]


def test_execution_events_are_keyed_by_execution_id(tmp_path: Path, redactor: Redactor) -> None:
    event = new_event("execution_progress", payload={"execution_id": "exec-1", "stage": "plan", "metadata": {}})
    record = prepare(event, make_settings(tmp_path, prefix="p"), redactor)
    assert (record.topic, record.key) == ("p.execution-lifecycle", b"exec-1")


def test_no_session_means_no_key(tmp_path: Path, redactor: Redactor) -> None:
    record = prepare(new_event(session=None), make_settings(tmp_path), redactor)
    assert record.key is None


def test_unknown_event_type_goes_to_the_dead_letter_topic(tmp_path: Path, redactor: Redactor) -> None:
    event = new_event("brand_new_type", payload={"x": 1})
    record = prepare(event, make_settings(tmp_path, prefix="p"), redactor)
    assert record.topic == "p.dead-letter"
    assert ("reason", b"unknown-event-type") in record.headers
    assert ("event_type", b"brand_new_type") in record.headers
    assert value_of(record) == event


def test_secrets_are_redacted_everywhere_but_identity_is_kept(tmp_path: Path, redactor: Redactor) -> None:
    event = new_event(
        payload={
            "agent": "a",
            "action_type": "tool_call",
            "action_name": "Bash",
            "details": {"cmd": f"export GITHUB_TOKEN={SECRET}", "password": "hunter2"},
        }
    )
    event["context"]["working_directory"] = f"/tmp/{SECRET}"
    record = prepare(event, make_settings(tmp_path), redactor)
    assert SECRET.encode() not in record.value
    assert b"hunter2" not in record.value
    sent = value_of(record)
    assert {key: sent[key] for key in ("event_id", "occurred_at", "event_type", "schema_version", "source")} == {
        key: event[key] for key in ("event_id", "occurred_at", "event_type", "schema_version", "source")
    }
    assert "[REDACTED:" in sent["context"]["working_directory"]


def test_prepare_does_not_modify_its_input(tmp_path: Path, redactor: Redactor) -> None:
    event = hook_event("UserPromptSubmit")
    before = json.dumps(event, sort_keys=True)
    for mode in ("full", "redacted", "hash", "off"):
        prepare(event, make_settings(tmp_path, capture_mode=mode, prompt_hash_key=HASH_KEY), redactor)
    assert json.dumps(event, sort_keys=True) == before


@pytest.mark.parametrize("name", ["UserPromptSubmit", "UserPromptExpansion"])
def test_capture_modes_for_hook_prompts(tmp_path: Path, redactor: Redactor, name: str) -> None:
    event = hook_event(name)
    event["payload"]["input"]["api_key"] = "sk-other-secret-value-123456"

    def sent(mode: str) -> dict[str, Any]:
        return value_of(prepare(event, make_settings(tmp_path, capture_mode=mode, prompt_hash_key=HASH_KEY), redactor))

    full = sent("full")
    assert full["payload"]["input"]["prompt"] == PROMPT
    assert full["payload"]["input"]["api_key"].startswith("[REDACTED:")  # other fields are still redacted

    redacted = sent("redacted")["payload"]["input"]["prompt"]
    assert SECRET not in redacted
    assert redacted.startswith("deploy with token ")

    assert sent("hash")["payload"]["input"]["prompt"] == prompt_hash.digest(HASH_KEY, PROMPT)

    off = sent("off")
    assert off["payload"]["input"]["prompt"] is None
    assert off["payload"]["input"]["api_key"] in ("[REDACTED:openai-key]", None)


def test_raw_preview_of_an_unparsed_prompt_counts_as_the_prompt(tmp_path: Path, redactor: Redactor) -> None:
    event = new_event(
        "claude_hook", payload={"hook_event_name": "UserPromptSubmit", "input": {}, "raw": "{not json " + PROMPT}
    )
    record = prepare(event, make_settings(tmp_path, capture_mode="off"), redactor)
    assert value_of(record)["payload"]["raw"] is None


def test_other_hook_events_have_no_prompt(tmp_path: Path, redactor: Redactor) -> None:
    event = hook_event("PreToolUse", prompt="hello there")
    record = prepare(event, make_settings(tmp_path, capture_mode="off"), redactor)
    assert value_of(record)["payload"]["input"]["prompt"] == "hello there"


@pytest.mark.parametrize(
    ("event_type", "field", "off_value"),
    [
        ("execution_started", "user_prompt", None),
        ("routing_decision", "user_request", None),
        ("detection_failure", "prompt", OMITTED_PROMPT),
        ("performance_metric", "query", OMITTED_PROMPT),
    ],
)
def test_capture_modes_for_skill_prompts(
    tmp_path: Path, redactor: Redactor, event_type: str, field: str, off_value: object
) -> None:
    event = new_event(event_type, payload={field: PROMPT, "execution_id": "e1"})

    def sent(mode: str) -> object:
        settings = make_settings(tmp_path, capture_mode=mode, prompt_hash_key=HASH_KEY)
        return value_of(prepare(event, settings, redactor))["payload"][field]

    assert sent("full") == PROMPT
    assert SECRET not in str(sent("redacted"))
    assert sent("hash") == prompt_hash.digest(HASH_KEY, PROMPT)
    assert sent("off") == off_value


def test_a_missing_or_null_prompt_stays_as_it_is(tmp_path: Path, redactor: Redactor) -> None:
    event = new_event("execution_started", payload={"execution_id": "e1", "agent": "a", "user_prompt": None})
    assert (
        value_of(prepare(event, make_settings(tmp_path, capture_mode="hash"), redactor))["payload"]["user_prompt"]
        is None
    )


def test_extra_patterns_from_the_settings_apply(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, redact_patterns="ACME-[0-9]{6}")
    event = new_event(
        payload={"agent": "a", "action_type": "decision", "action_name": "x", "details": {"ticket": "ACME-123456"}}
    )
    record = prepare(event, settings, Redactor(settings.extra_redact_patterns))
    assert b"ACME-123456" not in record.value


def test_non_ascii_and_lone_surrogates_are_sent(tmp_path: Path, redactor: Redactor) -> None:
    event = new_event(payload={"agent": "é\ud800", "action_type": "decision", "action_name": "日本", "details": {}})
    record = prepare(event, make_settings(tmp_path), redactor)
    assert "日本" in record.value.decode("utf-8")


def test_dead_letter_stand_in_carries_identity_not_content(tmp_path: Path) -> None:
    record = dead_letter("id-1", "agent_action", key=b"k", reason="rejected-by-kafka", error="too large", prefix="p")
    assert record.topic == "p.dead-letter"
    assert ("reason", b"rejected-by-kafka") in record.headers
    assert json.loads(record.value) == {
        "event_id": "id-1",
        "event_type": "agent_action",
        "reason": "rejected-by-kafka",
        "error": "too large",
    }


def test_caching_redactor_matches_the_redactor_on_recorded_hook_inputs() -> None:
    plain, cached = Redactor(), CachingRedactor()
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    samples: list[object] = [row["stdin"] for row in rows] + [row["env"] for row in rows]
    samples += [{"password": "hunter2", "note": f"token={SECRET}"}, f"Bearer {SECRET}", ["x" * 100, SECRET]]
    for _round in range(2):  # the second round is served from the cache
        for sample in samples:
            assert cached.redact(sample) == plain.redact(sample)
