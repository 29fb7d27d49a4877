"""The `omniclaude` command line: one thin module per subcommand over a tested library call.

Each subcommand module exposes `add_parser(subparsers)`, which registers its parser and sets
`handler`, a callable taking the parsed namespace and returning the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from omniclaude._version import version

SUBCOMMANDS: tuple[str, ...] = (
    "status",
    "tail",
    "db",
    "forward",
    "flush",
    "doctor",
    "prices",
    "report",
    "dashboard",
    "stack",
)


def build_parser() -> argparse.ArgumentParser:
    """Returns the full parser, every subcommand registered."""
    parser = argparse.ArgumentParser(prog="omniclaude", description="Record what coding agents do.")
    parser.add_argument("--version", action="version", version=f"omniclaude {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"omniclaude.cli.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one subcommand; returns its exit status (2 for usage errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return handler(args)
