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
FLAGS = (
    skillkit.Flag("agent", "the agent that acted", required=True, type=skillkit.text),
    skillkit.Flag("action_type", "the kind of action", required=True, choices=ACTION_TYPES),
    skillkit.Flag(
        "action_name", "what was done, e.g. the tool's name", required=True, type=skillkit.text, metavar="NAME"
    ),
    skillkit.Flag("details", "a JSON object of details", type=skillkit.json_object, metavar="JSON"),
    skillkit.Flag("duration_ms", "how long it took, in ms", type=skillkit.non_negative_int, metavar="N"),
    skillkit.Flag("success", "whether it succeeded", action=argparse.BooleanOptionalAction),
    skillkit.CORRELATION,
)
"""The flag table: argparse's parser and the payload are both built from it."""


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    return skillkit.skill_parser(
        "log-agent-action", "Record one agent action: a tool call, a decision, an error or a success.", FLAGS
    )


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=skillkit.ContextArgs())
    return skillkit.record_flags(EVENT_TYPE, FLAGS, args)


if __name__ == "__main__":
    sys.exit(main())
