-- 0002 project context: which project, Claude session and terminal each event came from.
--
-- Adds project_path, project_name and claude_session_id to every base table, terminal_id to
-- agent_execution_logs and working_directory to agent_actions (all NULL for rows that predate this
-- migration); an index on (project_name, time) per table; the function extract_project_name(path);
-- and the view agent_activity_realtime.
--
-- Correlation rule (used by the view): an action belongs to an execution when
-- agent_actions.correlation_id equals the execution's correlation_id or its execution_id as text.

ALTER TABLE agent_actions
    ADD COLUMN project_path TEXT,
    ADD COLUMN project_name TEXT,
    ADD COLUMN claude_session_id TEXT,
    ADD COLUMN working_directory TEXT;

ALTER TABLE agent_routing_decisions
    ADD COLUMN project_path TEXT,
    ADD COLUMN project_name TEXT,
    ADD COLUMN claude_session_id TEXT;

ALTER TABLE agent_transformation_events
    ADD COLUMN project_path TEXT,
    ADD COLUMN project_name TEXT,
    ADD COLUMN claude_session_id TEXT;

ALTER TABLE router_performance_metrics
    ADD COLUMN project_path TEXT,
    ADD COLUMN project_name TEXT,
    ADD COLUMN claude_session_id TEXT;

ALTER TABLE agent_detection_failures
    ADD COLUMN project_path TEXT,
    ADD COLUMN project_name TEXT,
    ADD COLUMN claude_session_id TEXT;

ALTER TABLE agent_execution_logs
    ADD COLUMN project_path TEXT,
    ADD COLUMN project_name TEXT,
    ADD COLUMN claude_session_id TEXT,
    ADD COLUMN terminal_id TEXT;

-- The last component of a path, one trailing slash ignored: '/a/b' and '/a/b/' give 'b', 'b' gives 'b'.
-- NULL when there is no name: for NULL, '' and '/' (and any path ending in '//').
CREATE FUNCTION extract_project_name(path TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT NULLIF(substring(regexp_replace(path, '/$', '') FROM '[^/]*$'), '') $$;
COMMENT ON FUNCTION extract_project_name(TEXT) IS
    'Last component of a path, one trailing slash ignored; NULL for NULL, '''' and ''/''.';

-- Executions started in the last hour, with the actions linked to each (see the correlation rule above).
-- An execution without actions has action_count 0, zero per-type counts, action_types '{}' and
-- last_action_at NULL.
CREATE VIEW agent_activity_realtime AS
SELECT
    e.execution_id,
    e.project_name,
    e.project_path,
    e.claude_session_id,
    e.terminal_id,
    e.agent_name,
    e.status,
    e.started_at,
    e.completed_at,
    a.action_count,
    a.tool_call_count,
    a.decision_count,
    a.error_count,
    a.success_count,
    a.action_types,
    a.last_action_at
FROM agent_execution_logs AS e
CROSS JOIN LATERAL (
    SELECT
        count(*) AS action_count,
        count(*) FILTER (WHERE x.action_type = 'tool_call') AS tool_call_count,
        count(*) FILTER (WHERE x.action_type = 'decision') AS decision_count,
        count(*) FILTER (WHERE x.action_type = 'error') AS error_count,
        count(*) FILTER (WHERE x.action_type = 'success') AS success_count,
        COALESCE(array_agg(DISTINCT x.action_type ORDER BY x.action_type), '{}'::text[]) AS action_types,
        max(x.occurred_at) AS last_action_at
    FROM agent_actions AS x
    WHERE x.correlation_id = e.correlation_id
       OR x.correlation_id = e.execution_id::text
) AS a
WHERE e.started_at >= now() - interval '1 hour';
COMMENT ON VIEW agent_activity_realtime IS
    'Executions started in the last hour with their linked actions (correlation_id = execution correlation_id or execution_id).';

CREATE INDEX agent_actions_project_name_occurred_at_idx
    ON agent_actions (project_name, occurred_at);
CREATE INDEX agent_routing_decisions_project_name_occurred_at_idx
    ON agent_routing_decisions (project_name, occurred_at);
CREATE INDEX agent_transformation_events_project_name_occurred_at_idx
    ON agent_transformation_events (project_name, occurred_at);
CREATE INDEX router_performance_metrics_project_name_occurred_at_idx
    ON router_performance_metrics (project_name, occurred_at);
CREATE INDEX agent_detection_failures_project_name_occurred_at_idx
    ON agent_detection_failures (project_name, occurred_at);
CREATE INDEX agent_execution_logs_project_name_started_at_idx
    ON agent_execution_logs (project_name, started_at);
