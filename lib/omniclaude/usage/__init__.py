"""Tokens, cost and code changes: transcript reading with byte cursors, the price table, code-change parsing.

Off the hook's hot path: the forwarder runs `UsageCollector` (`omniclaude.usage.collect`), the consumer
calls `code_changes` (`omniclaude.usage.code_changes`), `omniclaude prices` shows `load_prices`.
"""

from omniclaude.usage.code_changes import CodeChanges, code_changes
from omniclaude.usage.collect import EVENT_TYPE, TRIGGERS, UsageCollector, event_id
from omniclaude.usage.prices import PriceError, PriceTable, load_prices
from omniclaude.usage.state import summary
from omniclaude.usage.transcript import UsageRecord, scan

__all__ = [
    "EVENT_TYPE",
    "TRIGGERS",
    "CodeChanges",
    "PriceError",
    "PriceTable",
    "UsageCollector",
    "UsageRecord",
    "code_changes",
    "event_id",
    "load_prices",
    "scan",
    "summary",
]
