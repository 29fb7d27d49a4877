-- 0004 down: drops the usage views, llm_usage, and the code-change columns of claude_hook_events.

DROP VIEW IF EXISTS agent_usage;
DROP VIEW IF EXISTS daily_usage;
DROP VIEW IF EXISTS session_usage;
DROP TABLE IF EXISTS llm_usage;
ALTER TABLE claude_hook_events
    DROP COLUMN IF EXISTS lines_added,
    DROP COLUMN IF EXISTS lines_removed,
    DROP COLUMN IF EXISTS commit_sha,
    DROP COLUMN IF EXISTS commit_branch,
    DROP COLUMN IF EXISTS pr_url;
