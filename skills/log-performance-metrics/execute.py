#!/usr/bin/env python3
"""Records how long routing one query took (a `performance_metric` event) in omniclaude's local spool.

Usage:
  execute.py --query Q --duration-ms N [--cache-hit | --no-cache-hit] [--candidates N] [--strategy S]
             [--confidence-components JSON-object] [--correlation-id ID]
             [--project-path P] [--project-name N] [--session-id S] [--terminal-id T]

On success prints one JSON object: {"event_id": ..., "event_type": "performance_metric", "payload": {...}}.

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

EVENT_TYPE = "performance_metric"
FLAGS = (
    skillkit.Flag("query", "the query that was routed", required=True, type=skillkit.text),
    skillkit.Flag(
        "duration_ms",
        "routing time in ms (fractions allowed)",
        required=True,
        type=skillkit.non_negative_float,
        metavar="N",
    ),
    skillkit.Flag("cache_hit", "whether the cache answered", action=argparse.BooleanOptionalAction),
    skillkit.Flag("candidates", "candidates evaluated", type=skillkit.non_negative_int, metavar="N"),
    skillkit.Flag("strategy", "the matching strategy", type=skillkit.text),
    skillkit.Flag(
        "confidence_components",
        'a JSON object, e.g. {"trigger": 0.8, "context": 0.6}',
        type=skillkit.json_object,
        metavar="JSON",
    ),
    skillkit.CORRELATION,
)
"""The flag table: argparse's parser and the payload are both built from it."""


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    return skillkit.skill_parser("log-performance-metrics", "Record how long routing one query took.", FLAGS)


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=skillkit.ContextArgs())
    return skillkit.record_flags(EVENT_TYPE, FLAGS, args)


if __name__ == "__main__":
    sys.exit(main())
