-- 0001 down: drops the base tables (and with them their indexes and sequences).
-- No CASCADE: a later migration's objects that depend on these tables must be removed by its own down first.

DROP TABLE IF EXISTS agent_execution_logs;
DROP TABLE IF EXISTS agent_detection_failures;
DROP TABLE IF EXISTS router_performance_metrics;
DROP TABLE IF EXISTS agent_transformation_events;
DROP TABLE IF EXISTS agent_routing_decisions;
DROP TABLE IF EXISTS agent_actions;
