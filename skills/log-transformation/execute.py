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
FLAGS = (
    skillkit.Flag("from_agent", "the agent before", required=True, type=skillkit.text, metavar="AGENT"),
    skillkit.Flag("to_agent", "the agent after", required=True, type=skillkit.text, metavar="AGENT"),
    skillkit.Flag("reason", "why it handed over", metavar="TEXT"),
    skillkit.Flag("confidence", "confidence in the choice", type=skillkit.unit_interval, metavar="0..1"),
    skillkit.Flag("duration_ms", "how long it took, in ms", type=skillkit.non_negative_int, metavar="N"),
    skillkit.Flag("success", "whether it succeeded", action=argparse.BooleanOptionalAction),
    skillkit.CORRELATION,
)
"""The flag table: argparse's parser and the payload are both built from it."""


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    return skillkit.skill_parser("log-transformation", "Record one agent handing over to another.", FLAGS)


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=skillkit.ContextArgs())
    return skillkit.record_flags(EVENT_TYPE, FLAGS, args)


if __name__ == "__main__":
    sys.exit(main())
