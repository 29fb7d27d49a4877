-- 0004 Tokens, cost and code changes: the llm_usage table, code-change columns on claude_hook_events, and
-- the session_usage, daily_usage and agent_usage views over them.
--
-- llm_usage: one row per API response, read from Claude Code's transcripts (main thread and subagents) by
-- the forwarder. event_id is a UUIDv5 of (message_id, request_id), so a response read twice is one row.
-- agent_id/agent_type are NULL for the main thread. cost_usd is NULL when the price table does not know
-- the model (never a guess). occurred_at is the transcript line's timestamp.
--
-- claude_hook_events gains, for PostToolUse rows: lines_added/lines_removed (Edit, MultiEdit, Write:
-- Claude Code's structured patch; a created file counts all its lines), commit_sha/commit_branch (a
-- `git commit` run through Bash, from git's output; the SHA is as short as git printed it) and pr_url
-- (`gh pr create`). NULL on every other row.
--
-- Views and their columns (sums over llm_usage unless said otherwise; cost_usd sums the priced responses,
-- unpriced_responses counts those without a price):
--
--   session_usage   one row per (claude_session_id, model):
--       claude_session_id, model, project_name, first_response_at, last_response_at, responses,
--       input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens,
--       cache_creation_5m_tokens, cache_creation_1h_tokens, cost_usd, unpriced_responses,
--       lines_added, lines_removed, commits, pull_requests
--     (lines_added, lines_removed, commits and pull_requests are the whole session's, from
--      claude_hook_events, repeated on each model row of the session: do not add them up across models)
--
--   daily_usage     one row per (day, project_name, model); day is the UTC date of occurred_at:
--       day, project_name, model, sessions, responses, input_tokens, output_tokens,
--       cache_creation_input_tokens, cache_read_input_tokens, cache_creation_5m_tokens,
--       cache_creation_1h_tokens, cost_usd, unpriced_responses
--
--   agent_usage     one row per agent_type ('main' for the main thread's responses):
--       agent_type, agents, sessions, responses, input_tokens, output_tokens,
--       cache_creation_input_tokens, cache_read_input_tokens, cache_creation_5m_tokens,
--       cache_creation_1h_tokens, cost_usd, unpriced_responses

CREATE TABLE llm_usage (
    event_id                    UUID PRIMARY KEY,
    claude_session_id           TEXT,
    agent_id                    TEXT,
    agent_type                  TEXT,
    model                       TEXT NOT NULL,
    message_id                  TEXT NOT NULL,
    request_id                  TEXT,
    occurred_at                 TIMESTAMPTZ NOT NULL,
    project_name                TEXT,
    input_tokens                BIGINT NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens               BIGINT NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    cache_creation_input_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_creation_input_tokens >= 0),
    cache_read_input_tokens     BIGINT NOT NULL DEFAULT 0 CHECK (cache_read_input_tokens >= 0),
    cache_creation_5m_tokens    BIGINT NOT NULL DEFAULT 0 CHECK (cache_creation_5m_tokens >= 0),
    cache_creation_1h_tokens    BIGINT NOT NULL DEFAULT 0 CHECK (cache_creation_1h_tokens >= 0),
    cost_usd                    NUMERIC(20, 10) CHECK (cost_usd >= 0)
);
CREATE INDEX llm_usage_session_model_idx ON llm_usage (claude_session_id, model);
CREATE INDEX llm_usage_occurred_at_idx ON llm_usage (occurred_at);
CREATE INDEX llm_usage_project_occurred_at_idx ON llm_usage (project_name, occurred_at DESC);

ALTER TABLE claude_hook_events
    ADD COLUMN lines_added   INTEGER,
    ADD COLUMN lines_removed INTEGER,
    ADD COLUMN commit_sha    TEXT,
    ADD COLUMN commit_branch TEXT,
    ADD COLUMN pr_url        TEXT;

CREATE VIEW session_usage AS
WITH usage AS (
    SELECT
        u.claude_session_id,
        u.model,
        (array_agg(u.project_name ORDER BY u.occurred_at) FILTER (WHERE u.project_name IS NOT NULL))[1]
            AS project_name,
        min(u.occurred_at) AS first_response_at,
        max(u.occurred_at) AS last_response_at,
        count(*) AS responses,
        sum(u.input_tokens) AS input_tokens,
        sum(u.output_tokens) AS output_tokens,
        sum(u.cache_creation_input_tokens) AS cache_creation_input_tokens,
        sum(u.cache_read_input_tokens) AS cache_read_input_tokens,
        sum(u.cache_creation_5m_tokens) AS cache_creation_5m_tokens,
        sum(u.cache_creation_1h_tokens) AS cache_creation_1h_tokens,
        sum(u.cost_usd) AS cost_usd,
        count(*) FILTER (WHERE u.cost_usd IS NULL) AS unpriced_responses
    FROM llm_usage AS u
    GROUP BY u.claude_session_id, u.model
), changes AS (
    SELECT
        h.claude_session_id,
        coalesce(sum(h.lines_added), 0) AS lines_added,
        coalesce(sum(h.lines_removed), 0) AS lines_removed,
        count(DISTINCT h.commit_sha) AS commits,
        count(DISTINCT h.pr_url) AS pull_requests
    FROM claude_hook_events AS h
    WHERE h.claude_session_id IS NOT NULL
      AND (h.lines_added IS NOT NULL OR h.lines_removed IS NOT NULL OR h.commit_sha IS NOT NULL
           OR h.pr_url IS NOT NULL)
    GROUP BY h.claude_session_id
)
SELECT
    usage.*,
    coalesce(changes.lines_added, 0) AS lines_added,
    coalesce(changes.lines_removed, 0) AS lines_removed,
    coalesce(changes.commits, 0) AS commits,
    coalesce(changes.pull_requests, 0) AS pull_requests
FROM usage
LEFT JOIN changes ON changes.claude_session_id = usage.claude_session_id;
COMMENT ON VIEW session_usage IS
    'Tokens and cost per Claude session and model, with the session''s lines added/removed, commits and PRs.';

CREATE VIEW daily_usage AS
SELECT
    (u.occurred_at AT TIME ZONE 'UTC')::date AS day,
    u.project_name,
    u.model,
    count(DISTINCT u.claude_session_id) AS sessions,
    count(*) AS responses,
    sum(u.input_tokens) AS input_tokens,
    sum(u.output_tokens) AS output_tokens,
    sum(u.cache_creation_input_tokens) AS cache_creation_input_tokens,
    sum(u.cache_read_input_tokens) AS cache_read_input_tokens,
    sum(u.cache_creation_5m_tokens) AS cache_creation_5m_tokens,
    sum(u.cache_creation_1h_tokens) AS cache_creation_1h_tokens,
    sum(u.cost_usd) AS cost_usd,
    count(*) FILTER (WHERE u.cost_usd IS NULL) AS unpriced_responses
FROM llm_usage AS u
GROUP BY 1, u.project_name, u.model;
COMMENT ON VIEW daily_usage IS 'Tokens and cost per UTC day, project and model.';

CREATE VIEW agent_usage AS
SELECT
    coalesce(u.agent_type, 'main') AS agent_type,
    count(DISTINCT u.agent_id) AS agents,
    count(DISTINCT u.claude_session_id) AS sessions,
    count(*) AS responses,
    sum(u.input_tokens) AS input_tokens,
    sum(u.output_tokens) AS output_tokens,
    sum(u.cache_creation_input_tokens) AS cache_creation_input_tokens,
    sum(u.cache_read_input_tokens) AS cache_read_input_tokens,
    sum(u.cache_creation_5m_tokens) AS cache_creation_5m_tokens,
    sum(u.cache_creation_1h_tokens) AS cache_creation_1h_tokens,
    sum(u.cost_usd) AS cost_usd,
    count(*) FILTER (WHERE u.cost_usd IS NULL) AS unpriced_responses
FROM llm_usage AS u
GROUP BY 1;
COMMENT ON VIEW agent_usage IS
    'Tokens and cost per subagent type (''main'' is the main thread), over every session.';
