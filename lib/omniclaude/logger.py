"""The shared event logger: hooks and skills record events through it into the local spool.

`get_logger()` returns one process-wide `EventLogger`, created on first use behind a lock; nothing is
read or created at import. `log_event` builds the envelope (context from the environment and, for hooks,
the hook input), caps its size, appends it to the spool and, when Kafka is configured, makes sure a
forwarder is running. It never raises and never writes to stdout: failures go to stderr as one line and
the call returns None. Standard library only.

Where events go: the state dir's spool, else the temp dir's (`<tmp>/omniclaude-<uid>/spool`), each used
only when safe (`paths`: this user's, private, no symbolic link). Never a folder inside the project.
When neither is safe the event is dropped, counted in `<state dir>/unspooled.log` when that folder is
safe (else only on stderr), and stderr says so once per process.
"""

from __future__ import annotations

import _thread
import os
import sys

from omniclaude import envelope
from omniclaude.config import Settings, load_settings_or_defaults
from omniclaude.context import build_context
from omniclaude.launcher import ensure_forwarder
from omniclaude.paths import UnsafePathError, ensure_dir, open_private
from omniclaude.spool import Spool, append_log

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


UNSPOOLED_LOG = "unspooled.log"


class NoSafeSpoolError(OSError):
    """No spool folder is safe to write to: the event is dropped (and counted)."""


def fallback_spool(settings: Settings) -> Spool:
    """The temp dir's spool, which must be private from `<tmp>/omniclaude-<uid>` down (another user could
    have made that folder first)."""
    import tempfile

    uid = os.geteuid() if hasattr(os, "geteuid") else 0
    temp_root = os.path.join(tempfile.gettempdir(), f"omniclaude-{uid}")
    return Spool(os.path.join(temp_root, "spool"), settings.spool_max_bytes, root=temp_root)


def spool_candidates(settings: Settings) -> Iterator[Spool]:
    """Yields the spools to try, in order: the state dir's, then the temp dir's (`fallback_spool`). Lazily:
    the hook almost always takes the first, and never pays for `tempfile` then."""
    yield Spool(settings.dirs.spool, settings.spool_max_bytes)
    yield fallback_spool(settings)


def unspooled_path(settings: Settings) -> str:
    """The counter of events dropped because no spool folder was safe: one line per event."""
    return os.path.join(settings.dirs.state, UNSPOOLED_LOG)


def unspooled_count(settings: Settings) -> int:
    """Returns how many events were dropped because no spool folder was safe (0 when none or unknown)."""
    try:
        fd, _st = open_private(unspooled_path(settings), os.O_RDONLY)
    except OSError:
        return 0
    with open(fd, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))


class SpoolSafety:
    """What `status` and `doctor` report about where events can go (see `spool_safety`)."""

    __slots__ = ("dropped", "fallback", "fallback_pending", "fallback_refused", "unsafe")

    def __init__(
        self, unsafe: list[str], fallback: str, fallback_pending: int, fallback_refused: str | None, dropped: int
    ) -> None:
        self.unsafe = unsafe
        self.fallback = fallback
        self.fallback_pending = fallback_pending
        self.fallback_refused = fallback_refused
        self.dropped = dropped

    def as_dict(self) -> dict[str, object]:
        """The fields `status` prints."""
        state = (
            f"refused: {self.fallback_refused}"
            if self.fallback_refused
            else f"{self.fallback_pending} event(s) pending"
        )
        return {
            "unsafe": self.unsafe,
            "fallback_spool": f"{self.fallback} ({state})",
            "dropped_no_safe_spool": self.dropped,
        }


def spool_safety(settings: Settings) -> SpoolSafety:
    """Returns why the spool folder or a file in it is not used (`unsafe`, one line each), the temp-dir
    fallback spool (its pending events, or why it is refused), and how many events were dropped because
    no spool folder was safe. Reads only; for `status` and `doctor`."""
    from omniclaude.paths import check_dir
    from omniclaude.spool import SpoolReader, unsafe_entries

    fallback = fallback_spool(settings)
    pending, refused = 0, None
    try:
        check_dir(fallback.directory, fallback.root)
        pending = SpoolReader(fallback.directory).pending()[0]
    except FileNotFoundError:
        pass
    except OSError as exc:
        refused = str(exc)
    return SpoolSafety(
        unsafe_entries(settings.dirs.spool), fallback.directory, pending, refused, unspooled_count(settings)
    )


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


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
        self._said_dropped = False

    @property
    def spool(self) -> Spool:
        """The spool in use: the first safe, writable candidate (chosen on first use). Raises
        NoSafeSpoolError, naming why each was refused, when there is none."""
        if self._spool is None:
            refused = []
            for candidate in spool_candidates(self.settings):
                try:
                    candidate.ensure()
                except OSError as exc:
                    unsafe = isinstance(exc, UnsafePathError)
                    refused.append(str(exc) if unsafe else f"{candidate.directory} cannot be used: {_reason(exc)}")
                    continue
                if refused:
                    _warn(f"spool folder {refused[0]}; using {candidate.directory}")
                self._spool = candidate
                break
            else:
                raise NoSafeSpoolError(f"no safe spool folder: {'; '.join(refused)}")
        return self._spool

    def _drop(self, event_type: str, error: NoSafeSpoolError) -> None:
        """Counts an event that had nowhere safe to go, and says so on stderr once per process."""
        counter = unspooled_path(self.settings)
        try:
            ensure_dir(self.settings.dirs.state)
            append_log(counter, [event_type])
            where = f"counted in {counter}"
        except OSError:
            where = "not counted: the state folder is not safe either"
        if not self._said_dropped:
            self._said_dropped = True
            _warn(f"dropped a {event_type} event ({where}); {error}")

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
        except NoSafeSpoolError as exc:
            self._drop(event_type, exc)
            return None
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
