-- 0002 down: removes exactly what 0002 up added, in reverse dependency order: indexes, view, function,
-- columns. Every statement has IF EXISTS, so running it twice is harmless. Rows survive; the values
-- in the dropped columns do not.

DROP INDEX IF EXISTS agent_execution_logs_project_name_started_at_idx;
DROP INDEX IF EXISTS agent_detection_failures_project_name_occurred_at_idx;
DROP INDEX IF EXISTS router_performance_metrics_project_name_occurred_at_idx;
DROP INDEX IF EXISTS agent_transformation_events_project_name_occurred_at_idx;
DROP INDEX IF EXISTS agent_routing_decisions_project_name_occurred_at_idx;
DROP INDEX IF EXISTS agent_actions_project_name_occurred_at_idx;

DROP VIEW IF EXISTS agent_activity_realtime;

DROP FUNCTION IF EXISTS extract_project_name(TEXT);

ALTER TABLE IF EXISTS agent_execution_logs
    DROP COLUMN IF EXISTS terminal_id,
    DROP COLUMN IF EXISTS claude_session_id,
    DROP COLUMN IF EXISTS project_name,
    DROP COLUMN IF EXISTS project_path;

ALTER TABLE IF EXISTS agent_detection_failures
    DROP COLUMN IF EXISTS claude_session_id,
    DROP COLUMN IF EXISTS project_name,
    DROP COLUMN IF EXISTS project_path;

ALTER TABLE IF EXISTS router_performance_metrics
    DROP COLUMN IF EXISTS claude_session_id,
    DROP COLUMN IF EXISTS project_name,
    DROP COLUMN IF EXISTS project_path;

ALTER TABLE IF EXISTS agent_transformation_events
    DROP COLUMN IF EXISTS claude_session_id,
    DROP COLUMN IF EXISTS project_name,
    DROP COLUMN IF EXISTS project_path;

ALTER TABLE IF EXISTS agent_routing_decisions
    DROP COLUMN IF EXISTS claude_session_id,
    DROP COLUMN IF EXISTS project_name,
    DROP COLUMN IF EXISTS project_path;

ALTER TABLE IF EXISTS agent_actions
    DROP COLUMN IF EXISTS working_directory,
    DROP COLUMN IF EXISTS claude_session_id,
    DROP COLUMN IF EXISTS project_name,
    DROP COLUMN IF EXISTS project_path;
