"""Hiding passwords in connection strings before they are printed or logged.

`mask_url` replaces the password of a URL (`scheme://user:password@host`) or of a libpq `password=`
parameter (in a query string or a `key=value` string) with `***`. Pure; never raises.
"""

from __future__ import annotations

import re

_URL_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?#]*):.*@")
_KEYWORD_PASSWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]*)")


def mask_url(url: str | None) -> str:
    """Returns `url` with every password replaced by `***` ("" for None)."""
    if not url:
        return ""
    return _KEYWORD_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", url, count=1))


def keyword_passwords(text: str) -> list[str]:
    """Returns the values of the `password=` parameters in `text`, quotes removed."""
    return [match[2].strip("'") for match in _KEYWORD_PASSWORD.finditer(text) if match[2]]
