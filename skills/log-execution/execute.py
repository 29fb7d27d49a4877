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
EXECUTION_ID = skillkit.Flag(
    "execution_id", "the id `start` printed", required=True, type=skillkit.uuid_text, metavar="UUID"
)
STEPS: dict[str, tuple[str, str, str, tuple[skillkit.Flag, ...]]] = {
    "start": ("execution_started", "an execution began; prints its new execution_id",
              "Record that an agent execution began; prints its new execution_id.", (
        skillkit.Flag("agent", "the agent executing", required=True, type=skillkit.text),
        skillkit.Flag("description", "what the execution is for", metavar="TEXT"),
        skillkit.Flag("user_prompt", "the prompt that started it", metavar="TEXT"),
        skillkit.METADATA,
        skillkit.CORRELATION,
    )),
    "progress": ("execution_progress", "an execution reached a stage", "Record that an execution reached a stage.", (
        EXECUTION_ID,
        skillkit.Flag("stage", "the stage reached", required=True, type=skillkit.text),
        skillkit.Flag("percent", "how far along", type=skillkit.percent, metavar="0..100"),
        skillkit.METADATA,
    )),
    "complete": ("execution_completed", "an execution ended", "Record that an execution ended.", (
        EXECUTION_ID,
        skillkit.Flag("status", "how it ended (default: %(default)s)", choices=STATUSES, default="success"),
        skillkit.Flag("quality_score", "how good the result was", type=skillkit.unit_interval, metavar="0..1"),
        skillkit.Flag("error_message", "what went wrong", metavar="TEXT"),
        skillkit.Flag("error_type", "the kind of error", type=skillkit.text, metavar="TYPE"),
        skillkit.METADATA,
    )),
}  # fmt: skip
"""Per subcommand: its event type, help, description and flag table (the parser and payload come from it)."""


class Args(skillkit.ContextArgs):
    """The parsed command line: the subcommand, and the execution id for `progress` and `complete`."""

    command: str
    execution_id: str | None = None


def build_parser() -> skillkit.SkillParser:
    """Returns the command-line parser: one subcommand per lifecycle step."""
    parser = skillkit.SkillParser(
        prog="log-execution", description="Record an agent execution's start, progress and end."
    )
    steps = parser.add_subparsers(dest="command", required=True, metavar="{start,progress,complete}")
    for name, (_event_type, summary, description, flags) in STEPS.items():
        step = steps.add_parser(name, help=summary, description=description)
        skillkit.add_flags(step, flags)
        skillkit.add_context_flags(step, correlation=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Records the lifecycle event the command line describes; returns the exit code."""
    args = build_parser().parse_args(argv, namespace=Args())
    event_type, _summary, _description, flags = STEPS[args.command]
    execution_id = uuid7() if args.command == "start" else str(args.execution_id)
    return skillkit.record_flags(
        event_type, flags, args, extra={"execution_id": execution_id}, ids={"execution_id": execution_id}
    )


if __name__ == "__main__":
    sys.exit(main())
