"""The forwarder's JSON gives the standard library's results (`_fastjson`), on the inputs where orjson alone
would not."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable

import pytest
from omniclaude import _fastjson
from omniclaude.forwarder import codec

LINES = [
    b'{"event_id":"e1","payload":{"text":"caf\xc3\xa9 \xe2\x80\xa8 \\u2028 <\\u0000>","n":[1,-0,0.5,-0.0,1E2,1e-7]}}',
    b'  {"a":1,"a":2}\t\r\n',  # surrounding whitespace; the last duplicate key wins
    b'{"big":18446744073709551616,"neg":-9223372036854775809}',  # beyond 64 bits: orjson gives floats
    b'{"id":"1234567890123456789012345","n":12345678901234567890123}',
    b'{"n":9223372036854775807,"m":-9223372036854775808,"u":18446744073709551615}',
    b"[NaN,Infinity,-Infinity,1e400,-1e400,1e-400]",
    b'{"s":"\\ud800 lone","t":"\\udfff"}',  # lone surrogates
    b'"\\ud83d\\ude00"',  # a pair
    b"{}",
    b"[]",
    b"null",
    b"12",
    b'"x"',
    b"[" * 1100 + b"]" * 1100,  # deeper than orjson reads
]

BAD_LINES = [
    b"",
    b"   ",
    b"{",
    b'{"a":1} x',
    b'{"a":1}{"b":2}',
    b"\xef\xbb\xbf{}",  # a byte order mark
    b'{"a":"\xff"}',  # not UTF-8
    b'{"a":"\x01"}',  # a raw control character
    b"{'a':1}",
    b'{"a":01}',
    b"[1,]",
    b"[" * 100_000,
]


def _same(left: object, right: object) -> bool:
    """Equal, NaN included, and of the same types all the way down."""
    if type(left) is not type(right) and not (isinstance(left, float) and type(right) is float):
        return False
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return left == right


def _outcome(parse: Callable[[bytes], object], line: bytes) -> object:
    try:
        return parse(line)
    except RecursionError:
        return RecursionError
    except UnicodeDecodeError:
        return UnicodeDecodeError
    except ValueError:
        return ValueError


def _stdlib(line: bytes) -> object:
    return _fastjson.loads(line.decode("utf-8"))


@pytest.mark.parametrize("line", LINES + BAD_LINES, ids=range(len(LINES + BAD_LINES)))
def test_loads_reads_what_the_standard_library_reads(line: bytes) -> None:
    ours, theirs = _outcome(codec.loads, line), _outcome(_stdlib, line)
    assert _same(ours, theirs) if not isinstance(theirs, type) else ours is theirs


@pytest.mark.parametrize("line", LINES[:-1], ids=range(len(LINES) - 1))  # not the line too deep to write
def test_dumps_writes_what_reads_back_the_same(line: bytes) -> None:
    value = codec.loads(line)
    expected = _fastjson.dumps_utf8(_stdlib(line))
    written = codec.dumps(value)
    assert _same(codec.loads(written), codec.loads(expected))
    if not any(isinstance(x, float) for x in _leaves(value)):
        assert written == expected


def test_non_finite_numbers_are_written_as_the_standard_library_writes_them() -> None:
    assert codec.dumps(codec.loads(b"[NaN,Infinity,-Infinity,1e400]")) == b"[NaN,Infinity,-Infinity,Infinity]"


def test_what_neither_can_write_raises_as_the_standard_library_does() -> None:
    looped: list[object] = []
    looped.append(looped)
    for value in ({"a": object()}, {"a": {1, 2}}, looped):
        with pytest.raises(Exception) as ours:
            codec.dumps(value)
        with pytest.raises(Exception) as theirs:
            _fastjson.dumps(value)
        assert type(ours.value) is type(theirs.value)


def test_lone_surrogates_and_big_numbers_are_written_by_the_standard_library() -> None:
    value = {"s": "\ud800", "n": 2**70, 1: "int key"}
    assert codec.dumps(value) == _fastjson.dumps_utf8(value)


def test_random_documents_match() -> None:
    rng = random.Random(7)
    for _ in range(300):
        value = _random_value(rng, 4)
        line = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        assert _same(_outcome(codec.loads, line), _outcome(_stdlib, line))


def _random_value(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(9 if depth else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**63 - 1, -(2**63), 2**64, -(2**63) - 1, 10**25, rng.randrange(-(10**20), 10**20)])
    if kind == 2:
        return rng.choice(
            [0.1, -0.0, 1e-7, 1e22, 5e-324, 1.7976931348623157e308, rng.random() * 10 ** rng.randrange(-30, 30)]
        )
    if kind in (3, 4, 5):
        return "".join(
            chr(
                rng.choice([rng.randrange(32, 127), rng.randrange(0, 32), rng.randrange(0x80, 0x2FFF), 0xD800, 0x1F600])
            )
            for _ in range(rng.randrange(12))
        )
    if kind in (6, 7):
        return {str(_random_value(rng, 0)): _random_value(rng, depth - 1) for _ in range(rng.randrange(4))}
    return [_random_value(rng, depth - 1) for _ in range(rng.randrange(4))]


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
