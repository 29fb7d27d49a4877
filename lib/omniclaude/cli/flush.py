"""`omniclaude flush`: send everything waiting in the spool to Kafka now, and report the count.

Exit status: 0 when every spool was emptied, 1 when events are left (Kafka unreachable within the
timeout, bad settings), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, TextIO

from omniclaude.config import SettingsError, load_settings
from omniclaude.forwarder.errors import ForwarderConfigError
from omniclaude.forwarder.flush import DEFAULT_TIMEOUT_SECONDS, default_spools, flush, pending_events
from omniclaude.forwarder.logs import configure_logging
from omniclaude.forwarder.run import Forwarder

if TYPE_CHECKING:
    from tqdm import tqdm


class FlushArgs(argparse.Namespace):
    """The parsed arguments of `omniclaude flush`."""

    spool: str | None
    timeout: float
    json: bool


def progress_bar(total: int, stream: TextIO) -> tqdm[NoReturn] | None:
    """A tqdm progress bar on `stream` when it is a terminal and there is something to send; None (no bar
    at all) when the output goes to a file or a pipe."""
    if total <= 0 or not stream.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, file=stream, unit=" events", desc="flush", dynamic_ncols=True)


def _advance(bar: tqdm[NoReturn]) -> Callable[[int], None]:
    def advance(count: int) -> None:
        bar.update(count)

    return advance


def _say_refused(path: str, error: OSError) -> None:
    print(f"omniclaude flush: not draining {path}: {error}", file=sys.stderr)


def _run(args: FlushArgs) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"omniclaude flush: invalid settings: {exc}", file=sys.stderr)
        return 1
    from omniclaude.cli.forward import check_settings
    from omniclaude.signals import install_stop_handlers

    try:
        check_settings(settings)
    except ForwarderConfigError as exc:
        print(f"omniclaude flush: {exc}", file=sys.stderr)
        return 1
    configure_logging(settings, None, logging.WARNING)
    spools = [os.path.abspath(args.spool)] if args.spool else default_spools(settings, _say_refused)
    backlog = sum(pending_events(path) for path in spools)
    bar = progress_bar(backlog, sys.stderr)
    forwarder = Forwarder(spools, settings, on_delivered=_advance(bar) if bar else None)
    install_stop_handlers(forwarder.request_stop)
    report = flush(forwarder, args.timeout)
    if bar is not None:
        bar.close()
    if args.json:
        print(json.dumps({**report.__dict__, "ok": report.ok}, indent=2))
    else:
        print(f"flushed {report.delivered} event(s) to Kafka from {', '.join(report.spools)}")
        if report.by_others:
            print(f"{report.by_others} event(s) were sent by the forwarder already running")
        if not report.ok:
            print(f"{report.pending} event(s) still wait ({report.reason}): {report.last_error or 'no error recorded'}")
    return 0 if report.ok else 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `flush`."""
    parser = subparsers.add_parser(
        "flush",
        help="send everything waiting in the spool to Kafka now",
        description="Send every event waiting in the spool (and the temp-dir fallback spool, when it is "
        "safe) to Kafka now and report how many went out, with a progress bar on a terminal.",
    )
    parser.add_argument("--spool", metavar="DIR", help="flush this spool folder only")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"give up after this long (default {DEFAULT_TIMEOUT_SECONDS:.0f})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_run)
