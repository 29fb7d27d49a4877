"""Each skill's flag table: its rows are its payload model's fields, and both the parser and the payload
are built from it (one declaration per flag)."""

from __future__ import annotations

from typing import Any

import pytest
from omniclaude import skillkit
from omniclaude.events import PAYLOAD_MODELS

from ._support import SKILL_NAMES, load


def tables() -> list[tuple[str, str, tuple[skillkit.Flag, ...]]]:
    """(skill, event type, flag table) for every skill and, for log-execution, every step."""
    found = []
    for name in SKILL_NAMES:
        module = load(name)
        if hasattr(module, "STEPS"):
            for step, (event_type, _help, _description, flags) in module.STEPS.items():
                found.append((f"{name} {step}", event_type, flags))
        else:
            found.append((name, module.EVENT_TYPE, module.FLAGS))
    return found


@pytest.mark.parametrize(("skill", "event_type", "flags"), tables(), ids=[t[0] for t in tables()])
def test_the_table_is_the_payload_model(skill: str, event_type: str, flags: tuple[skillkit.Flag, ...]) -> None:
    model = PAYLOAD_MODELS[event_type].model_fields
    fields = [flag.field for flag in flags]
    assert len(set(fields)) == len(fields), skill
    assert set(fields) <= set(model), f"{skill}: flags for fields its event does not have"
    generated = {"execution_id"} if event_type == "execution_started" else set()
    required = {name for name, info in model.items() if info.is_required()} - generated
    assert required <= {f.field for f in flags if f.options.get("required")}, f"{skill}: a required field lacks a flag"
    for flag in flags:
        assert flag.options["help"], flag


def test_parser_and_payload_come_from_the_same_table() -> None:
    module = load("log-routing-decision")
    args = module.build_parser().parse_args(
        ["--agent", "a", "--confidence", "0.5", "--strategy", "s", "--latency-ms", "3", "--context", '{"k": 1}'],
        namespace=skillkit.ContextArgs(),
    )
    fields: dict[str, Any] = skillkit.payload_fields(module.FLAGS, args)
    assert fields == {
        "selected_agent": "a",
        "confidence": 0.5,
        "strategy": "s",
        "latency_ms": 3,
        "user_request": None,
        "alternatives": None,
        "reasoning": None,
        "context": {"k": 1},
        "correlation_id": None,
    }
