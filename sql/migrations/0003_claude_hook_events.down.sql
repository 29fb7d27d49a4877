-- 0003 down: drops the claude_sessions view, then claude_hook_events (its indexes go with it).

DROP VIEW IF EXISTS claude_sessions;
DROP TABLE IF EXISTS claude_hook_events;
