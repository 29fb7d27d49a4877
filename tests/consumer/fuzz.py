"""A seeded corpus of hostile message values for the fuzz tests of the consumer and the spool readers.

`corpus(count, prefix, seed)` yields `Fuzz` items: a Kafka record and the kind of hostility. Kinds:
valid events of every type (`good`), every field of every event type set to a wrong type or a boundary
value (`field:<event_type>.<path>`), random bytes, nesting from 10 to 1,000,000 levels (arrays, objects,
unclosed, and inside a valid envelope), huge numbers, NaN/Infinity, lone surrogates (escaped and raw),
NUL bytes (escaped and raw), duplicate keys, 1 MB strings and values over the size limit. Every mutated
event gets a fresh event id, so "lands exactly once" is about one id each.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from omniclaude.envelope import uuid7
from omniclaude.topics import event_topics, topic_for

from tests.consumer import factory

EVENT_TYPES = (
    *factory.PLAIN_TYPES,
    "execution_started",
    "execution_progress",
    "execution_completed",
)
BAD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 2**31, 2**63, -(2**63) - 1, 10**30, 1.5, -0.0, 1e308, "", " ", "x" * 5000,
    "not-a-uuid", "2026-13-45T99:99:99Z", [], [1, "a"], {}, {"nested": {"deeper": [1]}}, "\u0000", "ünï ✓",
)  # fmt: skip
RAW_TOKENS = (b"NaN", b"Infinity", b"-Infinity", b"1e999999", b"-1e999999", b"1" * 5000, b"-0", b"1E400")
ONE_MB = 1_000_000


@dataclass(frozen=True)
class Fuzz:
    """One hostile (or valid) record and what kind it is."""

    topic: str
    value: bytes | None
    kind: str
    event_id: str | None = None


_POOL_SIZE = 300
_EPOCH_NS = 1_700_000_000_000_000_000


class _Pool:
    """Base events of every type, made once; each use is a shallow copy with a fresh event id (cheap)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: dict[str, list[dict[str, Any]]] = {}
        for kind in EVENT_TYPES:
            made = []
            for _ in range(_POOL_SIZE // len(EVENT_TYPES) + 1):
                execution = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                body = factory.payload(kind, rng, execution if kind.startswith("execution_") else None)
                made.append(factory.envelope(kind, body, rng))
            self.events[kind] = made

    def event(self, event_type: str | None = None) -> dict[str, Any]:
        base = self.rng.choice(self.events[event_type or self.rng.choice(EVENT_TYPES)])
        event = {**base, "payload": dict(base["payload"]), "context": dict(base["context"])}
        event["event_id"] = uuid7(_EPOCH_NS + self.rng.getrandbits(40))
        return event


def _topic(event: dict[str, Any], prefix: str) -> str:
    found = topic_for(event["event_type"], prefix) if isinstance(event.get("event_type"), str) else None
    return found or event_topics(prefix)[0]


def _nested(depth: int, rng: random.Random) -> bytes:
    form = rng.randrange(4)
    if form == 0:
        return b"[" * depth + b"]" * depth
    if form == 1:
        return b'{"a":' * depth + b"1" + b"}" * depth
    if form == 2:
        return b"[" * depth  # never closed
    return b'{"a":[' * (depth // 2) + b"null" + b"]}" * (depth // 2)


def _depth(rng: random.Random) -> int:
    return int(10 ** rng.uniform(1, 4.3))  # 10 .. ~20,000 levels; the 1,000,000-level ones are added apart


def _mutated(rng: random.Random, pool: _Pool, prefix: str) -> Fuzz:
    event = pool.event()
    where = rng.choice(("envelope", "payload", "payload", "context"))
    target: dict[str, Any] = event if where == "envelope" else event[where]
    key = rng.choice(sorted(target))
    target[key] = rng.choice(BAD_VALUES)
    if key == "event_id" and where == "envelope":
        event_id = event["event_id"] if isinstance(event["event_id"], str) else None
    else:
        event_id = event["event_id"]
    return Fuzz(_topic(event, prefix), factory.encode(event), f"field:{event['event_type']}.{where}.{key}", event_id)


def _token(rng: random.Random, pool: _Pool, prefix: str) -> Fuzz:
    event = pool.event("routing_decision")
    marker = "__TOKEN__"
    event["payload"][rng.choice(("confidence", "latency_ms", "alternatives"))] = marker
    value = factory.encode(event).replace(f'"{marker}"'.encode(), rng.choice(RAW_TOKENS))
    return Fuzz(_topic(event, prefix), value, "token", event["event_id"])


def _strange_text(rng: random.Random, pool: _Pool, prefix: str) -> Fuzz:
    event = pool.event("agent_action")
    choice = rng.randrange(5)
    if choice == 0:  # escaped lone surrogate
        value = factory.encode(event).replace(b'"agent-', b'"\\ud800agent-', 1)
        return Fuzz(_topic(event, prefix), value, "surrogate-escaped", event["event_id"])
    if choice == 1:  # raw surrogate bytes: not UTF-8
        value = factory.encode(event).replace(b'"agent-', b'"\xed\xa0\x80agent-', 1)
        return Fuzz(_topic(event, prefix), value, "surrogate-raw", event["event_id"])
    if choice == 2:  # raw NUL byte inside a string: invalid JSON
        value = factory.encode(event).replace(b'"agent-', b'"\x00agent-', 1)
        return Fuzz(_topic(event, prefix), value, "nul-raw", event["event_id"])
    if choice == 3:  # escaped NUL in text and in JSONB
        event["payload"][rng.choice(("agent", "action_name", "details"))] = "a\u0000b"
        return Fuzz(_topic(event, prefix), factory.encode(event), "nul-escaped", event["event_id"])
    # duplicate keys: the last one wins in every parser we use
    text = factory.encode(event)
    other = uuid7(_EPOCH_NS + rng.getrandbits(40))
    first = b'{"event_type": "bogus", "event_id": "' + other.encode() + b'", "event_id"'
    value = text.replace(b'{"event_id"', first, 1)
    return Fuzz(_topic(event, prefix), value, "duplicate-keys", event["event_id"])


def corpus(count: int, prefix: str, seed: int = 7) -> Iterator[Fuzz]:
    """`count` records (see the module docstring), then a few fixed extremes; deterministic per seed."""
    rng = random.Random(seed)
    pool = _Pool(rng)
    topics = event_topics(prefix)
    for _ in range(count):
        roll = rng.random()
        if roll < 0.25:
            event = pool.event()
            yield Fuzz(_topic(event, prefix), factory.encode(event), "good", event["event_id"])
        elif roll < 0.65:
            yield _mutated(rng, pool, prefix)
        elif roll < 0.75:
            yield Fuzz(rng.choice(topics), rng.randbytes(rng.randrange(0, 300)), "random-bytes")
        elif roll < 0.80:
            yield Fuzz(rng.choice(topics), _nested(_depth(rng), rng), "nested")
        elif roll < 0.83:
            event = pool.event("agent_action")
            marker = "__DEEP__"
            event["payload"]["details"] = marker
            deep = _nested(_depth(rng), rng)
            yield Fuzz(
                _topic(event, prefix),
                factory.encode(event).replace(f'"{marker}"'.encode(), deep),
                "nested-in-event",
                event["event_id"],
            )
        elif roll < 0.90:
            yield _token(rng, pool, prefix)
        else:
            yield _strange_text(rng, pool, prefix)
    for depth in (1_000_000, 200_000):
        yield Fuzz(topics[0], b"[" * depth, "nested-extreme")
        yield Fuzz(topics[0], b'{"a":' * (depth // 5), "nested-extreme")
    big = pool.event("agent_action")
    big["payload"]["details"] = {"blob": "y" * ONE_MB}
    yield Fuzz(_topic(big, prefix), factory.encode(big), "one-mb-string", big["event_id"])
    huge = pool.event("agent_action")
    huge["payload"]["details"] = {"blob": "z" * (2 * ONE_MB)}
    yield Fuzz(_topic(huge, prefix), factory.encode(huge), "over-limit", huge["event_id"])
    yield Fuzz(topics[0], None, "tombstone")
    yield Fuzz(topics[0], b"", "empty")
    yield Fuzz(
        topics[0],
        json.dumps("\ud800", ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass"),
        "surrogate-raw",
    )
