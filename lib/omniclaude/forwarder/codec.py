"""JSON for the forwarder: orjson's speed, the standard library's results.

The forwarder parses every spool line and serialises every record. orjson does both several times faster
than the standard library (on the benchmark's hook events of 1.3 KiB: parsing 19 -> 8 µs, serialising and
encoding 12 -> 2 µs). The hook never imports this module: it keeps to the standard library
(`omniclaude._fastjson`).

`loads` and `dumps` give what `_fastjson` gives (`json.loads`, and `dumps_utf8`: compact `json.dumps` with
non-ASCII kept, encoded as UTF-8 with lone surrogates replaced), and raise what it raises. Where orjson
would differ, the standard library does the work:

- orjson reads an integer beyond 64 bits as a float: a line with a run of 19 digits or more (anywhere,
  strings included: cheap to find, and rare) is read by `json`;
- so is what orjson refuses to read (NaN and Infinity, lone surrogates, invalid UTF-8, a byte order mark,
  more than 1,024 levels, any malformed text), which `json` then accepts or refuses as before; the
  non-finite floats it gives are marked (`NonFinite`, a float);
- what orjson refuses to write (an integer beyond 64 bits, a lone surrogate, a dict key that is not a
  string, a marked float, which it would write as `null`, any other type) is written by `_fastjson`.

One difference remains, in the text only: orjson writes some floats in another form than Python's `repr`
(`0.00001` for `1e-05`), which reads back as the same number.
"""

from __future__ import annotations

import json
import math

import orjson

from omniclaude import _fastjson

_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


class NonFinite(float):
    """A NaN or infinite float read by the standard library: written back as `NaN` or `Infinity`, as the
    standard library writes it, never as orjson's `null`."""


def _parse_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(value)


def _parse_constant(name: str) -> float:
    return NonFinite(name)


def loads(line: bytes) -> object:
    """Parses one JSON document given as UTF-8 bytes; raises ValueError (UnicodeDecodeError for bytes that
    are not UTF-8, RecursionError for very deep nesting) as `_fastjson.loads(line.decode("utf-8"))` would."""
    if _LONG_NUMBER not in line.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    return json.loads(line.decode("utf-8"), parse_float=_parse_float, parse_constant=_parse_constant)


def dumps(value: object) -> bytes:
    """Serialises JSON data compactly, non-ASCII kept, as UTF-8 (lone surrogates become "?"); raises
    TypeError or ValueError as `_fastjson.dumps_utf8` does on other data."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _fastjson.dumps_utf8(value)
