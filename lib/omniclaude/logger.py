"""The shared event logger: hooks and skills record events through it into the local spool.

`get_logger()` returns one process-wide `EventLogger`, created on first use behind a lock; nothing is
read or created at import. `log_event` builds the envelope (context from the environment and, for hooks,
the hook input), caps its size, appends it to the spool and, when Kafka is configured, makes sure a
forwarder is running. It never raises and never writes to stdout: failures go to stderr as one line and
the call returns None. Standard library only.
"""

from __future__ import annotations

import _thread
import os
import sys

from omniclaude import envelope
from omniclaude.config import Settings, load_settings_or_defaults
from omniclaude.context import build_context
from omniclaude.launcher import ensure_forwarder
from omniclaude.spool import Spool

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def spool_candidates(settings: Settings) -> list[str]:
    """Returns the spool folders to try, in order: the state dir's, the temp dir's, then ./.omniclaude."""
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else 0
    return [
        settings.dirs.spool,
        os.path.join(tempfile.gettempdir(), f"omniclaude-{uid}", "spool"),
        os.path.join(os.path.abspath(".omniclaude"), "spool"),
    ]


def _warn(message: str) -> None:
    try:
        sys.stderr.write(f"omniclaude: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


class EventLogger:
    """Records events to one spool; see the module docstring for the contract."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._spool: Spool | None = None

    @property
    def spool(self) -> Spool:
        """The spool in use: the first writable candidate (chosen on first use). Raises OSError if none."""
        if self._spool is None:
            primary = Spool(self.settings.dirs.spool, self.settings.spool_max_bytes)
            try:
                primary.ensure()
                self._spool = primary
            except OSError as first_error:
                for candidate in spool_candidates(self.settings)[1:]:
                    fallback = Spool(candidate, self.settings.spool_max_bytes)
                    try:
                        fallback.ensure()
                    except OSError:
                        continue
                    reason = first_error.strerror or type(first_error).__name__
                    _warn(f"spool folder {primary.directory} is not writable ({reason}); using {candidate}")
                    self._spool = fallback
                    break
                else:
                    raise
        return self._spool

    def log_event(
        self,
        event_type: str,
        payload: dict[str, object],
        *,
        source: str = "logger",
        hook_input: Mapping[str, object] | None = None,
        context_overrides: Mapping[str, object] | None = None,
    ) -> str | None:
        """Records one event; returns its event_id, or None if it could not be recorded. Never raises."""
        try:
            context = build_context(self.settings.environ, hook_input)
            if context_overrides:
                context.update({key: value for key, value in context_overrides.items() if value is not None})
            event = envelope.new_envelope(event_type, payload, source, context)
            try:
                line = envelope.encode(event, self.settings.event_max_bytes)
            except ValueError:
                event["payload"] = {key: value for key, value in payload.items() if not isinstance(value, (dict, list))}
                event["payload"]["truncated"] = True  # type: ignore[index]
                line = envelope.encode(event, self.settings.event_max_bytes)
            spool = self.spool
            spool.append(line)
        except Exception as exc:
            _warn(f"could not record a {event_type} event: {type(exc).__name__}: {exc}")
            return None
        if self.settings.kafka_configured:
            ensure_forwarder(spool.directory, self.settings.python, dict(self.settings.environ))
        return str(event["event_id"])


_lock = _thread.allocate_lock()
_logger: EventLogger | None = None


def get_logger() -> EventLogger:
    """Returns the process-wide logger, creating it (and reading the settings) on first call."""
    global _logger  # noqa: PLW0603 - the one lazily created instance
    if _logger is None:
        with _lock:
            if _logger is None:
                _logger = EventLogger(load_settings_or_defaults())
    return _logger


def log_event(
    event_type: str,
    payload: dict[str, object],
    *,
    source: str = "logger",
    hook_input: Mapping[str, object] | None = None,
    context_overrides: Mapping[str, object] | None = None,
) -> str | None:
    """Records one event through the process-wide logger; see `EventLogger.log_event`. Never raises."""
    try:
        return get_logger().log_event(
            event_type, payload, source=source, hook_input=hook_input, context_overrides=context_overrides
        )
    except Exception as exc:
        _warn(f"could not record a {event_type} event: {type(exc).__name__}: {exc}")
        return None


def reset_logger() -> None:
    """Forgets the process-wide logger so the next call reads the settings again (for tests)."""
    global _logger  # noqa: PLW0603
    with _lock:
        _logger = None
