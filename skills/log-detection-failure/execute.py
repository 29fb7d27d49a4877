#!/usr/bin/env python3
"""Records a failure to find (the right) agent for a prompt (a `detection_failure` event).

Usage:
  execute.py --prompt P --reason R [--status {no_detection,low_confidence,wrong_agent,timeout,error}]
             [--candidates-evaluated N] [--detected-agent A] [--confidence 0..1] [--expected-agent A]
             [--detection-method M] [--trigger-matches JSON-list] [--capability-scores JSON-object]
             [--metadata JSON-object] [--correlation-id ID]
             [--project-path P] [--project-name N] [--session-id S] [--terminal-id T]

On success prints one JSON object: {"event_id": ..., "event_type": "detection_failure", "payload": {...}}.

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

EVENT_TYPE = "detection_failure"
STATUSES = ("no_detection", "low_confidence", "wrong_agent", "timeout", "error")
FLAGS = (
    skillkit.Flag("prompt", "the prompt that was not matched", required=True, type=skillkit.text),
    skillkit.Flag("reason", "why detection failed", required=True, type=skillkit.text),
    skillkit.Flag("status", "the kind of failure (default: %(default)s)", choices=STATUSES, default="no_detection"),
    skillkit.Flag("candidates_evaluated", "agents considered", type=skillkit.non_negative_int, metavar="N"),
    skillkit.Flag("detected_agent", "the agent detected, if any", type=skillkit.text, metavar="AGENT"),
    skillkit.Flag("confidence", "the detected agent's confidence", type=skillkit.unit_interval, metavar="0..1"),
    skillkit.Flag("expected_agent", "the agent that should have matched", type=skillkit.text, metavar="AGENT"),
    skillkit.Flag("detection_method", "e.g. trigger_match, fuzzy", type=skillkit.text, metavar="METHOD"),
    skillkit.Flag("trigger_matches", "a JSON list of the triggers matched", type=skillkit.json_list, metavar="JSON"),
    skillkit.Flag(
        "capability_scores",
        'a JSON object of scores per agent, e.g. {"agent-a": 0.3}',
        type=skillkit.json_object,
        metavar="JSON",
    ),
    skillkit.METADATA,
    skillkit.CORRELATION,
)
"""The flag table: argparse's parser and the payload are both built from it."""


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    return skillkit.skill_parser(
        "log-detection-failure", "Record that no agent, or the wrong one, was found for a prompt.", FLAGS
    )


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=skillkit.ContextArgs())
    return skillkit.record_flags(EVENT_TYPE, FLAGS, args)


if __name__ == "__main__":
    sys.exit(main())
