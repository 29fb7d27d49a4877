-- Reverts 0005: the rollup trigger, its functions, the rollup tables and the report indexes.
DROP INDEX claude_hook_events_failure_idx;
DROP INDEX claude_hook_events_tool_done_idx;
DROP TRIGGER claude_hook_events_rollup ON claude_hook_events;
DROP FUNCTION claude_hook_events_rollup();
DROP FUNCTION claude_hook_events_rollup_sql();
DROP TABLE claude_tool_daily;
DROP TABLE claude_subagent_rollup;
DROP TABLE claude_session_rollup;
