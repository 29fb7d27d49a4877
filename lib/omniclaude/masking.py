"""Hiding passwords in connection strings before they are printed or logged.

`mask_url` replaces the password of a URL (`scheme://user:password@host`) or of a libpq `password=`
parameter (in a query string or a `key=value` string) with `***`. Pure; never raises.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_URL_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?#]*):.*@")
_KEYWORD_PASSWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]*)")


def mask_url(url: str | None) -> str:
    """Returns `url` with every password replaced by `***` ("" for None)."""
    if not url:
        return ""
    return _KEYWORD_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", url, count=1))


def url_passwords(url: str | None) -> list[str]:
    """Returns every form in which `url`'s password may show up in a message: as written, percent-decoded,
    and each `password=` parameter (quotes removed); longest first, without duplicates."""
    if not url:
        return []
    found = [match[2].strip("'") for match in _KEYWORD_PASSWORD.finditer(url) if match[2]]
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found += [password, unquote(password)]
    return sorted({secret for secret in found if secret}, key=len, reverse=True)
