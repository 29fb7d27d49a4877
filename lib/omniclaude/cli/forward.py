"""`omniclaude forward`: drain the spool to Kafka (started by the hook; or `--follow` as a service).

Exit status: 0 when it ends normally (idle, stopped by SIGTERM/SIGINT, or another forwarder already
drains the spool), 1 on an error (bad settings, Kafka not configured, no progress within the failure
limit, unusable spool), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from omniclaude.config import Settings, SettingsError, load_settings
from omniclaude.forwarder.errors import ForwarderConfigError
from omniclaude.forwarder.flush import default_spools
from omniclaude.forwarder.logs import LOG_NAME, configure_logging
from omniclaude.forwarder.run import Forwarder, RunOptions, default_failure_limit
from omniclaude.kafka import KafkaConfigError, client_config
from omniclaude.paths import ensure_dir
from omniclaude.signals import install_stop_handlers

log = logging.getLogger("omniclaude.forwarder")


class ForwardArgs(argparse.Namespace):
    """The parsed arguments of `omniclaude forward`."""

    spool: str | None
    follow: bool
    idle_seconds: float | None
    max_failure_seconds: float | None


def _log_file(spools: list[str], follow: bool) -> str | None:
    if follow:
        return None
    try:
        return os.path.join(ensure_dir(spools[0]), LOG_NAME)
    except OSError:
        return None


def check_settings(settings: Settings) -> None:
    """Raises ForwarderConfigError when the Kafka or redaction settings, or the interpreter, cannot work."""
    try:
        client_config(settings, settings.kafka_client_id)
    except KafkaConfigError as exc:
        raise ForwarderConfigError(str(exc)) from None
    try:
        import kafka  # noqa: F401 - only checking that it is installed
    except ImportError:
        raise ForwarderConfigError(
            f"kafka-python is not installed for {sys.executable}: install omniclaude into this interpreter "
            "or set OMNICLAUDE_PYTHON to one that has it"
        ) from None
    from omniclaude.redact import Redactor

    try:
        Redactor(extra_patterns=settings.extra_redact_patterns)
    except ValueError as exc:
        raise ForwarderConfigError(f"OMNICLAUDE_REDACT_PATTERNS: {exc}") from None


def _run(args: ForwardArgs) -> int:
    spools = [os.path.abspath(args.spool)] if args.spool else None
    try:
        settings = load_settings()
    except SettingsError as exc:
        configure_logging(Settings(), _log_file(spools or [], args.follow) if spools else None)
        log.error("invalid settings: %s", exc)
        return 1
    refused: list[tuple[str, OSError]] = []
    spools = spools or default_spools(settings, lambda path, error: refused.append((path, error)))
    configure_logging(settings, _log_file(spools, args.follow))
    for path, error in refused:
        log.warning("not draining %s: %s", path, error)
    try:
        check_settings(settings)
    except ForwarderConfigError as exc:
        log.error("%s", exc)
        return 1
    idle = settings.forwarder_idle_seconds if args.idle_seconds is None else args.idle_seconds
    options = RunOptions(
        follow=args.follow,
        idle_seconds=idle,
        failure_limit=args.max_failure_seconds if args.max_failure_seconds is not None else default_failure_limit(idle),
    )
    forwarder = Forwarder(spools, settings)
    install_stop_handlers(forwarder.request_stop)
    log.info("forwarder started for %s (Kafka %s)", ", ".join(spools), settings.kafka_bootstrap_servers)
    result = forwarder.run(options)
    log.info("forwarder ended (%s): %d event(s) delivered", result.reason, result.delivered)
    return 0 if result.ok else 1


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `forward`."""
    parser = subparsers.add_parser(
        "forward",
        help="drain the spool to Kafka",
        description="Drain the spool to Kafka. Without --spool: the configured spool and the temp-dir "
        "fallback spool when it exists and is safe (yours, private). "
        "Without --follow it exits once idle (the hook starts it again when needed) "
        "and logs to <spool>/forwarder.log; with --follow it never exits on idle and logs to stderr.",
    )
    parser.add_argument("--spool", metavar="DIR", help="drain this spool folder only")
    parser.add_argument("--follow", action="store_true", help="run in the foreground until stopped (for services)")
    parser.add_argument(
        "--idle-seconds",
        type=_seconds,
        metavar="N",
        help="exit after N seconds with nothing to send (default: the forwarder_idle_seconds setting)",
    )
    parser.add_argument(
        "--max-failure-seconds",
        type=_seconds,
        metavar="N",
        help="exit after N seconds without progress while events wait (default: 10 idle periods, at least 60)",
    )
    parser.set_defaults(handler=_run)
