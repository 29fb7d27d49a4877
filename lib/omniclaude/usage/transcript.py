"""One API response per record, read from the bytes of a Claude Code transcript.

A transcript is JSON lines. Claude Code writes one line per content block of an assistant message, each
carrying the message's `id`, `model` and `usage`, so a response appears on several lines: records are
deduplicated on (`message.id`, request id). The request id is `requestId` where Claude Code writes it, else
`requestRef` (2.1.328 writes a reference to its own request record instead). Lines whose model is
`<synthetic>` are not API calls and are skipped.

`scan(data)` finds the complete lines of `data` (up to its last newline; a partial last line is being
written and is left for the next read), parses only the lines that mention an assistant type, and returns
the records, how many bytes it consumed, and how many candidate lines it could not use (malformed JSON, a
missing id or model, bad token counts). Only lines holding `"type": "assistant"` are parsed (found with a
plain byte search, then the pattern): that is what makes the reader faster than parsing every line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

SYNTHETIC_MODEL = "<synthetic>"
MAX_TOKENS = 2_147_483_647
_MARK = b'"assistant"'
_ASSISTANT = re.compile(rb'"type"\s*:\s*"assistant"')


class UsageRecord(NamedTuple):
    """The usage of one API response, as the transcript holds it."""

    message_id: str
    request_id: str | None
    model: str
    occurred_at: str | None
    session_id: str | None
    agent_id: str | None
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    cache_creation_5m_tokens: int
    cache_creation_1h_tokens: int

    @property
    def key(self) -> tuple[str, str | None]:
        """What identifies the response: (message id, request id)."""
        return (self.message_id, self.request_id)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What `scan` found: the records (first line of each response wins), bytes consumed, bad lines."""

    records: list[UsageRecord]
    consumed: int
    malformed: int


class Malformed(ValueError):
    """An assistant line that cannot be read as usage."""


def _count(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise Malformed(f"bad token count {value!r}")
    return value


def _text(value: object) -> str | None:
    return value[:500] if isinstance(value, str) and value else None


def parse_line(line: bytes) -> UsageRecord | None:
    """The record of one transcript line; None when it is no API response. Raises Malformed."""
    try:
        data: Any = json.loads(line)
    except ValueError as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("type") != "assistant":
        return None
    message = data.get("message")
    if not isinstance(message, dict):
        raise Malformed("assistant line without a message object")
    model = message.get("model")
    if model == SYNTHETIC_MODEL:
        return None
    usage = message.get("usage")
    message_id = _text(message.get("id"))
    if message_id is None or not isinstance(model, str) or not model or not isinstance(usage, dict):
        raise Malformed("assistant message without id, model or usage")
    creation = usage.get("cache_creation")
    creation = creation if isinstance(creation, dict) else {}
    return UsageRecord(
        message_id=message_id,
        request_id=_text(data.get("requestId")) or _text(data.get("requestRef")),
        model=model[:200],
        occurred_at=_text(data.get("timestamp")),
        session_id=_text(data.get("sessionId")),
        agent_id=_text(data.get("agentId")),
        input_tokens=_count(usage.get("input_tokens")),
        output_tokens=_count(usage.get("output_tokens")),
        cache_creation_input_tokens=_count(usage.get("cache_creation_input_tokens")),
        cache_read_input_tokens=_count(usage.get("cache_read_input_tokens")),
        cache_creation_5m_tokens=_count(creation.get("ephemeral_5m_input_tokens")),
        cache_creation_1h_tokens=_count(creation.get("ephemeral_1h_input_tokens")),
    )


def scan(data: bytes) -> ScanResult:
    """The records of the complete lines of `data`; see the module docstring."""
    consumed = data.rfind(b"\n") + 1
    records: dict[tuple[str, str | None], UsageRecord] = {}
    malformed = 0
    position = data.find(_MARK, 0, consumed)
    while position >= 0:
        start = data.rfind(b"\n", 0, position) + 1
        end = data.find(b"\n", position, consumed)
        if _ASSISTANT.search(data, start, end):
            try:
                record = parse_line(data[start:end])
            except Malformed:
                malformed += 1
                record = None
            if record is not None and record.key not in records:
                records[record.key] = record
        position = data.find(_MARK, end + 1, consumed)
    return ScanResult(list(records.values()), consumed, malformed)
