"""Loopback detection, the bind refusal, the token gate and the security headers."""

from __future__ import annotations

import pytest
from omniclaude.dashboard.security import CSP, BindRefusedError, SecurityMiddleware, check_bind, is_loopback
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org", ""])
def test_other_hosts_need_a_token(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(BindRefusedError, match="without a token"):
        check_bind(host, None)
    check_bind(host, "t0ken")


def _client(token: str | None) -> TestClient:
    app = Starlette(routes=[Route("/page", lambda request: PlainTextResponse("hello"))])
    app.add_middleware(SecurityMiddleware, token=token)
    return TestClient(app, follow_redirects=False)


def test_every_response_has_the_security_headers() -> None:
    response = _client(None).get("/page")
    assert response.text == "hello"
    assert response.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_token_gate() -> None:
    client = _client("s3cret")
    refused = client.get("/page")
    assert refused.status_code == 401 and "s3cret" not in refused.text
    assert refused.headers["content-security-policy"] == CSP
    assert client.get("/page", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/page", headers={"Authorization": "Bearer s3cret"}).text == "hello"
    redirect = client.get("/page?token=s3cret&since=7d")
    assert redirect.status_code == 303 and redirect.headers["location"] == "/page?since=7d"
    assert "httponly" in redirect.headers["set-cookie"].lower()
    assert client.get("/page").text == "hello"  # the cookie now carries it
