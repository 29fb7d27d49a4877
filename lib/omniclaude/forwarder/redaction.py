"""The forwarder's redactor: `omniclaude.redact.Redactor`, with its text rule memoized for short strings.

`Redactor.redact` hands every string of an event to `redact_text`. Most are short and repeat from event
to event: dict keys such as `max_tokens` or `input_tokens`, session ids, paths, tool names. `Redactor.redact_text`
is pure (its contract), so its result for a string of up to `MAX_CACHED_CHARS` characters is kept and
reused. Longer strings (tool input and output) are redacted every time. The cache is bounded (a few MB
at most) and simply cleared when full. The short strings a walk leaves to be redacted together (see
`Redactor._redact_short`) are looked up first: only those not known yet are scanned, and when the scan
finds that no rule may match them, each is known from then on to need no redaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omniclaude.redact import Redactor

MAX_CACHED_CHARS = 256
MAX_CACHE_ENTRIES = 8192


class CachingRedactor(Redactor):
    """A `Redactor` whose `redact_text` remembers its results for strings up to `MAX_CACHED_CHARS`."""

    __slots__ = ("_cache",)

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        super().__init__(extra_patterns)
        self._cache: dict[str, str] = {}

    def redact_text(self, text: str) -> str:
        """`Redactor.redact_text`, served from the cache for short strings."""
        if len(text) > MAX_CACHED_CHARS:
            return super().redact_text(text)
        result = self._cache.get(text)
        if result is None:
            if len(self._cache) >= MAX_CACHE_ENTRIES:
                self._cache.clear()
            result = self._cache[text] = super().redact_text(text)
        return result

    def _redact_short(self, short: list[Any]) -> None:
        """`Redactor._redact_short` for the strings not in the cache; those that need no redaction join it."""
        cache = self._cache
        unknown: list[Any] = []
        for container, slot, text in zip(short[::3], short[1::3], short[2::3], strict=True):
            known = cache.get(text)
            if known is None:
                unknown += (container, slot, text)
            elif known is not text:
                container[slot] = known
        texts = unknown[2::3]
        if not texts:
            return
        if self._may_need_redaction(texts):
            self._redact_each(unknown)
            return
        if len(cache) + len(texts) > MAX_CACHE_ENTRIES:
            cache.clear()
        for text in texts:
            cache[text] = text
