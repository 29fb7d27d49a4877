#!/usr/bin/env python3
"""Records one agent transformation (a `transformation` event: one agent hands over to another).

Usage:
  execute.py --from-agent A --to-agent B [--reason R] [--confidence 0..1] [--duration-ms N]
             [--success | --no-success] [--correlation-id ID]
             [--project-path P] [--project-name N] [--session-id S] [--terminal-id T]

On success prints one JSON object: {"event_id": ..., "event_type": "transformation", "payload": {...}}.

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

EVENT_TYPE = "transformation"


class Args(skillkit.ContextArgs):
    """The parsed command line."""

    from_agent: str
    to_agent: str
    reason: str | None
    confidence: float | None
    duration_ms: int | None
    success: bool | None
    correlation_id: str | None


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    parser = skillkit.SkillParser(prog="log-transformation", description="Record one agent handing over to another.")
    parser.add_argument("--from-agent", required=True, type=skillkit.text, metavar="AGENT", help="the agent before")
    parser.add_argument("--to-agent", required=True, type=skillkit.text, metavar="AGENT", help="the agent after")
    parser.add_argument("--reason", metavar="TEXT", help="why it handed over")
    parser.add_argument("--confidence", type=skillkit.unit_interval, metavar="0..1", help="confidence in the choice")
    parser.add_argument("--duration-ms", type=skillkit.non_negative_int, metavar="N", help="how long it took, in ms")
    parser.add_argument("--success", action=argparse.BooleanOptionalAction, help="whether it succeeded")
    skillkit.add_context_flags(parser, correlation=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=Args())
    fields = {
        "from_agent": args.from_agent,
        "to_agent": args.to_agent,
        "reason": args.reason,
        "confidence": args.confidence,
        "duration_ms": args.duration_ms,
        "success": args.success,
        "correlation_id": args.correlation_id,
    }
    return skillkit.record_and_print(EVENT_TYPE, fields, args)


if __name__ == "__main__":
    skillkit.bootstrap()
    sys.exit(main())
