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
FLAGS = (
    skillkit.Flag(
        "selected_agent", "the agent chosen", flag="--agent", required=True, type=skillkit.text, metavar="SELECTED"
    ),
    skillkit.Flag("confidence", "the router's confidence", required=True, type=skillkit.unit_interval, metavar="0..1"),
    skillkit.Flag("strategy", "how it chose, e.g. trigger_match", required=True, type=skillkit.text),
    skillkit.Flag(
        "latency_ms", "how long the decision took, in ms", required=True, type=skillkit.non_negative_int, metavar="N"
    ),
    skillkit.Flag("user_request", "the request that was routed", metavar="TEXT"),
    skillkit.Flag(
        "alternatives",
        'a JSON list of the other candidates, e.g. [{"agent": "b", "confidence": 0.4}]',
        type=skillkit.json_list,
        metavar="JSON",
    ),
    skillkit.Flag("reasoning", "why this agent", metavar="TEXT"),
    skillkit.Flag("context", "a JSON object of routing context", type=skillkit.json_object, metavar="JSON"),
    skillkit.CORRELATION,
)
"""The flag table: argparse's parser and the payload are both built from it."""


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    return skillkit.skill_parser("log-routing-decision", "Record which agent the router chose, and why.", FLAGS)


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=skillkit.ContextArgs())
    return skillkit.record_flags(EVENT_TYPE, FLAGS, args)


if __name__ == "__main__":
    sys.exit(main())
