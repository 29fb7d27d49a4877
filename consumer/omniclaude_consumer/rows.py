"""Step 2: a validated `Envelope` -> the table it belongs in and the row to write there.

Pure and non-blocking. Column names follow the schema in `sql/migrations` (see `COLUMNS`); JSONB values
are JSON text. Payload fields the schema has no column for are not stored, except in
`claude_hook_events.payload`, which holds the hook's whole input object; when the hook could not read its
input, the hook's `error` and `raw` preview are added there under `omniclaude_error` and `omniclaude_raw`.

Execution lifecycle events (`execution_started`, `execution_progress`, `execution_completed`) all map
to one row per execution in `agent_execution_logs`. Each event fills only the columns it knows; the
writer folds them into the row with an order-free upsert (see `writer.EXECUTION_UPSERT`). Which event
filled which columns is visible from the row itself: a start sets `started_at`, a completion
`completed_at`, a progress `progress_at`. `metadata` keeps each kind's metadata under its own key
(`{"started": {...}, "progress": {...}, "completed": {...}}`) so that no kind overwrites another's.

A `claude_hook` row also carries what its tool call changed in the code (lines added/removed, a commit's
SHA and branch, a pull request URL; `omniclaude.usage.code_changes`), so a replayed event brings them
along and they are deduplicated with it. `llm_usage` events map one to one to `llm_usage` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from omniclaude.events import (
    PAYLOAD_MODELS,
    AgentActionPayload,
    ClaudeHookPayload,
    DetectionFailurePayload,
    Envelope,
    ExecutionCompletedPayload,
    ExecutionProgressPayload,
    ExecutionStartedPayload,
    LlmUsagePayload,
    PerformanceMetricPayload,
    RoutingDecisionPayload,
    TransformationPayload,
)
from omniclaude.usage.code_changes import code_changes
from pydantic_core import to_json as _to_json

from omniclaude_consumer.errors import InvalidEvent

AGENT_ACTIONS = "agent_actions"
ROUTING_DECISIONS = "agent_routing_decisions"
TRANSFORMATIONS = "agent_transformation_events"
PERFORMANCE_METRICS = "router_performance_metrics"
DETECTION_FAILURES = "agent_detection_failures"
EXECUTION_LOGS = "agent_execution_logs"
CLAUDE_HOOK_EVENTS = "claude_hook_events"
LLM_USAGE = "llm_usage"

Row = dict[str, Any]

_CONTEXT = ("project_path", "project_name", "claude_session_id")

COLUMNS: dict[str, tuple[str, ...]] = {
    AGENT_ACTIONS: (
        "event_id", "occurred_at", "agent_name", "action_type", "action_name", "action_details",
        "duration_ms", "success", "correlation_id", *_CONTEXT, "working_directory",
    ),
    ROUTING_DECISIONS: (
        "event_id", "occurred_at", "selected_agent", "confidence_score", "routing_strategy", "latency_ms",
        "user_request", "alternatives", "reasoning", "context", "correlation_id", *_CONTEXT,
    ),
    TRANSFORMATIONS: (
        "event_id", "occurred_at", "source_agent", "target_agent", "transformation_reason",
        "confidence_score", "transformation_duration_ms", "success", "correlation_id", *_CONTEXT,
    ),
    PERFORMANCE_METRICS: (
        "event_id", "occurred_at", "query_text", "routing_duration_ms", "cache_hit", "candidates_evaluated",
        "trigger_match_strategy", "confidence_components", "correlation_id", *_CONTEXT,
    ),
    DETECTION_FAILURES: (
        "event_id", "occurred_at", "user_prompt", "failure_reason", "detection_status",
        "candidates_evaluated", "detected_agent", "detected_confidence", "expected_agent",
        "detection_method", "trigger_matches", "capability_scores", "metadata", "correlation_id", *_CONTEXT,
    ),
    EXECUTION_LOGS: (
        "execution_id", "event_id", "agent_name", "description", "user_prompt", "correlation_id", "status",
        "started_at", "completed_at", "quality_score", "error_message", "error_type", "progress_stage",
        "progress_percent", "progress_at", "metadata", *_CONTEXT, "terminal_id",
    ),
    CLAUDE_HOOK_EVENTS: (
        "event_id", "hook_event_name", "occurred_at", "claude_session_id", "prompt_id", "tool_use_id",
        "tool_name", "agent_id", "agent_type", "success", "duration_ms", "project_path", "project_name",
        "working_directory", "terminal_id", "host", "payload",
        "lines_added", "lines_removed", "commit_sha", "commit_branch", "pr_url",
    ),
    LLM_USAGE: (
        "event_id", "claude_session_id", "agent_id", "agent_type", "model", "message_id", "request_id",
        "occurred_at", "project_name", "input_tokens", "output_tokens", "cache_creation_input_tokens",
        "cache_read_input_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "cost_usd",
    ),
}  # fmt: skip
"""The columns the consumer writes, per table, in the order the writer stages them."""

TABLES: tuple[str, ...] = tuple(COLUMNS)


@dataclass(frozen=True, slots=True)
class TableRow:
    """A row for one table."""

    table: str
    values: Row


def to_json(value: object) -> str:
    """Compact JSON text for a JSONB column (pydantic-core's serializer: several times faster than `json`)."""
    return _to_json(value).decode("utf-8")


_MAPPERS: dict[str, tuple[type[Any], Callable[[Envelope, Any], Row]]] = {}
TABLE_OF: dict[str, str] = {}
"""The table each event type is written to (filled by `maps`)."""
_M = TypeVar("_M", bound=Callable[..., Row])


def maps(model: type[Any], table: str) -> Callable[[_M], _M]:
    """Registers a function as the row mapping of the event type whose payload model is `model`."""
    names = [name for name, known in PAYLOAD_MODELS.items() if known is model]
    if len(names) != 1:
        raise ValueError(f"{model.__name__} is not the payload model of one event type")

    def register(mapper: _M) -> _M:
        _MAPPERS[names[0]] = (model, mapper)
        TABLE_OF[names[0]] = table
        return mapper

    return register


def _base(envelope: Envelope) -> Row:
    context = envelope.context
    return {
        "event_id": envelope.event_id,
        "occurred_at": envelope.occurred_at,
        "project_path": context.project_path,
        "project_name": context.project_name,
        "claude_session_id": context.claude_session_id,
    }


@maps(AgentActionPayload, AGENT_ACTIONS)
def _agent_action(envelope: Envelope, p: AgentActionPayload) -> Row:
    row = _base(envelope)
    row.update(
        agent_name=p.agent,
        action_type=p.action_type,
        action_name=p.action_name,
        action_details=to_json(p.details),
        duration_ms=p.duration_ms,
        success=p.success,
        correlation_id=p.correlation_id,
        working_directory=envelope.context.working_directory,
    )
    return row


@maps(RoutingDecisionPayload, ROUTING_DECISIONS)
def _routing_decision(envelope: Envelope, p: RoutingDecisionPayload) -> Row:
    row = _base(envelope)
    row.update(
        selected_agent=p.selected_agent,
        confidence_score=p.confidence,
        routing_strategy=p.strategy,
        latency_ms=p.latency_ms,
        user_request=p.user_request,
        alternatives=to_json(p.alternatives),
        reasoning=p.reasoning,
        context=to_json(p.context),
        correlation_id=p.correlation_id,
    )
    return row


@maps(TransformationPayload, TRANSFORMATIONS)
def _transformation(envelope: Envelope, p: TransformationPayload) -> Row:
    row = _base(envelope)
    row.update(
        source_agent=p.from_agent,
        target_agent=p.to_agent,
        transformation_reason=p.reason,
        confidence_score=p.confidence,
        transformation_duration_ms=p.duration_ms,
        success=p.success,
        correlation_id=p.correlation_id,
    )
    return row


@maps(PerformanceMetricPayload, PERFORMANCE_METRICS)
def _performance_metric(envelope: Envelope, p: PerformanceMetricPayload) -> Row:
    row = _base(envelope)
    row.update(
        query_text=p.query,
        routing_duration_ms=p.duration_ms,
        cache_hit=p.cache_hit,
        candidates_evaluated=p.candidates,
        trigger_match_strategy=p.strategy,
        confidence_components=to_json(p.confidence_components),
        correlation_id=p.correlation_id,
    )
    return row


@maps(DetectionFailurePayload, DETECTION_FAILURES)
def _detection_failure(envelope: Envelope, p: DetectionFailurePayload) -> Row:
    row = _base(envelope)
    row.update(
        user_prompt=p.prompt,
        failure_reason=p.reason,
        detection_status=p.status,
        candidates_evaluated=p.candidates_evaluated,
        detected_agent=p.detected_agent,
        detected_confidence=p.confidence,
        expected_agent=p.expected_agent,
        detection_method=p.detection_method,
        trigger_matches=to_json(p.trigger_matches),
        capability_scores=to_json(p.capability_scores),
        metadata=to_json(p.metadata),
        correlation_id=p.correlation_id,
    )
    return row


@maps(ClaudeHookPayload, CLAUDE_HOOK_EVENTS)
def _claude_hook(envelope: Envelope, p: ClaudeHookPayload) -> Row:
    context = envelope.context
    payload: dict[str, Any] = dict(p.input)
    if p.error is not None:
        payload["omniclaude_error"] = p.error
    if p.raw is not None:
        payload["omniclaude_raw"] = p.raw
    row: Row = {
        "event_id": envelope.event_id,
        "hook_event_name": p.hook_event_name,
        "occurred_at": envelope.occurred_at,
        "claude_session_id": context.claude_session_id,
        "prompt_id": p.prompt_id,
        "tool_use_id": p.tool_use_id,
        "tool_name": p.tool_name,
        "agent_id": p.agent_id,
        "agent_type": p.agent_type,
        "success": p.success,
        "duration_ms": p.duration_ms,
        "project_path": context.project_path,
        "project_name": context.project_name,
        "working_directory": context.working_directory,
        "terminal_id": context.terminal_id,
        "host": context.host,
        "payload": to_json(payload),
    }
    changes = code_changes(p.input)
    row.update(
        lines_added=changes.lines_added if changes else None,
        lines_removed=changes.lines_removed if changes else None,
        commit_sha=changes.commit_sha if changes else None,
        commit_branch=changes.commit_branch if changes else None,
        pr_url=changes.pr_url if changes else None,
    )
    return row


@maps(LlmUsagePayload, LLM_USAGE)
def _llm_usage(envelope: Envelope, p: LlmUsagePayload) -> Row:
    row: Row = {
        "event_id": envelope.event_id,
        "claude_session_id": envelope.context.claude_session_id,
        "agent_id": p.agent_id,
        "agent_type": p.agent_type,
        "model": p.model,
        "message_id": p.message_id,
        "request_id": p.request_id,
        "occurred_at": envelope.occurred_at,
        "project_name": envelope.context.project_name,
        "input_tokens": p.input_tokens,
        "output_tokens": p.output_tokens,
        "cache_creation_input_tokens": p.cache_creation_input_tokens,
        "cache_read_input_tokens": p.cache_read_input_tokens,
        "cache_creation_5m_tokens": p.cache_creation_5m_tokens,
        "cache_creation_1h_tokens": p.cache_creation_1h_tokens,
        "cost_usd": p.cost_usd,
    }
    return row


def _execution(envelope: Envelope, execution_id: object, kind: str, metadata: dict[str, Any]) -> Row:
    context = envelope.context
    return {
        "execution_id": execution_id,
        "event_id": envelope.event_id,
        "agent_name": None,
        "description": None,
        "user_prompt": None,
        "correlation_id": None,
        "status": "in_progress",
        "started_at": None,
        "completed_at": None,
        "quality_score": None,
        "error_message": None,
        "error_type": None,
        "progress_stage": None,
        "progress_percent": None,
        "progress_at": None,
        "metadata": to_json({kind: metadata}),
        "project_path": context.project_path,
        "project_name": context.project_name,
        "claude_session_id": context.claude_session_id,
        "terminal_id": context.terminal_id,
    }


@maps(ExecutionStartedPayload, EXECUTION_LOGS)
def _execution_started(envelope: Envelope, p: ExecutionStartedPayload) -> Row:
    row = _execution(envelope, p.execution_id, "started", p.metadata)
    row.update(
        agent_name=p.agent,
        description=p.description,
        user_prompt=p.user_prompt,
        correlation_id=p.correlation_id,
        started_at=envelope.occurred_at,
    )
    return row


@maps(ExecutionProgressPayload, EXECUTION_LOGS)
def _execution_progress(envelope: Envelope, p: ExecutionProgressPayload) -> Row:
    row = _execution(envelope, p.execution_id, "progress", p.metadata)
    row.update(progress_stage=p.stage, progress_percent=p.percent, progress_at=envelope.occurred_at)
    return row


@maps(ExecutionCompletedPayload, EXECUTION_LOGS)
def _execution_completed(envelope: Envelope, p: ExecutionCompletedPayload) -> Row:
    row = _execution(envelope, p.execution_id, "completed", p.metadata)
    row.update(
        status=p.status,
        completed_at=envelope.occurred_at,
        quality_score=p.quality_score,
        error_message=p.error_message,
        error_type=p.error_type,
    )
    return row


def to_row(envelope: Envelope) -> TableRow:
    """Returns the table and row for a validated envelope; raises InvalidEvent if it cannot be mapped."""
    entry = _MAPPERS.get(envelope.event_type)
    if entry is None or not isinstance(envelope.payload, entry[0]):
        raise InvalidEvent(f"no row mapping for event_type {envelope.event_type!r}")
    try:
        return TableRow(TABLE_OF[envelope.event_type], entry[1](envelope, envelope.payload))
    except ValueError as exc:  # a JSON value that cannot be encoded (cannot come from parsed JSON)
        raise InvalidEvent(f"cannot encode a JSON column: {exc}") from None
