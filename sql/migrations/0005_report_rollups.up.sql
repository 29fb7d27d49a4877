-- 0005 report rollups: what `omniclaude report` and the dashboard read instead of scanning every event.
--
-- Three tables kept current by one statement-level trigger on claude_hook_events (one aggregated upsert
-- per INSERT or COPY statement, over the rows it actually inserted; ON CONFLICT DO NOTHING re-deliveries
-- add nothing):
-- - claude_session_rollup: one row per Claude session, the figures of the claude_sessions view
--   (project_*, terminal_id and host are the first non-NULL values to arrive);
-- - claude_subagent_rollup: one row per (session, subagent), from the events that carry an agent_id;
-- - claude_tool_daily: per UTC day, project and tool: calls (PreToolUse), completions (PostToolUse),
--   failures (PostToolUseFailure).
-- And llm_usage_daily, per UTC day, project, model and agent type ('' when unknown): the sums of
-- llm_usage, kept by a statement-level trigger on llm_usage the same way.
-- Rows deleted from claude_hook_events (`omniclaude db prune`) stay counted here: the rollups are history.
-- Plus indexes for the reports' other reads: tool latency by time, failures by time.

CREATE TABLE claude_session_rollup (
    claude_session_id TEXT PRIMARY KEY,
    project_name      TEXT,
    project_path      TEXT,
    terminal_id       TEXT,
    host              TEXT,
    first_event_at    TIMESTAMPTZ NOT NULL,
    last_event_at     TIMESTAMPTZ NOT NULL,
    ended_at          TIMESTAMPTZ,
    event_count       BIGINT NOT NULL,
    prompt_count      BIGINT NOT NULL,
    tool_call_count   BIGINT NOT NULL,
    failure_count     BIGINT NOT NULL
);
CREATE INDEX claude_session_rollup_last_event_at_idx ON claude_session_rollup (last_event_at DESC);
CREATE INDEX claude_session_rollup_first_event_at_idx ON claude_session_rollup (first_event_at);
CREATE INDEX claude_session_rollup_project_idx ON claude_session_rollup (project_name, last_event_at DESC);
COMMENT ON TABLE claude_session_rollup IS
    'One row per Claude session (as claude_sessions), kept by trigger from claude_hook_events.';

CREATE TABLE claude_subagent_rollup (
    claude_session_id TEXT NOT NULL,
    agent_id          TEXT NOT NULL,
    agent_type        TEXT,
    first_event_at    TIMESTAMPTZ NOT NULL,
    last_event_at     TIMESTAMPTZ NOT NULL,
    event_count       BIGINT NOT NULL,
    tool_call_count   BIGINT NOT NULL,
    failure_count     BIGINT NOT NULL,
    PRIMARY KEY (claude_session_id, agent_id)
);
CREATE INDEX claude_subagent_rollup_first_event_at_idx ON claude_subagent_rollup (first_event_at);
COMMENT ON TABLE claude_subagent_rollup IS
    'One row per subagent of a Claude session (events with an agent_id), kept by trigger.';

CREATE TABLE claude_tool_daily (
    day          DATE NOT NULL,
    project_name TEXT NOT NULL,
    tool_name    TEXT NOT NULL,
    calls        BIGINT NOT NULL,
    completions  BIGINT NOT NULL,
    failures     BIGINT NOT NULL,
    PRIMARY KEY (day, project_name, tool_name)
);
COMMENT ON TABLE claude_tool_daily IS
    'Tool calls, completions and failures per UTC day, project ('''' when unknown) and tool, kept by trigger.';

-- The three upserts that fold a set of claude_hook_events rows into the rollups, with %s standing for
-- that set: the trigger's transition table, or claude_hook_events itself for the backfill below.
CREATE FUNCTION claude_hook_events_rollup_sql() RETURNS TEXT[]
    LANGUAGE sql IMMUTABLE AS $fn$ SELECT ARRAY[
        $sql$
        INSERT INTO claude_session_rollup AS r (
        claude_session_id, project_name, project_path, terminal_id, host, first_event_at, last_event_at,
        ended_at, event_count, prompt_count, tool_call_count, failure_count)
    SELECT
        n.claude_session_id,
        (array_agg(n.project_name ORDER BY n.occurred_at, n.id) FILTER (WHERE n.project_name IS NOT NULL))[1],
        (array_agg(n.project_path ORDER BY n.occurred_at, n.id) FILTER (WHERE n.project_path IS NOT NULL))[1],
        (array_agg(n.terminal_id ORDER BY n.occurred_at, n.id) FILTER (WHERE n.terminal_id IS NOT NULL))[1],
        (array_agg(n.host ORDER BY n.occurred_at, n.id) FILTER (WHERE n.host IS NOT NULL))[1],
        min(n.occurred_at),
        max(n.occurred_at),
        max(n.occurred_at) FILTER (WHERE n.hook_event_name = 'SessionEnd'),
        count(*),
        count(*) FILTER (WHERE n.hook_event_name = 'UserPromptSubmit'),
        count(*) FILTER (WHERE n.hook_event_name = 'PreToolUse'),
        count(*) FILTER (WHERE n.hook_event_name = 'PostToolUseFailure')
    FROM %s AS n
    WHERE n.claude_session_id IS NOT NULL
    GROUP BY n.claude_session_id
    ORDER BY n.claude_session_id
    ON CONFLICT (claude_session_id) DO UPDATE SET
        project_name = COALESCE(r.project_name, EXCLUDED.project_name),
        project_path = COALESCE(r.project_path, EXCLUDED.project_path),
        terminal_id = COALESCE(r.terminal_id, EXCLUDED.terminal_id),
        host = COALESCE(r.host, EXCLUDED.host),
        first_event_at = LEAST(r.first_event_at, EXCLUDED.first_event_at),
        last_event_at = GREATEST(r.last_event_at, EXCLUDED.last_event_at),
        ended_at = GREATEST(r.ended_at, EXCLUDED.ended_at),
        event_count = r.event_count + EXCLUDED.event_count,
        prompt_count = r.prompt_count + EXCLUDED.prompt_count,
        tool_call_count = r.tool_call_count + EXCLUDED.tool_call_count,
        failure_count = r.failure_count + EXCLUDED.failure_count
        $sql$,
        $sql$
        INSERT INTO claude_subagent_rollup AS r (
        claude_session_id, agent_id, agent_type, first_event_at, last_event_at, event_count,
        tool_call_count, failure_count)
    SELECT
        n.claude_session_id,
        n.agent_id,
        (array_agg(n.agent_type ORDER BY n.occurred_at, n.id) FILTER (WHERE n.agent_type IS NOT NULL))[1],
        min(n.occurred_at),
        max(n.occurred_at),
        count(*),
        count(*) FILTER (WHERE n.hook_event_name = 'PreToolUse'),
        count(*) FILTER (WHERE n.hook_event_name = 'PostToolUseFailure')
    FROM %s AS n
    WHERE n.claude_session_id IS NOT NULL AND n.agent_id IS NOT NULL
    GROUP BY n.claude_session_id, n.agent_id
    ORDER BY n.claude_session_id, n.agent_id
    ON CONFLICT (claude_session_id, agent_id) DO UPDATE SET
        agent_type = COALESCE(r.agent_type, EXCLUDED.agent_type),
        first_event_at = LEAST(r.first_event_at, EXCLUDED.first_event_at),
        last_event_at = GREATEST(r.last_event_at, EXCLUDED.last_event_at),
        event_count = r.event_count + EXCLUDED.event_count,
        tool_call_count = r.tool_call_count + EXCLUDED.tool_call_count,
        failure_count = r.failure_count + EXCLUDED.failure_count
        $sql$,
        $sql$
        INSERT INTO claude_tool_daily AS r (day, project_name, tool_name, calls, completions, failures)
    SELECT
        (n.occurred_at AT TIME ZONE 'UTC')::date,
        COALESCE(n.project_name, ''),
        n.tool_name,
        count(*) FILTER (WHERE n.hook_event_name = 'PreToolUse'),
        count(*) FILTER (WHERE n.hook_event_name = 'PostToolUse'),
        count(*) FILTER (WHERE n.hook_event_name = 'PostToolUseFailure')
    FROM %s AS n
    WHERE n.tool_name IS NOT NULL
      AND n.hook_event_name IN ('PreToolUse', 'PostToolUse', 'PostToolUseFailure')
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (day, project_name, tool_name) DO UPDATE SET
        calls = r.calls + EXCLUDED.calls,
        completions = r.completions + EXCLUDED.completions,
        failures = r.failures + EXCLUDED.failures
        $sql$
    ]::text[] $fn$;

-- Transition tables are visible only to the trigger function's own statements, hence EXECUTE here.
CREATE FUNCTION claude_hook_events_rollup() RETURNS trigger
    LANGUAGE plpgsql AS $$ DECLARE statement TEXT; BEGIN
    FOREACH statement IN ARRAY claude_hook_events_rollup_sql() LOOP EXECUTE format(statement, 'new_rows'); END LOOP;
    RETURN NULL; END $$;

CREATE TRIGGER claude_hook_events_rollup
    AFTER INSERT ON claude_hook_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claude_hook_events_rollup();

-- Backfill from the events already stored.
DO $$ DECLARE statement TEXT; BEGIN
    FOREACH statement IN ARRAY claude_hook_events_rollup_sql() LOOP
        EXECUTE format(statement, 'claude_hook_events'); END LOOP; END $$;

-- One tool's finished calls over a time range, index-only (hook_event_name is included because PostgreSQL
-- needs every column the query names, the partial predicate's too), and the newest failures.
CREATE INDEX claude_hook_events_tool_done_idx
    ON claude_hook_events (tool_name, occurred_at) INCLUDE (hook_event_name, duration_ms, project_name)
    WHERE hook_event_name IN ('PostToolUse', 'PostToolUseFailure');
CREATE INDEX claude_hook_events_failure_idx
    ON claude_hook_events (occurred_at DESC)
    WHERE hook_event_name = 'PostToolUseFailure';

CREATE TABLE llm_usage_daily (
    day                         DATE NOT NULL,
    project_name                TEXT NOT NULL,
    model                       TEXT NOT NULL,
    agent_type                  TEXT NOT NULL,
    requests                    BIGINT NOT NULL,
    input_tokens                BIGINT NOT NULL,
    output_tokens               BIGINT NOT NULL,
    cache_creation_input_tokens BIGINT NOT NULL,
    cache_read_input_tokens     BIGINT NOT NULL,
    cost_usd                    NUMERIC NOT NULL,
    PRIMARY KEY (day, project_name, model, agent_type)
);
COMMENT ON TABLE llm_usage_daily IS
    'Sums of llm_usage per UTC day, project, model and agent type ('''' when unknown), kept by trigger.';

CREATE FUNCTION llm_usage_rollup_sql() RETURNS TEXT
    LANGUAGE sql IMMUTABLE AS $fn$ SELECT $sql$
    INSERT INTO llm_usage_daily AS r (day, project_name, model, agent_type, requests, input_tokens, output_tokens,
        cache_creation_input_tokens, cache_read_input_tokens, cost_usd)
    SELECT (n.occurred_at AT TIME ZONE 'UTC')::date, COALESCE(n.project_name, ''), COALESCE(n.model, ''),
           COALESCE(n.agent_type, ''), count(*), COALESCE(sum(n.input_tokens), 0), COALESCE(sum(n.output_tokens), 0),
           COALESCE(sum(n.cache_creation_input_tokens), 0), COALESCE(sum(n.cache_read_input_tokens), 0),
           COALESCE(sum(n.cost_usd), 0)
    FROM %s AS n
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, project_name, model, agent_type) DO UPDATE SET
        requests = r.requests + EXCLUDED.requests,
        input_tokens = r.input_tokens + EXCLUDED.input_tokens,
        output_tokens = r.output_tokens + EXCLUDED.output_tokens,
        cache_creation_input_tokens = r.cache_creation_input_tokens + EXCLUDED.cache_creation_input_tokens,
        cache_read_input_tokens = r.cache_read_input_tokens + EXCLUDED.cache_read_input_tokens,
        cost_usd = r.cost_usd + EXCLUDED.cost_usd
    $sql$ $fn$;

CREATE FUNCTION llm_usage_rollup() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN EXECUTE format(llm_usage_rollup_sql(), 'new_rows'); RETURN NULL; END $$;

CREATE TRIGGER llm_usage_rollup
    AFTER INSERT ON llm_usage
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION llm_usage_rollup();

DO $$ BEGIN EXECUTE format(llm_usage_rollup_sql(), 'llm_usage'); END $$;
