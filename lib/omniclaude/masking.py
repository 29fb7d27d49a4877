"""Hiding credentials before anything is printed or logged: the one place that masks.

- `mask_url(url)`: one URL or libpq connection string with every credential replaced by `***`: the
  password of its userinfo (`scheme://user:***@host`; a userinfo without a password that is long enough
  to be a token is masked whole), and every query or `key=value` parameter whose name says secret
  (password, sslpassword, token, secret, key, auth, credential, cookie, signature, sig, private...). When the
  URL does not parse as one (a password holding `/`, `@`, `?` or a space, a broken host), everything from
  `://` to its last `@` is treated as userinfo, so a malformed URL never shows its password either.
- `mask_text(text)`: free text (an error message, a log line): every URL in it as `mask_url`, and every
  secret parameter.
- `url_passwords(url)`: every form in which `url`'s credentials may show up in a message, to replace them
  wherever they appear (a driver may quote a piece of a URL it could not parse).
- `scrub(text, secrets)`: `text` masked as `mask_text`, then with each known secret replaced.
- `configured_secrets(settings)`: what `scrub` must replace for a client configuration: every secret
  setting's value and every credential of every URL setting.
- `MaskingFilter(secrets)`: a logging filter that scrubs every record (message and traceback).

Pure; never raises.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from omniclaude.config import FIELDS

if TYPE_CHECKING:
    from omniclaude.config import Settings

MASK = "***"
TOKEN_USER_MIN = 16
"""A userinfo without a password at least this long is taken for a token (`https://<token>@host`)."""

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_SECRET_PARAM = re.compile(
    r"""(?ix)
    (?<![A-Za-z0-9_.-])
    (?P<name>[A-Za-z0-9_.-]*(?:pass|pwd|secret|token|auth|credential|cookie|signature|key|private)[A-Za-z0-9_.-]*|sig)
    (?P<eq>\s*=\s*)
    (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|(?:[^&;\s,]|,(?!\s))+)
    """
)
_NOT_SECRET_NAME = re.compile(r"(?i)(?:file|path|dir|name|_id)$")


def _split_userinfo(url: str) -> tuple[str, str, str] | None:
    """(before userinfo, userinfo, from the `@` on) for a URL with a userinfo, else None."""
    scheme = _SCHEME.search(url)
    if scheme is None:
        return None
    start = scheme.end()
    rest = url[start:]
    if "@" not in rest:
        return None
    try:
        netloc = urlsplit(url[scheme.start() :]).netloc
    except ValueError:
        netloc = ""
    at = rest.rfind("@")
    if "@" in netloc and rest.startswith(netloc) and "@" not in rest[len(netloc) :]:
        at = netloc.rfind("@")
    return url[:start], rest[:at], rest[at:]


def _masked_userinfo(userinfo: str) -> str:
    user, colon, _password = userinfo.partition(":")
    if colon:
        return f"{user}:{MASK}"
    return MASK if len(userinfo) >= TOKEN_USER_MIN else userinfo


def _secret_params(text: str) -> Iterator[re.Match[str]]:
    return (match for match in _SECRET_PARAM.finditer(text) if not _NOT_SECRET_NAME.search(match["name"]))


def _mask_params(text: str) -> str:
    def masked(match: re.Match[str]) -> str:
        if _NOT_SECRET_NAME.search(match["name"]):
            return match[0]
        return f"{match['name']}{match['eq']}{MASK}"

    return _SECRET_PARAM.sub(masked, text)


def mask_url(url: str | None) -> str:
    """Returns `url` with every credential replaced by `***` ("" for None); see the module docstring."""
    if not url:
        return ""
    parts = _split_userinfo(url)
    if parts is not None:
        head, userinfo, tail = parts
        url = head + _masked_userinfo(userinfo) + tail
    return _mask_params(url)


def mask_text(text: str) -> str:
    """Returns free `text` with every URL in it masked as `mask_url`, and every secret parameter."""
    return _mask_params(_URL_IN_TEXT.sub(lambda match: mask_url(match[0]), text))


def url_passwords(url: str | None) -> list[str]:
    """Returns every form in which `url`'s credentials may show up in a message: its password as written
    and percent-decoded (as a parser reads it, and as the malformed-URL rule does), a token-like
    userinfo, and each secret parameter's value (quotes removed); longest first, without duplicates."""
    if not url:
        return []
    found = [match["value"].strip("'\"") for match in _secret_params(url)]
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found.append(password)
    parts = _split_userinfo(url)
    if parts is not None:
        userinfo = parts[1]
        _user, colon, rest = userinfo.partition(":")
        if colon:
            found.append(rest)
        elif len(userinfo) >= TOKEN_USER_MIN:
            found.append(userinfo)
    found += [unquote(secret) for secret in found]
    return sorted({secret for secret in found if secret}, key=lambda secret: (-len(secret), secret))


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Returns `text` masked as `mask_text`, then with every one of `secrets` replaced by `***`."""
    text = mask_text(text)
    for secret in sorted({secret for secret in secrets if secret}, key=lambda secret: (-len(secret), secret)):
        text = text.replace(secret, MASK)
    return text


def configured_secrets(settings: Settings) -> list[str]:
    """Returns every secret setting's value (for a URL: its credentials) and every credential in the URL
    settings, longest first."""
    found: list[str] = []
    for field in FIELDS:
        value = getattr(settings, field.name, None)
        if not isinstance(value, str) or not value:
            continue
        if field.name.endswith("_url"):
            found += url_passwords(value)  # the rest of a URL is worth showing
        elif field.secret:
            found.append(value)
    return sorted(set(found), key=lambda secret: (-len(secret), secret))


class MaskingFilter(logging.Filter):
    """Rewrites each record's message and traceback with `scrub`; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({secret for secret in secrets if secret}, key=lambda secret: (-len(secret), secret))

    def text(self, message: str) -> str:
        """`message` as the record will show it (subclasses may clean it further)."""
        return scrub(message, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Replaces the record's message (arguments merged in) and traceback by their `text`."""
        record.msg = self.text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.text(record.exc_text)
        return True
