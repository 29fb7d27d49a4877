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


class Args(skillkit.ContextArgs):
    """The parsed command line."""

    prompt: str
    reason: str
    status: str
    candidates_evaluated: int | None
    detected_agent: str | None
    confidence: float | None
    expected_agent: str | None
    detection_method: str | None
    trigger_matches: list[object] | None
    capability_scores: dict[str, object] | None
    metadata: dict[str, object] | None
    correlation_id: str | None


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    parser = skillkit.SkillParser(
        prog="log-detection-failure",
        description="Record that no agent, or the wrong one, was found for a prompt.",
    )
    parser.add_argument("--prompt", required=True, type=skillkit.text, help="the prompt that was not matched")
    parser.add_argument("--reason", required=True, type=skillkit.text, help="why detection failed")
    parser.add_argument(
        "--status",
        choices=STATUSES,
        default="no_detection",
        help="the kind of failure (default: %(default)s)",
    )
    parser.add_argument("--candidates-evaluated", type=skillkit.non_negative_int, metavar="N", help="agents considered")
    parser.add_argument("--detected-agent", type=skillkit.text, metavar="AGENT", help="the agent detected, if any")
    parser.add_argument(
        "--confidence", type=skillkit.unit_interval, metavar="0..1", help="the detected agent's confidence"
    )
    parser.add_argument(
        "--expected-agent", type=skillkit.text, metavar="AGENT", help="the agent that should have matched"
    )
    parser.add_argument("--detection-method", type=skillkit.text, metavar="METHOD", help="e.g. trigger_match, fuzzy")
    parser.add_argument(
        "--trigger-matches",
        type=skillkit.json_list,
        metavar="JSON",
        help="a JSON list of the triggers matched",
    )
    parser.add_argument(
        "--capability-scores",
        type=skillkit.json_object,
        metavar="JSON",
        help='a JSON object of scores per agent, e.g. {"agent-a": 0.3}',
    )
    parser.add_argument("--metadata", type=skillkit.json_object, metavar="JSON", help="a JSON object of anything else")
    skillkit.add_context_flags(parser, correlation=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=Args())
    fields = {
        "prompt": args.prompt,
        "reason": args.reason,
        "status": args.status,
        "candidates_evaluated": args.candidates_evaluated,
        "detected_agent": args.detected_agent,
        "confidence": args.confidence,
        "expected_agent": args.expected_agent,
        "detection_method": args.detection_method,
        "trigger_matches": args.trigger_matches,
        "capability_scores": args.capability_scores,
        "metadata": args.metadata,
        "correlation_id": args.correlation_id,
    }
    return skillkit.record_and_print(EVENT_TYPE, fields, args)


if __name__ == "__main__":
    skillkit.bootstrap()
    sys.exit(main())
