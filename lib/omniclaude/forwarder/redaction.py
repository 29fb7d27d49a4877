"""The forwarder's redactor: `omniclaude.redact.Redactor`, with its text rule memoized for short strings.

`Redactor.redact` hands every string of an event to `redact_text`. Most are short and repeat from event
to event: dict keys such as `max_tokens` or `input_tokens`, session ids, paths, tool names. `Redactor.redact_text`
is pure (its contract), so its result for a string of up to `MAX_CACHED_CHARS` characters is kept and
reused. Longer strings (tool input and output) are redacted every time. The cache is bounded (a few MB
at most) and simply cleared when full.
"""

from __future__ import annotations

from collections.abc import Sequence

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
