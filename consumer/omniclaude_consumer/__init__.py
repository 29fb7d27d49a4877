"""omniclaude-consumer: Kafka -> PostgreSQL for omniclaude's events, exactly once in effect.

Run it as `omniclaude-consumer` or `python -m omniclaude_consumer`; configure it with `OMNICLAUDE_*`
variables (see `omniclaude_consumer.settings`). The steps, one module each: `decode` (bytes -> envelope),
`rows` (envelope -> table row), `writer` (rows -> PostgreSQL), `dlq` (dead letters and their limit),
`commit` (offsets), `health` (state, /health, /ready, /metrics), `loop` (the poll loop), `errors` (what
goes to the dead-letter topic and what is retried).
"""

from __future__ import annotations

__all__: list[str] = []
