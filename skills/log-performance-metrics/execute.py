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


class Args(skillkit.ContextArgs):
    """The parsed command line."""

    query: str
    duration_ms: float
    cache_hit: bool | None
    candidates: int | None
    strategy: str | None
    confidence_components: dict[str, object] | None
    correlation_id: str | None


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser."""
    parser = skillkit.SkillParser(prog="log-performance-metrics", description="Record how long routing one query took.")
    parser.add_argument("--query", required=True, type=skillkit.text, help="the query that was routed")
    parser.add_argument(
        "--duration-ms",
        required=True,
        type=skillkit.non_negative_float,
        metavar="N",
        help="routing time in ms (fractions allowed)",
    )
    parser.add_argument("--cache-hit", action=argparse.BooleanOptionalAction, help="whether the cache answered")
    parser.add_argument("--candidates", type=skillkit.non_negative_int, metavar="N", help="candidates evaluated")
    parser.add_argument("--strategy", type=skillkit.text, help="the matching strategy")
    parser.add_argument(
        "--confidence-components",
        type=skillkit.json_object,
        metavar="JSON",
        help='a JSON object, e.g. {"trigger": 0.8, "context": 0.6}',
    )
    skillkit.add_context_flags(parser, correlation=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Records the event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=Args())
    fields = {
        "query": args.query,
        "duration_ms": args.duration_ms,
        "cache_hit": args.cache_hit,
        "candidates": args.candidates,
        "strategy": args.strategy,
        "confidence_components": args.confidence_components,
        "correlation_id": args.correlation_id,
    }
    return skillkit.record_and_print(EVENT_TYPE, fields, args)


if __name__ == "__main__":
    skillkit.bootstrap()
    sys.exit(main())
