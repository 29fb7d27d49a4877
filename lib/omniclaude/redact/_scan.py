"""Hyperscan databases the redaction engine scans a text with, instead of running each rule's regex.

Contract:

- :class:`RuleScan` tells which of a set of ``re`` patterns may match an ASCII text, in one pass. Each
  pattern is compiled in Hyperscan's prefilter mode, which matches a superset of what the pattern
  matches (lookarounds and bounded repeats are loosened), so a pattern left out cannot match: the
  answer holds every pattern that matches, and some that then do not. A pattern Hyperscan cannot
  compile at all is reported as ``always`` and left to the caller.
- :class:`WordScan` gives where a set of words start in an ASCII text, ignoring case, in one pass.
- Both are for ASCII text only: Hyperscan sees bytes, and for ASCII the byte offsets are the
  character offsets and ``re``'s case folding is plain ASCII case folding. Callers use their own
  path for other text.
- Compiling takes a fraction of a second; each scan object is built once per process, on first
  use, and a scan keeps no state between calls (one scratch space per object, used by one thread at
  a time under a lock).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Final

import hyperscan

__all__ = ["RuleScan", "WordScan"]

_BASE_FLAGS: Final = hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_PREFILTER
_UNICODE_ESCAPE: Final = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9a-fA-F]{4})")
_BOUNDED: Final = re.compile(r"(?<!\\)\{(\d*),(\d+)\}")
_END_ANCHOR: Final = re.compile(r"(?<!\\)((?:\\\\)*)\\Z")


def _loosened(pattern: str) -> str:
    """``pattern`` loosened so that Hyperscan compiles it fast and it matches at least what ``re`` does:
    long bounded repeats made open (``{0,64}`` -> ``{0,}``), ``{,n}`` written as ``re`` reads it
    (``{0,n}``), ``\\Z`` dropped (Hyperscan takes no end anchor inside a pattern), and ``\\uXXXX``
    escapes written as the characters (Hyperscan has no such escape)."""
    pattern = _BOUNDED.sub(lambda m: f"{{{m.group(1) or 0},{m.group(2) if int(m.group(2)) <= 4 else ''}}}", pattern)
    pattern = _END_ANCHOR.sub(lambda m: m.group(1), pattern)
    return _UNICODE_ESCAPE.sub(lambda m: m.group(1) + chr(int(m.group(2), 16)), pattern)


def _flags(pattern: re.Pattern[str], expression: str) -> int:
    flags = _BASE_FLAGS
    if pattern.flags & re.IGNORECASE:
        flags |= hyperscan.HS_FLAG_CASELESS
    if pattern.flags & re.MULTILINE:
        flags |= hyperscan.HS_FLAG_MULTILINE
    if pattern.flags & re.DOTALL:
        flags |= hyperscan.HS_FLAG_DOTALL
    if not expression.isascii():
        flags |= hyperscan.HS_FLAG_UTF8
    return flags


def _compile(expressions: Sequence[bytes], ids: Sequence[int], flags: Sequence[int]) -> Any:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=list(expressions), ids=list(ids), elements=len(expressions), flags=list(flags))
    return database


class RuleScan:
    """Which of ``patterns`` (by index) may match a text; see the module's contract."""

    __slots__ = ("_database", "_lock", "_scratch", "always")

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        expressions = [_loosened(pattern.pattern) for pattern in patterns]
        entries = [
            (expression.encode(), index, _flags(pattern, expression))
            for index, (pattern, expression) in enumerate(zip(patterns, expressions, strict=True))
        ]
        always: list[int] = []
        try:
            self._database = _compile(*zip(*entries, strict=True)) if entries else None
        except hyperscan.error:  # find the patterns Hyperscan cannot take, and leave them out
            kept = []
            for entry in entries:
                try:
                    _compile([entry[0]], [entry[1]], [entry[2]])
                    kept.append(entry)
                except hyperscan.error:
                    always.append(entry[1])
            self._database = _compile(*zip(*kept, strict=True)) if kept else None
        self.always: tuple[int, ...] = tuple(always)
        self._scratch = hyperscan.Scratch(self._database) if self._database is not None else None
        self._lock = threading.Lock()

    def matching(self, text: str) -> set[int]:
        """The indexes of the compiled patterns whose prefilter matches ASCII ``text`` (``always`` aside)."""
        found: set[int] = set()
        if self._database is None or not text:
            return found

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            found.add(index)

        with self._lock:
            self._database.scan(text.encode("ascii"), match_event_handler=on_match, scratch=self._scratch)
        return found


class WordScan:
    """Where ``words`` start in an ASCII text, ignoring case; see the module's contract."""

    __slots__ = ("_database", "_lengths", "_lock", "_scratch")

    def __init__(self, words: Iterable[str]) -> None:
        unique = sorted(set(words))
        self._lengths = tuple(len(word) for word in unique)
        self._database = _compile(
            [re.escape(word).encode() for word in unique],
            range(len(unique)),
            [hyperscan.HS_FLAG_CASELESS] * len(unique),
        )
        self._scratch = hyperscan.Scratch(self._database)
        self._lock = threading.Lock()

    def starts(self, text: str) -> list[int]:
        """The sorted offsets at which one of the words starts in ASCII ``text``."""
        found: set[int] = set()
        lengths = self._lengths

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            found.add(end - lengths[index])

        with self._lock:
            self._database.scan(text.encode("ascii"), match_event_handler=on_match, scratch=self._scratch)
        return sorted(found)
