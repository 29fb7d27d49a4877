#!/usr/bin/env python3
"""Records one agent action (an `agent_action` event) in omniclaude's local spool.

Usage:
  execute.py --agent A --action-type {tool_call,decision,error,success} --action-name N
             [--details JSON-object] [--duration-ms N] [--success | --no-success] [--correlation-id ID]
             [--project-path P] [--project-name N] [--session-id S] [--terminal-id T]

On success prints one JSON object: {"event_id": ..., "event_type": "agent_action", "payload": {...}}.

Exit codes:
  0  recorded
  1  refused: well-formed, but the event could not be recorded (one line on stderr says why)
  2  usage error: a flag is missing or malformed (one line on stderr names it)
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(__file__, "..", "..", "..", "lib")))  # the plugin's lib/

from omniclaude import skillkit

EVENT_TYPE = "agent_action"
ACTION_TYPES = ("tool_call", "decision", "error", "success")


class Args(skillkit.ContextArgs):
    """The parsed command line."""

    agent: str
    action_type: str
    action_name: str
    details: dict[str, object] | None
    duration_ms: int | None
    success: bool | None
    correlation_id: str | None


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    parser = skillkit.SkillParser(
        prog="log-agent-action",
        description="Record one agent action: a tool call, a decision, an error or a success.",
    )
    parser.add_argument("--agent", required=True, type=skillkit.text, help="the agent that acted")
    parser.add_argument("--action-type", required=True, choices=ACTION_TYPES, help="the kind of action")
    parser.add_argument(
        "--action-name",
        required=True,
        type=skillkit.text,
        metavar="NAME",
        help="what was done, e.g. the tool's name",
    )
    parser.add_argument("--details", type=skillkit.json_object, metavar="JSON", help="a JSON object of details")
    parser.add_argument("--duration-ms", type=skillkit.non_negative_int, metavar="N", help="how long it took, in ms")
    parser.add_argument("--success", action=argparse.BooleanOptionalAction, help="whether it succeeded")
    skillkit.add_context_flags(parser, correlation=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=Args())
    fields = {
        "agent": args.agent,
        "action_type": args.action_type,
        "action_name": args.action_name,
        "details": args.details,
        "duration_ms": args.duration_ms,
        "success": args.success,
        "correlation_id": args.correlation_id,
    }
    return skillkit.record_and_print(EVENT_TYPE, fields, args)


if __name__ == "__main__":
    skillkit.bootstrap()
    sys.exit(main())
