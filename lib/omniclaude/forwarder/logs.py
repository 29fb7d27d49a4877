"""The forwarder's log: `<spool>/forwarder.log` (size-capped, 0600) when detached, stderr in the foreground.

The file is opened like every spool file (`paths.open_private`): a symbolic link or another user's file is
refused, and the log goes to stderr instead; a log of this user's left open to others (by an older
omniclaude) is made private.

Every message passes a filter that masks URL credentials and the configured secrets (`omniclaude.masking`)
and redacts secrets (`omniclaude.redact`). kafka-python's own loggers are held at ERROR: below that they are noisy
while a broker is down, and at DEBUG its admin client prints its whole configuration.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Sequence

from omniclaude.config import Settings
from omniclaude.masking import MaskingFilter, configured_secrets
from omniclaude.paths import open_private
from omniclaude.spool import FORWARDER_LOG

LOG_NAME = FORWARDER_LOG
LOG_MAX_BYTES = 1024 * 1024
LOG_BACKUPS = 1
_FORMAT = "%(asctime)s %(levelname)s pid=%(process)d %(message)s"


class RedactingFilter(MaskingFilter):
    """Rewrites each record's message with secrets masked, then redacted; never drops a record."""

    def __init__(self, secrets: Sequence[str] = (), extra_patterns: Sequence[str] = ()) -> None:
        super().__init__(secrets)
        self._extra_patterns = tuple(extra_patterns)
        self._redact_text: Callable[[str], str] | None = None

    def text(self, message: str) -> str:
        """`message` masked (`MaskingFilter`), then redacted (`omniclaude.redact`)."""
        message = super().text(message)
        try:
            from omniclaude.redact import Redactor

            if self._redact_text is None:
                try:
                    self._redact_text = Redactor(extra_patterns=self._extra_patterns).redact_text
                except ValueError:
                    self._redact_text = Redactor().redact_text
            return self._redact_text(message)
        except Exception:
            return message


class PrivateLogFile(logging.handlers.RotatingFileHandler):
    """A size-capped log file created 0600 and reopened (after each rotation) only when safe."""

    def _open(self) -> io.TextIOWrapper:
        fd, _st = open_private(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, make_private=True)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def configure_logging(settings: Settings, log_file: str | None, level: int = logging.INFO) -> logging.Handler:
    """Sends the forwarder's log (and kafka-python's errors) to `log_file`, or stderr when None.

    Falls back to stderr when the file cannot be opened. Returns the handler installed.
    """
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        try:
            handler = PrivateLogFile(log_file, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
        except OSError:
            handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter(configured_secrets(settings), settings.extra_redact_patterns))
    ours = logging.getLogger("omniclaude")
    ours.setLevel(level)
    ours.addHandler(handler)
    ours.propagate = False
    kafka_logger = logging.getLogger("kafka")
    kafka_logger.setLevel(logging.ERROR)
    kafka_logger.addHandler(handler)
    kafka_logger.propagate = False
    return handler


def remove_logging(handler: logging.Handler) -> None:
    """Detaches and closes a handler installed by `configure_logging`."""
    for name in ("omniclaude", "kafka"):
        logging.getLogger(name).removeHandler(handler)
    handler.close()
