"""The live web dashboard over `omniclaude.report`: `create_app(url, token=...)` and `serve(...)`."""

from __future__ import annotations

from omniclaude.dashboard.app import create_app
from omniclaude.dashboard.security import BindRefusedError, check_bind, is_loopback
from omniclaude.dashboard.serve import serve

__all__ = ["BindRefusedError", "check_bind", "create_app", "is_loopback", "serve"]
