"""The event vocabulary: one pydantic model per event type, and the envelope that carries it.

These models are the single definition of every event's shape: skills validate their arguments with them,
the forwarder and the consumer validate what they read. The hook writes the same shape with the standard
library (`omniclaude.envelope`); a test pins the two together. Unknown keys are allowed in payloads
(`extra="allow"`), so a newer writer never breaks an older reader, but every known field is typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SerializeAsAny, TypeAdapter

from omniclaude.envelope import SCHEMA_VERSION
from omniclaude.topics import FAMILIES

Confidence = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegativeInt = Annotated[int, Field(ge=0, le=2_147_483_647)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, le=1e12, allow_inf_nan=False)]
Percent = Annotated[int, Field(ge=0, le=100)]
Text = Annotated[str, Field(min_length=1)]
JsonObject = dict[str, Any]

ActionType = Literal["tool_call", "decision", "error", "success"]
DetectionStatus = Literal["no_detection", "low_confidence", "wrong_agent", "timeout", "error"]
CompletionStatus = Literal["success", "error", "cancelled"]
Source = Literal["hook", "skill", "logger"]


class Payload(BaseModel):
    """Base of every payload: typed known fields, unknown extra fields kept."""

    model_config = ConfigDict(extra="allow", frozen=True)


PAYLOAD_MODELS: dict[str, type[Payload]] = {}
"""The payload model of each event type in `omniclaude.topics.FAMILIES` (the one list of event types)."""
_P = TypeVar("_P", bound=type[Payload])


def event_type(name: str) -> Callable[[_P], _P]:
    """Registers a payload model as the schema of the event type `name`, which must be in FAMILIES."""
    if name not in FAMILIES:
        raise ValueError(f"{name!r} is not an event type of omniclaude.topics.FAMILIES")

    def register(model: _P) -> _P:
        PAYLOAD_MODELS[name] = model
        return model

    return register


@event_type("claude_hook")
class ClaudeHookPayload(Payload):
    """One Claude Code hook firing; `input` is the hook's stdin as given (unknown event names included)."""

    hook_event_name: Text
    prompt_id: str | None = None
    tool_use_id: str | None = None
    tool_name: str | None = None
    agent_id: str | None = None
    agent_type: str | None = None
    success: bool | None = None
    duration_ms: NonNegativeInt | None = None
    input: JsonObject = Field(default_factory=dict)
    error: str | None = None
    raw: str | None = None


@event_type("agent_action")
class AgentActionPayload(Payload):
    """Something an agent did: a tool call, a decision, an error or a success."""

    agent: Text
    action_type: ActionType
    action_name: Text
    details: JsonObject = Field(default_factory=dict)
    duration_ms: NonNegativeInt | None = None
    success: bool | None = None
    correlation_id: str | None = None


@event_type("routing_decision")
class RoutingDecisionPayload(Payload):
    """The router chose an agent for a request."""

    selected_agent: Text
    confidence: Confidence
    strategy: Text
    latency_ms: NonNegativeInt
    user_request: str | None = None
    alternatives: list[Any] = Field(default_factory=list)
    reasoning: str | None = None
    context: JsonObject = Field(default_factory=dict)
    correlation_id: str | None = None


@event_type("transformation")
class TransformationPayload(Payload):
    """One agent handed over to (transformed into) another."""

    from_agent: Text
    to_agent: Text
    reason: str | None = None
    confidence: Confidence | None = None
    duration_ms: NonNegativeInt | None = None
    success: bool | None = None
    correlation_id: str | None = None


@event_type("performance_metric")
class PerformanceMetricPayload(Payload):
    """How long routing one query took, and how."""

    query: Text
    duration_ms: NonNegativeFloat
    cache_hit: bool | None = None
    candidates: NonNegativeInt | None = None
    strategy: str | None = None
    confidence_components: JsonObject = Field(default_factory=dict)
    correlation_id: str | None = None


@event_type("detection_failure")
class DetectionFailurePayload(Payload):
    """The router failed to find (the right) agent for a prompt."""

    prompt: Text
    reason: Text
    status: DetectionStatus = "no_detection"
    candidates_evaluated: NonNegativeInt | None = None
    detected_agent: str | None = None
    confidence: Confidence | None = None
    expected_agent: str | None = None
    detection_method: str | None = None
    trigger_matches: list[Any] = Field(default_factory=list)
    capability_scores: JsonObject = Field(default_factory=dict)
    metadata: JsonObject = Field(default_factory=dict)
    correlation_id: str | None = None


@event_type("execution_started")
class ExecutionStartedPayload(Payload):
    """An agent execution began; `execution_id` keys its whole lifecycle."""

    execution_id: UUID
    agent: Text
    description: str | None = None
    user_prompt: str | None = None
    metadata: JsonObject = Field(default_factory=dict)
    correlation_id: str | None = None


@event_type("execution_progress")
class ExecutionProgressPayload(Payload):
    """An execution reached a stage."""

    execution_id: UUID
    stage: Text
    percent: Percent | None = None
    metadata: JsonObject = Field(default_factory=dict)


@event_type("execution_completed")
class ExecutionCompletedPayload(Payload):
    """An execution ended."""

    execution_id: UUID
    status: CompletionStatus = "success"
    quality_score: Confidence | None = None
    error_message: str | None = None
    error_type: str | None = None
    metadata: JsonObject = Field(default_factory=dict)


@event_type("llm_usage")
class LlmUsagePayload(Payload):
    """The usage of one API response, read from a Claude Code transcript (`omniclaude.usage`).

    `cost_usd` is null when the price table does not know the model. `agent_id`/`agent_type` are set
    for a subagent's responses, null for the main thread's.
    """

    model: Text
    message_id: Text
    request_id: str | None = None
    agent_id: str | None = None
    agent_type: str | None = None
    input_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0
    cache_creation_input_tokens: NonNegativeInt = 0
    cache_read_input_tokens: NonNegativeInt = 0
    cache_creation_5m_tokens: NonNegativeInt = 0
    cache_creation_1h_tokens: NonNegativeInt = 0
    cost_usd: NonNegativeFloat | None = None


EVENT_TYPES = tuple(FAMILIES)


class Context(BaseModel):
    """Where and by whom an event happened (see `omniclaude.context` for the rules)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    project_path: str | None = None
    project_name: str | None = None
    working_directory: str | None = None
    claude_session_id: str | None = None
    terminal_id: str | None = None
    host: str | None = None
    user: str | None = None
    pid: int | None = None


class Envelope(BaseModel):
    """One event as it travels: identity, time, origin, context and a payload typed by `event_type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID
    schema_version: Literal[1] = SCHEMA_VERSION
    event_type: str
    occurred_at: AwareDatetime
    source: Source
    context: Context
    payload: SerializeAsAny[Payload]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Envelope:
        """Validates a decoded envelope, its payload against the model for its event_type.

        Raises pydantic.ValidationError, or UnknownEventType for an event_type with no model.
        """
        event_type = data.get("event_type")
        model = PAYLOAD_MODELS.get(event_type) if isinstance(event_type, str) else None
        if model is None:
            raise UnknownEventType(f"unknown event_type: {str(event_type)[:100]!r}")
        payload = model.model_validate(data.get("payload"))
        return cls.model_validate({**data, "payload": payload})

    @classmethod
    def parse_json(cls, raw: bytes | str) -> Envelope:
        """Decodes and validates one JSON envelope; raises ValueError subclasses on any problem."""
        data = _OBJECT.validate_json(raw)
        return cls.parse(data)


class UnknownEventType(ValueError):
    """The envelope names an event_type this code has no model for."""


_OBJECT: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
