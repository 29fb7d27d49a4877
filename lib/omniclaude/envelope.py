"""The event envelope, built with the standard library only (the pydantic models in `omniclaude.events`
describe and validate the same shape).

An envelope is a dict: event_id (UUIDv7, time-ordered), schema_version, event_type, occurred_at (UTC, ISO
8601 with microseconds and a `Z`), source (hook, skill or logger), context and payload. `encode` turns it
into one spool line that never exceeds the size cap: the envelope is kept whole and the longest strings of
the payload are cut, with a marker saying how much was cut. A cut never splits a token: it goes back to the
whitespace, quote or bracket before the token it would fall in, so no secret's prefix is left in clear for
the forwarder's redaction to miss (`cut_at_boundary`).
"""

from __future__ import annotations

import os
import time

from omniclaude import _fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

SCHEMA_VERSION: Final = 1
SOURCES = ("hook", "skill", "logger")
TRUNCATION_MARKER = "…[truncated {} bytes]"
# Characters that end a token: a cut may fall right after one of them.
_BOUNDARIES = frozenset(" \t\r\n\"'`<>()[]{},;")


def uuid7(unix_ns: int | None = None) -> str:
    """Returns a new UUID version 7 string (48-bit millisecond time, then 74 random bits)."""
    millis = (time.time_ns() if unix_ns is None else unix_ns) // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62 | (rand & 0x3FFF_FFFF_FFFF_FFFF)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def iso_timestamp(unix_ns: int) -> str:
    """Formats a Unix time in nanoseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC)."""
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos // 1000:06d}Z"


def new_envelope(
    event_type: str, payload: dict[str, object], source: str, context: dict[str, object]
) -> dict[str, object]:
    """Returns a fresh envelope; the id and time are taken now."""
    now = time.time_ns()
    return {
        "event_id": uuid7(now),
        "schema_version": SCHEMA_VERSION,
        "event_type": event_type,
        "occurred_at": iso_timestamp(now),
        "source": source,
        "context": context,
        "payload": payload,
    }


def _longest_string(node: object, best: tuple[int, object, object]) -> tuple[int, object, object]:
    """Finds (length, container, key) of the longest string below `node`."""
    items: list[tuple[object, object]]
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return best
    for key, value in items:
        if isinstance(value, str):
            if len(value) > best[0]:
                best = (len(value), node, key)
        else:
            best = _longest_string(value, best)
    return best


def cut_at_boundary(text: str, keep: int) -> int:
    """The index at most ``keep`` where ``text`` may be cut without splitting a token: ``keep`` itself
    when a boundary character is on either side of it, else the end of the last boundary before it (0
    when there is none)."""
    if keep <= 0 or keep >= len(text):
        return max(0, min(keep, len(text)))
    if text[keep] in _BOUNDARIES or text[keep - 1] in _BOUNDARIES:
        return keep
    index = keep - 1
    while index > 0 and text[index - 1] not in _BOUNDARIES:
        index -= 1
    return index


def encode(envelope: dict[str, object], max_bytes: int) -> bytes:
    """Returns the envelope as one JSON line (ending in a newline) of at most `max_bytes` bytes.

    Strings in the payload are cut, longest first, until the line fits; the payload is modified in place.
    Raises ValueError if even an empty payload cannot fit.
    """
    data = _fastjson.dumps_utf8(envelope)
    while len(data) + 1 > max_bytes:
        length, container, key = _longest_string(envelope.get("payload"), (0, None, None))
        excess = len(data) + 1 - max_bytes
        if container is None or length <= 64:
            raise ValueError("event does not fit the size cap")
        text: str = container[key]  # type: ignore[index]
        keep = cut_at_boundary(text, max(0, min(length - 64, length - excess - 48)))
        cut = len(text[keep:].encode("utf-8", "replace"))
        container[key] = text[:keep] + TRUNCATION_MARKER.format(cut)  # type: ignore[index]
        data = _fastjson.dumps_utf8(envelope)
    return data + b"\n"
