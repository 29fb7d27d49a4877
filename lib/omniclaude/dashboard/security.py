"""The dashboard's guards: loopback detection, the access token, and the security headers.

- `is_loopback(host)`: 127.0.0.0/8, ::1 and `localhost` are loopback; anything else (0.0.0.0, a name,
  an address) is not. `check_bind(host, token)` raises `BindRefusedError` for a non-loopback bind
  without a token.
- With a token, every request must carry it: `Authorization: Bearer T`, or the `omniclaude_token`
  cookie, or `?token=T` once (answered with the cookie, HttpOnly, SameSite=Strict, and a redirect to
  the same URL without it). Tokens are compared with `hmac.compare_digest`.
- Every response carries a Content-Security-Policy allowing only the dashboard's own scripts, styles
  and fetches, plus nosniff, no referrer and no framing.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "omniclaude_token"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class BindRefusedError(ValueError):
    """A non-loopback address was asked for without a token."""


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Raises BindRefusedError when `host` is not loopback and there is no token."""
    if not is_loopback(host) and not token:
        raise BindRefusedError(
            f"refusing to listen on {host} without a token: pass --token or set OMNICLAUDE_DASHBOARD_TOKEN "
            "(or bind to 127.0.0.1)"
        )


def _same(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class SecurityMiddleware:
    """Adds the security headers; with a token, refuses requests that do not carry it."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = self._gate(Request(scope)) if self.token else None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend((k.encode(), v.encode()) for k, v in HEADERS.items())
                message["headers"] = headers
            await send(message)

        if response is not None:
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _gate(self, request: Request) -> Response | None:
        assert self.token is not None
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and _same(auth[7:].strip(), self.token):
            return None
        if _same(request.cookies.get(COOKIE), self.token):
            return None
        if _same(request.query_params.get("token"), self.token):
            kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + ("?" + urlencode(kept) if kept else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
            return redirect
        return PlainTextResponse(
            "this dashboard needs its token: open it with ?token=... once, or send Authorization: Bearer ...",
            status_code=401,
        )
