#!/usr/bin/env python3
"""Records an agent execution's lifecycle (`execution_started`, `execution_progress`, `execution_completed`).

Usage:
  execute.py start --agent A [--description D] [--user-prompt P] [--metadata JSON-object]
                   [--correlation-id ID]
  execute.py progress --execution-id E --stage S [--percent 0..100] [--metadata JSON-object]
  execute.py complete --execution-id E [--status {success,error,cancelled}] [--quality-score 0..1]
                      [--error-message M] [--error-type T] [--metadata JSON-object]
  (each also takes --project-path P, --project-name N, --session-id S, --terminal-id T)

`start` makes a new execution id (a UUID); pass it to `progress` and `complete`. An id this machine never
started is accepted: the consumer reconciles the lifecycle. On success prints one JSON object:
{"event_id": ..., "event_type": ..., "execution_id": ..., "payload": {...}}.

Exit codes:
  0  recorded
  1  refused: well-formed, but the event could not be recorded (one line on stderr says why)
  2  usage error: a flag is missing or malformed, or --execution-id is not a UUID (one line on stderr)
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(__file__, "..", "..", "..", "lib")))  # the plugin's lib/

from omniclaude import skillkit
from omniclaude.envelope import uuid7

STATUSES = ("success", "error", "cancelled")


class Args(skillkit.ContextArgs):
    """The parsed command line; a field its subcommand does not take stays None."""

    command: str
    agent: str | None = None
    description: str | None = None
    user_prompt: str | None = None
    correlation_id: str | None = None
    execution_id: str | None = None
    stage: str | None = None
    percent: int | None = None
    status: str | None = None
    quality_score: float | None = None
    error_message: str | None = None
    error_type: str | None = None
    metadata: dict[str, object] | None = None


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser: one subcommand per lifecycle step."""
    parser = skillkit.SkillParser(
        prog="log-execution", description="Record an agent execution's start, progress and end."
    )
    steps = parser.add_subparsers(dest="command", required=True, metavar="{start,progress,complete}")

    start = steps.add_parser(
        "start",
        help="an execution began; prints its new execution_id",
        description="Record that an agent execution began; prints its new execution_id.",
    )
    start.add_argument("--agent", required=True, type=skillkit.text, help="the agent executing")
    start.add_argument("--description", metavar="TEXT", help="what the execution is for")
    start.add_argument("--user-prompt", metavar="TEXT", help="the prompt that started it")

    progress = steps.add_parser(
        "progress",
        help="an execution reached a stage",
        description="Record that an execution reached a stage.",
    )
    progress.add_argument(
        "--execution-id",
        required=True,
        type=skillkit.uuid_text,
        metavar="UUID",
        help="the id `start` printed",
    )
    progress.add_argument("--stage", required=True, type=skillkit.text, help="the stage reached")
    progress.add_argument("--percent", type=skillkit.percent, metavar="0..100", help="how far along")

    complete = steps.add_parser("complete", help="an execution ended", description="Record that an execution ended.")
    complete.add_argument(
        "--execution-id",
        required=True,
        type=skillkit.uuid_text,
        metavar="UUID",
        help="the id `start` printed",
    )
    complete.add_argument("--status", choices=STATUSES, default="success", help="how it ended (default: %(default)s)")
    complete.add_argument(
        "--quality-score", type=skillkit.unit_interval, metavar="0..1", help="how good the result was"
    )
    complete.add_argument("--error-message", metavar="TEXT", help="what went wrong")
    complete.add_argument("--error-type", type=skillkit.text, metavar="TYPE", help="the kind of error")

    for step in (start, progress, complete):
        step.add_argument(
            "--metadata", type=skillkit.json_object, metavar="JSON", help="a JSON object of anything else"
        )
        skillkit.add_context_flags(step, correlation=step is start)
    return parser


def event(args: Args) -> tuple[str, str, dict[str, object]]:
    """Returns (event_type, execution_id, payload fields) for the subcommand given."""
    if args.command == "start":
        execution_id = uuid7()
        return (
            "execution_started",
            execution_id,
            {
                "execution_id": execution_id,
                "agent": args.agent,
                "description": args.description,
                "user_prompt": args.user_prompt,
                "metadata": args.metadata,
                "correlation_id": args.correlation_id,
            },
        )
    execution_id = str(args.execution_id)
    if args.command == "progress":
        return (
            "execution_progress",
            execution_id,
            {
                "execution_id": execution_id,
                "stage": args.stage,
                "percent": args.percent,
                "metadata": args.metadata,
            },
        )
    return (
        "execution_completed",
        execution_id,
        {
            "execution_id": execution_id,
            "status": args.status,
            "quality_score": args.quality_score,
            "error_message": args.error_message,
            "error_type": args.error_type,
            "metadata": args.metadata,
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Records the lifecycle event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=Args())
    event_type, execution_id, fields = event(args)
    return skillkit.record_and_print(event_type, fields, args, ids={"execution_id": execution_id})


if __name__ == "__main__":
    skillkit.bootstrap()
    sys.exit(main())
