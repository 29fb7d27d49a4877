-- Reverts 0005: the rollup triggers, their functions, the rollup tables and the report indexes.
DROP TRIGGER IF EXISTS llm_usage_rollup ON llm_usage;
DROP FUNCTION IF EXISTS llm_usage_rollup();
DROP FUNCTION IF EXISTS llm_usage_rollup_sql();
DROP TABLE IF EXISTS llm_usage_daily;
DROP INDEX IF EXISTS claude_hook_events_failure_idx;
DROP INDEX IF EXISTS claude_hook_events_tool_done_idx;
DROP TRIGGER IF EXISTS claude_hook_events_rollup ON claude_hook_events;
DROP FUNCTION IF EXISTS claude_hook_events_rollup();
DROP FUNCTION IF EXISTS claude_hook_events_rollup_sql();
DROP TABLE IF EXISTS claude_tool_daily;
DROP TABLE IF EXISTS claude_subagent_rollup;
DROP TABLE IF EXISTS claude_session_rollup;
