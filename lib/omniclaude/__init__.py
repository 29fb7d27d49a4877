"""omniclaude: records what coding agents do, from Claude Code hooks and skills to PostgreSQL.

The public names are re-exported here. Importing this package does no I/O and loads only the standard
library; `omniclaude.events` (pydantic) is imported only by those who validate.
"""

from omniclaude.logger import EventLogger, get_logger, log_event

__all__ = ["EventLogger", "get_logger", "log_event"]
