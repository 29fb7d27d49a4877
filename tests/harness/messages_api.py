"""A scripted stand-in for the Anthropic Messages API, served on loopback.

Claude Code talks to whatever ``ANTHROPIC_BASE_URL`` names. Pointed at a
:class:`MessagesAPI`, it runs whole sessions offline: every model turn comes
from a :class:`Script` written by the test.

Routing contract:

* A request is *scripted* when it offers tools (the main agent and subagents
  always do; auxiliary calls such as title generation do not, though Claude
  Code 2.1.328 in ``-p`` mode makes none) and one of the scripts' ``marker``
  strings occurs in the text of the conversation's first user message (for
  a subagent, the prompt the ``Agent`` tool gave it). The first script
  registered whose marker matches wins, so no marker may occur in another
  conversation's opening message.
* The step of a scripted conversation is the number of assistant messages it
  already holds: the first request gets ``turns[0]``, the request carrying
  that turn's tool results gets ``turns[1]``, and so on. A user message that
  arrives later (a background agent's ``<task-notification>``) simply asks
  for the next turn. Past the end of the script the answer is ``"ok"``.
* Everything else (auxiliary calls, unscripted conversations) is answered
  with the plain text ``"ok"`` and ``stop_reason: "end_turn"``.

Responses stream as server-sent events when the request says
``"stream": true`` (Claude Code always does) and are a single JSON message
otherwise. ``POST /v1/messages/count_tokens`` returns a rough count; any other
path is recorded in :attr:`MessagesAPI.unknown_paths` and answered with an
empty JSON object. Every request is kept in :attr:`MessagesAPI.requests`.

Stdlib only; safe to use from several client threads at once.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "MessagesAPI",
    "RecordedRequest",
    "Script",
    "ToolUse",
    "Turn",
    "content_text",
    "parallel",
    "text",
    "tool",
]

JSON = dict[str, Any]

DEFAULT_REPLY = "ok"


@dataclass(frozen=True)
class ToolUse:
    """One ``tool_use`` block: the tool's name and its input object."""

    name: str
    input: Mapping[str, Any]


@dataclass(frozen=True)
class Turn:
    """One assistant message: optional text, then zero or more tool calls.

    A turn with tool calls ends with ``stop_reason: "tool_use"``; a turn
    without ends with ``"end_turn"``.
    """

    text: str | None = None
    tool_uses: tuple[ToolUse, ...] = ()

    @property
    def stop_reason(self) -> str:
        """``"tool_use"`` if the turn calls a tool, else ``"end_turn"``."""
        return "tool_use" if self.tool_uses else "end_turn"


def text(message: str) -> Turn:
    """A turn that only says ``message`` and ends the agent's turn."""
    return Turn(text=message)


def tool(name: str, /, **tool_input: Any) -> Turn:
    """A turn calling one tool: ``tool("Bash", command="false")``.

    Combine several calls in one turn with :meth:`Turn` directly:
    ``Turn(tool_uses=(ToolUse("Read", {...}), ToolUse("Read", {...})))``.
    """
    return Turn(tool_uses=(ToolUse(name, tool_input),))


def parallel(*turns: Turn) -> Turn:
    """One turn making the tool calls of all ``turns`` at once (a batch).

    ``parallel(tool("Read", file_path=a), tool("Read", file_path=b))``; the
    texts of the parts are dropped.
    """
    return Turn(tool_uses=tuple(use for turn in turns for use in turn.tool_uses))


@dataclass(frozen=True)
class Script:
    """The turns of one conversation, found by ``marker``.

    ``marker`` must occur in the conversation's first user message; put a
    unique token in the prompt (main agent) or in the ``Agent`` tool's
    ``prompt`` input (subagent).
    """

    marker: str
    turns: Sequence[Turn]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received, with how it was routed.

    ``script`` is the marker of the script that answered it (``None`` for
    auxiliary or unknown requests) and ``step`` the index of the turn sent
    (``None`` when the default reply was sent).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: JSON | None
    script: str | None = None
    step: int | None = None

    @property
    def messages(self) -> list[JSON]:
        """The request's ``messages`` array (empty if it has none)."""
        if self.body is None:
            return []
        messages = self.body.get("messages", [])
        return messages if isinstance(messages, list) else []

    def tool_results(self) -> list[JSON]:
        """Every ``tool_result`` block in the conversation, oldest first."""
        return [
            block
            for message in self.messages
            if message.get("role") == "user" and isinstance(message.get("content"), list)
            for block in message["content"]
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]

    def tool_names(self) -> list[str]:
        """The names of the tools the request offers the model."""
        tools = (self.body or {}).get("tools") or []
        return [t.get("name", "") for t in tools if isinstance(t, dict)]

    def tool_schema(self, name: str) -> JSON | None:
        """The ``input_schema`` offered for tool ``name``, if offered."""
        for entry in (self.body or {}).get("tools") or []:
            if isinstance(entry, dict) and entry.get("name") == name:
                schema = entry.get("input_schema")
                return schema if isinstance(schema, dict) else None
        return None


def content_text(content: Any) -> str:
    """The text of a message ``content`` (a string or a list of blocks).

    Text blocks and the text inside ``tool_result`` blocks are joined with
    newlines; other blocks are ignored.
    """
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif block.get("type") == "tool_result":
                parts.append(content_text(block.get("content", "")))
    return "\n".join(parts)


class MessagesAPI:
    """A threaded HTTP server answering Messages API requests from scripts.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. The
    server binds ``127.0.0.1`` on a free port; :attr:`base_url` is the value
    for ``ANTHROPIC_BASE_URL``. Scripts can be added before or after start.
    ``usage``, when given, is called with each ``/v1/messages`` request body
    and returns the reply's ``usage`` object (cache tokens and
    ``cache_creation`` included as the test wants); by default the usage is
    a rough size estimate without cache tokens.
    """

    def __init__(
        self,
        scripts: Sequence[Script] = (),
        model: str = "claude-sonnet-4-5",
        usage: Callable[[JSON], JSON] | None = None,
    ) -> None:
        self.model = model
        self.usage = usage
        self._scripts: list[Script] = list(scripts)
        self._requests: list[RecordedRequest] = []
        self._unknown: list[str] = []
        self._errors: list[str] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------

    def start(self) -> MessagesAPI:
        """Bind a free loopback port and serve in a daemon thread."""
        if self._server is not None:
            return self
        handler = type("_Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="messages-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; idempotent."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> MessagesAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; only valid while started."""
        if self._server is None:
            raise RuntimeError("MessagesAPI is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # scripting -------------------------------------------------------------

    def add(self, marker: str, *turns: Turn) -> Script:
        """Register a script for conversations whose first user message holds ``marker``."""
        script = Script(marker, turns)
        with self._lock:
            self._scripts.append(script)
        return script

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def unknown_paths(self) -> list[str]:
        """``METHOD path`` of requests to endpoints the stand-in does not model."""
        with self._lock:
            return list(self._unknown)

    @property
    def errors(self) -> list[str]:
        """Exceptions raised while answering; each was sent back as HTTP 400."""
        with self._lock:
            return list(self._errors)

    def requests_for(self, marker: str) -> list[RecordedRequest]:
        """The ``/v1/messages`` requests answered from the script ``marker``."""
        return [r for r in self.requests if r.script == marker]

    # request handling (called from server threads) -------------------------

    def _route(self, body: JSON) -> tuple[Script | None, int | None]:
        messages = body.get("messages") or []
        if not body.get("tools") or not messages:
            return None, None
        first_user = next((m for m in messages if m.get("role") == "user"), None)
        if first_user is None:
            return None, None
        opening = content_text(first_user.get("content"))
        with self._lock:
            script = next((s for s in self._scripts if s.marker in opening), None)
        if script is None:
            return None, None
        step = sum(1 for m in messages if m.get("role") == "assistant")
        if step >= len(script.turns):
            return script, None
        return script, step

    def _record(self, request: RecordedRequest, unknown: bool = False, error: str | None = None) -> None:
        with self._lock:
            self._requests.append(request)
            if unknown:
                self._unknown.append(f"{request.method} {request.path}")
            if error is not None:
                self._errors.append(error)

    def _message(self, body: JSON) -> tuple[JSON, Script | None, int | None]:
        script, step = self._route(body)
        turn = script.turns[step] if script is not None and step is not None else text(DEFAULT_REPLY)
        content: list[JSON] = []
        if turn.text is not None:
            content.append({"type": "text", "text": turn.text})
        for use in turn.tool_uses:
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{next(self._ids):04d}",
                    "name": use.name,
                    "input": dict(use.input),
                }
            )
        message: JSON = {
            "id": f"msg_{next(self._ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": str(body.get("model") or self.model),
            "content": content,
            "stop_reason": turn.stop_reason,
            "stop_sequence": None,
            "usage": self.usage(body)
            if self.usage is not None
            else {
                "input_tokens": _estimate_tokens(body),
                "output_tokens": max(1, len(json.dumps(content)) // 4),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
        return message, script, step


def _estimate_tokens(body: JSON) -> int:
    return max(1, len(json.dumps(body.get("messages", []))) // 4)


def _sse(message: JSON) -> Iterator[bytes]:
    """The server-sent events that stream ``message``, in the real API's order."""

    def event(data: JSON) -> bytes:
        return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()

    start = dict(message, content=[], stop_reason=None, stop_sequence=None)
    start["usage"] = dict(message["usage"], output_tokens=1)
    yield event({"type": "message_start", "message": start})
    yield event({"type": "ping"})
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            opening: JSON = {"type": "text", "text": ""}
            delta: JSON = {"type": "text_delta", "text": block["text"]}
        else:
            opening = dict(block, input={})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield event({"type": "content_block_start", "index": index, "content_block": opening})
        yield event({"type": "content_block_delta", "index": index, "delta": delta})
        yield event({"type": "content_block_stop", "index": index})
    yield event(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": message["usage"]["output_tokens"]},
        }
    )
    yield event({"type": "message_stop"})


class _Handler(BaseHTTPRequestHandler):
    api: MessagesAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; requests are recorded instead."""

    def _body(self) -> JSON | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"_raw": raw.decode("utf-8", "replace")}
        return parsed if isinstance(parsed, dict) else {"_json": parsed}

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("request-id", "req_standin")
        self.send_header("x-should-retry", "false")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _json(self, status: int, data: JSON) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _handle(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self._body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.command == "POST" and path == "/v1/messages" and body is not None:
            try:
                message, script, step = self.api._message(body)
            except Exception as exc:  # a broken script must fail the session, not hang it
                self.api._record(RecordedRequest(self.command, self.path, headers, body), error=repr(exc))
                self._json(
                    HTTPStatus.BAD_REQUEST,
                    {
                        "type": "error",
                        "error": {"type": "invalid_request_error", "message": f"messages stand-in: {exc!r}"},
                    },
                )
                return
            self.api._record(
                RecordedRequest(self.command, self.path, headers, body, script.marker if script else None, step)
            )
            if body.get("stream"):
                self._send(HTTPStatus.OK, b"".join(_sse(message)), "text/event-stream")
            else:
                self._json(HTTPStatus.OK, message)
            return
        if self.command == "POST" and path == "/v1/messages/count_tokens":
            self.api._record(RecordedRequest(self.command, self.path, headers, body))
            self._json(HTTPStatus.OK, {"input_tokens": _estimate_tokens(body or {})})
            return
        self.api._record(RecordedRequest(self.command, self.path, headers, body), unknown=True)
        self._json(HTTPStatus.OK, {})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle
