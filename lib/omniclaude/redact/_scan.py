"""Hyperscan databases the redaction engine scans a text with, instead of running each rule's regex.

Contract:

- :class:`RuleScan` tells which of a set of ``re`` patterns may match a text, in one pass. Each
  pattern is compiled in Hyperscan's prefilter mode, which matches a superset of what the pattern
  matches (lookarounds and bounded repeats are loosened), so a pattern left out cannot match: the
  answer holds every pattern that matches, and some that then do not. A pattern Hyperscan cannot
  compile at all is reported as ``always`` and left to the caller.
  The same pass gives where a set of words start in the text, ignoring case.
- Hyperscan sees bytes and its classes are ASCII ones, so a text is scanned as its *shadow*: one
  byte per character (offsets stay character offsets), each character standing for what ``re``
  sees in it. ASCII stays itself, except the separators ``\\x1c``-``\\x1f`` that ``re`` counts as
  ``\\s`` (they become ``\\v``). Other characters become the ASCII letter ``re`` folds them to
  under IGNORECASE (Kelvin sign, long s, dotless i, dotted I), ``\\v`` for a space, ``0`` for a
  decimal digit, ``Q`` for another word character, and ``\\x01`` for the rest. Each stand-in matches
  every class the character matches in the built-in patterns (none of their negated classes holds a
  letter or digit), so the superset holds; a pattern that holds non-ASCII characters itself is
  listed in ``RuleScan.unicode``, for the caller to check on non-ASCII text.
- Without the ``hyperscan`` package (no wheel for the platform) ``AVAILABLE`` is False and the classes
  cannot be built; the engine then goes by its trigger literals alone.
- Compiling takes a fraction of a second; each scan object is built once per process, on first
  use, and a scan keeps no state between calls (one scratch space per object, used by one thread at
  a time under a lock).
"""

from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Final

try:
    import hyperscan
except ImportError:  # no wheel for this platform (Windows on ARM, 32-bit Windows): callers go without
    hyperscan = None  # type: ignore[assignment]

AVAILABLE: Final = hyperscan is not None
__all__ = ["AVAILABLE", "RuleScan", "shadow"]

_UNICODE_ESCAPE: Final = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9a-fA-F]{4})")
_BOUNDED: Final = re.compile(r"(?<!\\)\{(\d*),(\d+)\}")


_FOLDED: Final = {"\u212a": "k", "\u017f": "s", "\u0131": "i", "\u0130": "i"}
_SEPARATORS: Final = bytes.maketrans(b"\x1c\x1d\x1e\x1f", b"\x0b\x0b\x0b\x0b")


def _stand_in(char: str) -> str:
    folded = _FOLDED.get(char)
    if folded is not None:
        return folded
    if char.isspace():
        return "\x0b"
    if char.isdecimal():
        return "0"
    return "Q" if char.isalnum() else "\x01"


def _shadow_error(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "".join(map(_stand_in, error.object[error.start : error.end])), error.end


codecs.register_error("omniclaude-redact-shadow", _shadow_error)


def shadow(text: str) -> bytes:
    """The bytes Hyperscan scans for ``text``: one per character (see the module's contract)."""
    data = text.encode("ascii", "omniclaude-redact-shadow")
    if 0x1C in data or 0x1D in data or 0x1E in data or 0x1F in data:  # (a byte as an int: memchr, no search)
        return data.translate(_SEPARATORS)
    return data


def _without_anchors(pattern: str) -> str:
    """``pattern`` less its anchors and word boundaries (``^ $ \\A \\Z \\b \\B`` outside classes)."""
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            pair = pattern[index : index + 2]
            if in_class or pair[1:] not in ("A", "Z", "b", "B"):
                out.append(pair)
            index += 2
            continue
        if in_class:
            in_class = char != "]" or pattern[index - 1] == "[" or pattern[index - 2 : index] == "[^"
        elif char == "[":
            in_class = True
        elif char in "^$":
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _loosened(pattern: str) -> str:
    """``pattern`` loosened so that Hyperscan compiles it fast and it matches at least what ``re`` does on
    any piece of a text: anchors and word boundaries dropped (the engine runs a rule on the pieces
    between markers, where ``^`` also matches at a piece's start), long bounded repeats made open
    (``{0,64}`` -> ``{0,}``), ``{,n}`` written as ``re`` reads it (``{0,n}``), and ``\\uXXXX`` escapes
    written as the characters (Hyperscan has no such escape)."""
    pattern = _without_anchors(pattern)
    pattern = _BOUNDED.sub(lambda m: f"{{{m.group(1) or 0},{m.group(2) if int(m.group(2)) <= 4 else ''}}}", pattern)
    return _UNICODE_ESCAPE.sub(lambda m: m.group(1) + chr(int(m.group(2), 16)), pattern)


def _flags(pattern: re.Pattern[str], expression: str) -> int:
    flags = hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_PREFILTER
    if pattern.flags & re.IGNORECASE:
        flags |= hyperscan.HS_FLAG_CASELESS
    if pattern.flags & re.MULTILINE:
        flags |= hyperscan.HS_FLAG_MULTILINE
    if pattern.flags & re.DOTALL:
        flags |= hyperscan.HS_FLAG_DOTALL
    if not expression.isascii():
        flags |= hyperscan.HS_FLAG_UTF8
    return flags


_Entry = tuple[bytes, int, int]  # expression, id, flags


def _compile(entries: Sequence[_Entry]) -> Any:
    """A block-mode database of ``entries``, or None when there are none."""
    if not entries:
        return None
    expressions, ids, flags = (list(column) for column in zip(*entries, strict=True))
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags)
    return database


class RuleScan:
    """Which of ``patterns`` (by index) may match a text, and where ``words`` start in it; see the
    module's contract."""

    __slots__ = ("_database", "_lengths", "_lock", "_scratch", "always", "unicode")

    def __init__(self, patterns: Sequence[re.Pattern[str]], words: Iterable[str] = ()) -> None:
        expressions = [_loosened(pattern.pattern) for pattern in patterns]
        entries: list[_Entry] = [
            (expression.encode(), index, _flags(pattern, expression))
            for index, (pattern, expression) in enumerate(zip(patterns, expressions, strict=True))
        ]
        unique = sorted(set(words))
        self._lengths = {len(patterns) + index: len(word) for index, word in enumerate(unique)}
        word_entries: list[_Entry] = [
            (re.escape(word).encode(), len(patterns) + i, hyperscan.HS_FLAG_CASELESS) for i, word in enumerate(unique)
        ]
        always: list[int] = []
        try:
            self._database = _compile(entries + word_entries)
        except hyperscan.error:  # find the patterns Hyperscan cannot take, and leave them out
            kept = []
            for entry in entries:
                try:
                    _compile([entry])
                    kept.append(entry)
                except hyperscan.error:
                    always.append(entry[1])
            self._database = _compile(kept + word_entries)
        self.always: tuple[int, ...] = tuple(always)
        self.unicode = tuple(index for index, expression in enumerate(expressions) if not expression.isascii())
        self._scratch = hyperscan.Scratch(self._database) if self._database is not None else None
        self._lock = threading.Lock()

    def scan(self, text: str) -> tuple[set[int], list[int]]:
        """The indexes of the patterns whose prefilter matches ``text``'s shadow (``always`` aside, and
        ``unicode`` too when ``text`` is not ASCII), and the sorted offsets at which a word starts in it,
        as ``re`` ignoring case finds them."""
        found: set[int] = set()
        starts: set[int] = set()
        if self._database is None or not text:
            return found, []
        lengths = self._lengths

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            length = lengths.get(index)
            if length is None:
                found.add(index)
            else:
                starts.add(end - length)

        with self._lock:
            self._database.scan(shadow(text), match_event_handler=on_match, scratch=self._scratch)
        return found, sorted(starts)
