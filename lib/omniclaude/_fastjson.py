"""JSON for the hook's hot path, without importing `json`.

Importing `json` pulls in `re`, `enum` and `collections` (about 6 ms at interpreter start, most of the
hook's budget). This module drives the same C accelerator (`_json`) that `json` uses, and falls back to
`json` where the accelerator is missing. `loads` and `dumps` match `json.loads` and
`json.dumps(obj, ensure_ascii=False, separators=(",", ":"))` on JSON data; a test pins them together.

Depth: `MAX_DEPTH` is the deepest nesting of objects and arrays that omniclaude carries in a hook input
or an event payload (the hook records deeper input as a string preview with an `error`). `EVENT_MAX_DEPTH`
adds the envelope's own levels (`payload.input`), the bound every reader of spool lines and Kafka values
applies. `exceeds_depth` checks it without recursion, so it is safe on any parsed value.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

_WHITESPACE = " \t\n\r"
MAX_DEPTH = 64
EVENT_MAX_DEPTH = MAX_DEPTH + 4


class _ScannerContext:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}  # noqa: RUF012 - the C scanner reads this attribute

    @staticmethod
    def parse_constant(name: str) -> float:
        return float(name)


try:
    import _json

    _scan: Callable[[str, int], tuple[object, int]] | None = _json.make_scanner(
        _ScannerContext()  # type: ignore[arg-type]  # the C scanner reads attributes, like json.JSONDecoder
    )
    _encode: Callable[[object, int], list[str]] | None = _json.make_encoder(
        None, None, _json.encode_basestring, None, ":", ",", False, False, True  # type: ignore[arg-type]
    )  # fmt: skip
except (ImportError, AttributeError):  # pragma: no cover - interpreters without the accelerator
    _scan = None
    _encode = None


def loads(text: str) -> object:
    """Parses one JSON document; raises ValueError when `text` is not exactly one JSON value."""
    if _scan is None:  # pragma: no cover
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as exc:
        raise ValueError(f"invalid JSON at offset {exc.value}") from None
    except (SystemError, ValueError):
        # The accelerator builds its error from `json.decoder`, and fails oddly when that module is not
        # loaded yet; on this (rare) path, let `json` itself say what is wrong.
        import json

        return json.loads(text)
    finally:
        _ScannerContext.memo.clear()
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"extra data at offset {end}")
    return value


def dumps(value: object) -> str:
    """Serialises JSON data compactly, non-ASCII kept as is; raises TypeError/ValueError on other data."""
    if _encode is None:  # pragma: no cover
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return "".join(_encode(value, 0))


def dumps_utf8(value: object) -> bytes:
    """`dumps` encoded as UTF-8, a lone surrogate (which JSON text may carry) written as "?"."""
    return dumps(value).encode("utf-8", "replace")


def exceeds_depth(value: object, limit: int = MAX_DEPTH) -> bool:
    """True when objects and arrays nest more than `limit` levels deep in `value` (a scalar is level 0).

    Iterative and cheap: it visits containers only, never the characters of a string.
    """
    stack: list[tuple[object, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if isinstance(node, dict):
            children: Iterable[object] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        if depth > limit:
            return True
        for child in children:
            if isinstance(child, (dict, list)):
                push((child, depth))
    return False
