-- 0003 Claude Code hook events: one row per hook firing, and the claude_sessions view over them.
--
-- payload is the hook's stdin JSON after redaction. success is FALSE for PostToolUseFailure, TRUE for
-- PostToolUse, else NULL. Indexes: "this session, in order", "this project, recent first", and
-- occurred_at for `omniclaude db prune`.

CREATE TABLE claude_hook_events (
    id                BIGSERIAL PRIMARY KEY,
    event_id          UUID NOT NULL UNIQUE,
    hook_event_name   TEXT NOT NULL,
    occurred_at       TIMESTAMPTZ NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    claude_session_id TEXT,
    prompt_id         TEXT,
    tool_use_id       TEXT,
    tool_name         TEXT,
    agent_id          TEXT,
    agent_type        TEXT,
    success           BOOLEAN,
    duration_ms       INTEGER,
    project_path      TEXT,
    project_name      TEXT,
    working_directory TEXT,
    terminal_id       TEXT,
    host              TEXT,
    payload           JSONB NOT NULL
);
CREATE INDEX claude_hook_events_session_occurred_at_idx
    ON claude_hook_events (claude_session_id, occurred_at);
CREATE INDEX claude_hook_events_project_name_occurred_at_idx
    ON claude_hook_events (project_name, occurred_at DESC);
CREATE INDEX claude_hook_events_occurred_at_idx
    ON claude_hook_events (occurred_at);

-- One row per Claude session. project_*, terminal_id and host are the session's first non-NULL values
-- (where it started). prompt_count counts UserPromptSubmit, tool_call_count PreToolUse, failure_count
-- PostToolUseFailure; subagent_count is the number of distinct agent_id values (Claude Code sets agent_id
-- only on events fired inside a subagent); ended_at is the SessionEnd time, NULL while the session is open.
CREATE VIEW claude_sessions AS
SELECT
    h.claude_session_id,
    (array_agg(h.project_name ORDER BY h.occurred_at, h.id) FILTER (WHERE h.project_name IS NOT NULL))[1]
        AS project_name,
    (array_agg(h.project_path ORDER BY h.occurred_at, h.id) FILTER (WHERE h.project_path IS NOT NULL))[1]
        AS project_path,
    (array_agg(h.terminal_id ORDER BY h.occurred_at, h.id) FILTER (WHERE h.terminal_id IS NOT NULL))[1]
        AS terminal_id,
    (array_agg(h.host ORDER BY h.occurred_at, h.id) FILTER (WHERE h.host IS NOT NULL))[1]
        AS host,
    min(h.occurred_at) AS first_event_at,
    max(h.occurred_at) AS last_event_at,
    max(h.occurred_at) FILTER (WHERE h.hook_event_name = 'SessionEnd') AS ended_at,
    count(*) AS event_count,
    count(*) FILTER (WHERE h.hook_event_name = 'UserPromptSubmit') AS prompt_count,
    count(*) FILTER (WHERE h.hook_event_name = 'PreToolUse') AS tool_call_count,
    count(*) FILTER (WHERE h.hook_event_name = 'PostToolUseFailure') AS failure_count,
    count(DISTINCT h.agent_id) AS subagent_count
FROM claude_hook_events AS h
WHERE h.claude_session_id IS NOT NULL
GROUP BY h.claude_session_id;
COMMENT ON VIEW claude_sessions IS
    'One row per Claude session: where it ran, when, and counts of prompts, tool calls, failures and subagents.';
