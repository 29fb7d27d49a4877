import json
import random

import pytest
from omniclaude.events import Envelope
from omniclaude_consumer import errors
from omniclaude_consumer.decode import decode, decode_row
from omniclaude_consumer.message import Message

from tests.consumer import factory

PREFIX = "t"


def _message(record: factory.Record) -> Message:
    return Message(record.topic, 0, 7, record.key, record.value, record.headers)


def test_every_event_type_decodes() -> None:
    rng = random.Random(5)
    records = [factory.good_event(rng, PREFIX, kind) for kind in factory.PLAIN_TYPES]
    records += factory.execution_events(rng, PREFIX)
    for record in records:
        envelope = decode(_message(record), topic_prefix=PREFIX, max_bytes=1 << 20)
        assert isinstance(envelope, Envelope)
        assert str(envelope.event_id) == record.event_id


@pytest.mark.parametrize("record", factory.poison(PREFIX, random.Random(1), max_bytes=4096), ids=lambda r: r.kind)
def test_poison_is_a_permanent_error_with_its_reason(record: factory.Record) -> None:
    if record.reason == "db_rejected":
        decode(_message(record), topic_prefix=PREFIX, max_bytes=4096)  # valid here; the database refuses it
        return
    with pytest.raises(errors.PermanentError) as caught:
        decode(_message(record), topic_prefix=PREFIX, max_bytes=4096)
    assert caught.value.reason == record.reason
    assert str(caught.value)


def test_validation_message_names_the_field_not_the_value() -> None:
    env = factory.envelope("routing_decision", factory.payload("routing_decision", random.Random(2)), random.Random(2))
    env["payload"]["confidence"] = 7
    env["payload"]["user_request"] = "secret-ish text"
    env["payload"]["latency_ms"] = -1
    record = factory.record(env, PREFIX)
    with pytest.raises(errors.InvalidEvent) as caught:
        decode(_message(record), topic_prefix=PREFIX, max_bytes=1 << 20)
    text = str(caught.value)
    assert "confidence" in text and "latency_ms" in text
    assert "secret-ish" not in text


def test_schema_version_is_checked_before_the_event_type() -> None:
    value = json.dumps({"schema_version": 3, "event_type": "whatever"}).encode()
    with pytest.raises(errors.UnsupportedSchema):
        decode(Message("t.agent-actions", 0, 0, None, value), topic_prefix=PREFIX, max_bytes=1000)


def test_size_limit_is_inclusive() -> None:
    record = factory.good_event(random.Random(3), PREFIX, "agent_action")
    assert record.value is not None
    size = len(record.value)
    decode(_message(record), topic_prefix=PREFIX, max_bytes=size)
    with pytest.raises(errors.MessageTooLarge):
        decode(_message(record), topic_prefix=PREFIX, max_bytes=size - 1)


def _corpus() -> list[bytes]:
    rng = random.Random(8)
    base = [factory.good_event(rng, PREFIX, kind) for kind in factory.PLAIN_TYPES]
    base += factory.execution_events(rng, PREFIX, progress=1)
    out = [r.value for r in base if r.value is not None]
    out += [r.value for r in factory.poison(PREFIX, rng, max_bytes=1 << 20) if r.value]
    odd_values: list[object] = [None, "x", "", 1.5, -1, 0, 1, True, [], {}, "2026-01-01T00:00:00Z", 1e12, "1"]
    for record in base:
        assert record.value is not None
        env = json.loads(record.value)
        for key in list(env["payload"]):
            for value in odd_values:
                mutated = json.loads(record.value)
                mutated["payload"][key] = value
                out.append(json.dumps(mutated).encode())
            mutated = json.loads(record.value)
            del mutated["payload"][key]
            out.append(json.dumps(mutated).encode())
        for key in ("event_id", "schema_version", "occurred_at", "source", "context", "payload", "extra"):
            for value in odd_values:
                mutated = json.loads(record.value)
                mutated[key] = value
                out.append(json.dumps(mutated).encode())
    return out


def test_the_fast_path_agrees_with_the_canonical_parser() -> None:
    from omniclaude_consumer.decode import FAST

    corpus = _corpus()
    accepted = 0
    for raw in corpus:
        try:
            canonical: Envelope | None = Envelope.parse_json(raw)
        except ValueError:
            canonical = None
        try:
            fast: Envelope | None = FAST.validate_json(raw)
        except ValueError:
            fast = None
        assert (canonical is None) == (fast is None), raw
        if canonical is not None and fast is not None:
            accepted += 1
            assert fast.model_dump() == canonical.model_dump()
            assert type(fast.payload) is type(canonical.payload)
    assert accepted > 100 and len(corpus) - accepted > 100


@pytest.mark.parametrize(
    "value",
    [b"[" * 200_000, b"[" * 5000 + b"]" * 5000, b'{"a":' * 300 + b"1" + b"}" * 300, b'{"a":' * 1_000_000],
    ids=["unclosed-200k", "arrays-5000", "objects-300", "objects-1m"],
)
def test_deep_nesting_is_too_deep_not_a_crash(value: bytes) -> None:
    with pytest.raises(errors.TooDeep):
        decode_row(Message(f"{PREFIX}.agent-actions", 0, 1, None, value), topic_prefix=PREFIX, max_bytes=1 << 24)


def test_any_other_exception_of_one_message_is_undecodable(monkeypatch: pytest.MonkeyPatch) -> None:
    import omniclaude_consumer.decode as decode_module

    def explode(envelope: object) -> object:
        raise MemoryError("no room for this one")

    monkeypatch.setattr(decode_module, "to_row", explode)
    record = factory.good_event(random.Random(3), PREFIX, "agent_action")
    with pytest.raises(errors.Undecodable, match="MemoryError"):
        decode_row(_message(record), topic_prefix=PREFIX, max_bytes=1 << 20)
