"""Kafka topic layout: one topic per event family, named `<prefix>.<family>`, plus the dead-letter topic.

The record key keeps one stream's events in order on one partition: the Claude session id, or for
execution lifecycle events the execution id. Standard library only.
"""

from __future__ import annotations

FAMILIES: dict[str, str] = {
    "claude_hook": "claude-hook-events",
    "agent_action": "agent-actions",
    "routing_decision": "routing-decisions",
    "transformation": "transformations",
    "performance_metric": "performance-metrics",
    "detection_failure": "detection-failures",
    "execution_started": "execution-lifecycle",
    "execution_progress": "execution-lifecycle",
    "execution_completed": "execution-lifecycle",
    "llm_usage": "llm-usage",
}
DEAD_LETTER = "dead-letter"
EXECUTION_TYPES = frozenset({"execution_started", "execution_progress", "execution_completed"})


def topic_for(event_type: str, prefix: str) -> str | None:
    """Returns the topic of an event type, or None for a type with no family."""
    family = FAMILIES.get(event_type)
    return f"{prefix}.{family}" if family else None


def event_topics(prefix: str) -> list[str]:
    """Returns every event topic (not the dead-letter one), sorted, without duplicates."""
    return sorted({f"{prefix}.{family}" for family in FAMILIES.values()})


def dead_letter_topic(prefix: str) -> str:
    """Returns the dead-letter topic."""
    return f"{prefix}.{DEAD_LETTER}"


def record_key(envelope: dict[str, object]) -> str | None:
    """Returns the record key of an envelope: its execution id or its Claude session id (may be None)."""
    payload = envelope.get("payload")
    event_type = envelope.get("event_type")
    if isinstance(event_type, str) and event_type in EXECUTION_TYPES and isinstance(payload, dict):
        execution_id = payload.get("execution_id")
        if execution_id is not None:
            return str(execution_id)
    context = envelope.get("context")
    if isinstance(context, dict):
        session = context.get("claude_session_id")
        if session is not None:
            return str(session)
    return None
