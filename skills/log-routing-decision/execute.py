#!/usr/bin/env python3
"""Records one routing decision (a `routing_decision` event) in omniclaude's local spool.

Usage:
  execute.py --agent SELECTED --confidence 0..1 --strategy S --latency-ms N
             [--user-request R] [--alternatives JSON-list] [--reasoning R] [--context JSON-object]
             [--correlation-id ID] [--project-path P] [--project-name N] [--session-id S] [--terminal-id T]

On success prints one JSON object: {"event_id": ..., "event_type": "routing_decision", "payload": {...}}.

Exit codes:
  0  recorded
  1  refused: well-formed, but the event could not be recorded (one line on stderr says why)
  2  usage error: a flag is missing or malformed (one line on stderr names it)
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(__file__, "..", "..", "..", "lib")))  # the plugin's lib/

from omniclaude import skillkit

EVENT_TYPE = "routing_decision"
FLAGS = {"selected_agent": "--agent"}
"""Payload fields whose flag is not `--<field-with-dashes>`."""


class Args(skillkit.ContextArgs):
    """The parsed command line."""

    agent: str
    confidence: float
    strategy: str
    latency_ms: int
    user_request: str | None
    alternatives: list[object] | None
    reasoning: str | None
    context: dict[str, object] | None
    correlation_id: str | None


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    parser = skillkit.SkillParser(
        prog="log-routing-decision", description="Record which agent the router chose, and why."
    )
    parser.add_argument("--agent", required=True, type=skillkit.text, metavar="SELECTED", help="the agent chosen")
    parser.add_argument(
        "--confidence",
        required=True,
        type=skillkit.unit_interval,
        metavar="0..1",
        help="the router's confidence",
    )
    parser.add_argument("--strategy", required=True, type=skillkit.text, help="how it chose, e.g. trigger_match")
    parser.add_argument(
        "--latency-ms",
        required=True,
        type=skillkit.non_negative_int,
        metavar="N",
        help="how long the decision took, in ms",
    )
    parser.add_argument("--user-request", metavar="TEXT", help="the request that was routed")
    parser.add_argument(
        "--alternatives",
        type=skillkit.json_list,
        metavar="JSON",
        help='a JSON list of the other candidates, e.g. [{"agent": "b", "confidence": 0.4}]',
    )
    parser.add_argument("--reasoning", metavar="TEXT", help="why this agent")
    parser.add_argument("--context", type=skillkit.json_object, metavar="JSON", help="a JSON object of routing context")
    skillkit.add_context_flags(parser, correlation=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=Args())
    fields = {
        "selected_agent": args.agent,
        "confidence": args.confidence,
        "strategy": args.strategy,
        "latency_ms": args.latency_ms,
        "user_request": args.user_request,
        "alternatives": args.alternatives,
        "reasoning": args.reasoning,
        "context": args.context,
        "correlation_id": args.correlation_id,
    }
    return skillkit.record_and_print(EVENT_TYPE, fields, args, flags=FLAGS)


if __name__ == "__main__":
    skillkit.bootstrap()
    sys.exit(main())
