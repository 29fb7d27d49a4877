-- 0001 base tables: one table per event family, written by omniclaude-consumer.
--
-- Every event row carries the event_id of the envelope it came from, UNIQUE, so the consumer's
-- INSERT ... ON CONFLICT (event_id) DO NOTHING makes ingestion idempotent. agent_execution_logs holds
-- one row per execution (keyed by execution_id); its event_id is the first event that created the row,
-- and later lifecycle events update it. The occurred_at / started_at indexes serve `omniclaude db prune`
-- and time-ordered reads; the correlation_id indexes serve the execution <-> action join.

CREATE TABLE agent_actions (
    id             BIGSERIAL PRIMARY KEY,
    event_id       UUID NOT NULL UNIQUE,
    occurred_at    TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    agent_name     TEXT NOT NULL,
    action_type    TEXT NOT NULL CHECK (action_type IN ('tool_call', 'decision', 'error', 'success')),
    action_name    TEXT NOT NULL,
    action_details JSONB NOT NULL DEFAULT '{}'::jsonb,
    duration_ms    INTEGER CHECK (duration_ms >= 0),
    success        BOOLEAN,
    correlation_id TEXT
);
CREATE INDEX agent_actions_occurred_at_idx ON agent_actions (occurred_at);
CREATE INDEX agent_actions_correlation_id_idx ON agent_actions (correlation_id);

CREATE TABLE agent_routing_decisions (
    id               BIGSERIAL PRIMARY KEY,
    event_id         UUID NOT NULL UNIQUE,
    occurred_at      TIMESTAMPTZ NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    selected_agent   TEXT NOT NULL,
    confidence_score NUMERIC(5, 4) NOT NULL CHECK (confidence_score BETWEEN 0 AND 1),
    routing_strategy TEXT NOT NULL,
    latency_ms       INTEGER NOT NULL CHECK (latency_ms >= 0),
    user_request     TEXT,
    alternatives     JSONB NOT NULL DEFAULT '[]'::jsonb,
    reasoning        TEXT,
    context          JSONB NOT NULL DEFAULT '{}'::jsonb,
    correlation_id   TEXT
);
CREATE INDEX agent_routing_decisions_occurred_at_idx ON agent_routing_decisions (occurred_at);
CREATE INDEX agent_routing_decisions_correlation_id_idx ON agent_routing_decisions (correlation_id);

CREATE TABLE agent_transformation_events (
    id                         BIGSERIAL PRIMARY KEY,
    event_id                   UUID NOT NULL UNIQUE,
    occurred_at                TIMESTAMPTZ NOT NULL,
    received_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    source_agent               TEXT NOT NULL,
    target_agent               TEXT NOT NULL,
    transformation_reason      TEXT,
    confidence_score           NUMERIC(5, 4) CHECK (confidence_score BETWEEN 0 AND 1),
    transformation_duration_ms INTEGER CHECK (transformation_duration_ms >= 0),
    success                    BOOLEAN,
    correlation_id             TEXT
);
CREATE INDEX agent_transformation_events_occurred_at_idx ON agent_transformation_events (occurred_at);
CREATE INDEX agent_transformation_events_correlation_id_idx ON agent_transformation_events (correlation_id);

CREATE TABLE router_performance_metrics (
    id                     BIGSERIAL PRIMARY KEY,
    event_id               UUID NOT NULL UNIQUE,
    occurred_at            TIMESTAMPTZ NOT NULL,
    received_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    query_text             TEXT NOT NULL,
    routing_duration_ms    NUMERIC(12, 3) NOT NULL CHECK (routing_duration_ms >= 0),
    cache_hit              BOOLEAN,
    candidates_evaluated   INTEGER CHECK (candidates_evaluated >= 0),
    trigger_match_strategy TEXT,
    confidence_components  JSONB NOT NULL DEFAULT '{}'::jsonb,
    correlation_id         TEXT
);
CREATE INDEX router_performance_metrics_occurred_at_idx ON router_performance_metrics (occurred_at);
CREATE INDEX router_performance_metrics_correlation_id_idx ON router_performance_metrics (correlation_id);

CREATE TABLE agent_detection_failures (
    id                   BIGSERIAL PRIMARY KEY,
    event_id             UUID NOT NULL UNIQUE,
    occurred_at          TIMESTAMPTZ NOT NULL,
    received_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_prompt          TEXT NOT NULL,
    failure_reason       TEXT NOT NULL,
    detection_status     TEXT NOT NULL
        CHECK (detection_status IN ('no_detection', 'low_confidence', 'wrong_agent', 'timeout', 'error')),
    candidates_evaluated INTEGER CHECK (candidates_evaluated >= 0),
    detected_agent       TEXT,
    detected_confidence  NUMERIC(5, 4) CHECK (detected_confidence BETWEEN 0 AND 1),
    expected_agent       TEXT,
    detection_method     TEXT,
    trigger_matches      JSONB NOT NULL DEFAULT '[]'::jsonb,
    capability_scores    JSONB NOT NULL DEFAULT '{}'::jsonb,
    metadata             JSONB NOT NULL DEFAULT '{}'::jsonb,
    correlation_id       TEXT
);
CREATE INDEX agent_detection_failures_occurred_at_idx ON agent_detection_failures (occurred_at);
CREATE INDEX agent_detection_failures_correlation_id_idx ON agent_detection_failures (correlation_id);

CREATE TABLE agent_execution_logs (
    execution_id     UUID PRIMARY KEY,
    event_id         UUID NOT NULL UNIQUE,
    agent_name       TEXT,
    description      TEXT,
    user_prompt      TEXT,
    correlation_id   TEXT,
    status           TEXT NOT NULL DEFAULT 'in_progress'
        CHECK (status IN ('in_progress', 'success', 'error', 'cancelled')),
    started_at       TIMESTAMPTZ,
    completed_at     TIMESTAMPTZ,
    duration_ms      INTEGER,
    quality_score    NUMERIC(5, 4) CHECK (quality_score BETWEEN 0 AND 1),
    error_message    TEXT,
    error_type       TEXT,
    progress_stage   TEXT,
    progress_percent INTEGER CHECK (progress_percent BETWEEN 0 AND 100),
    progress_at      TIMESTAMPTZ,
    metadata         JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX agent_execution_logs_started_at_idx ON agent_execution_logs (started_at);
CREATE INDEX agent_execution_logs_correlation_id_idx ON agent_execution_logs (correlation_id);
-- Retention age of an execution: when it started, or when its row was created if no start arrived.
CREATE INDEX agent_execution_logs_retention_idx ON agent_execution_logs ((COALESCE(started_at, created_at)));
