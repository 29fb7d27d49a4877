"""The forwarder: drains the local spool to Kafka, started on demand by the hook or run as a service.

Modules, in the order an event meets them: `lock` (one forwarder per spool), `run` (the drain loop:
read, prepare, deliver, commit), `prepare` (redaction, capture mode, topic, key, headers), `sink` and
`producer` (kafka-python, its settings), `admin` (topic creation), `state` (forwarder.state, for
`omniclaude status`), `flush` (drain now), `backoff`, `logs`, and `errors` (the error tree).
"""

from omniclaude.forwarder.backoff import Backoff, set_testing
from omniclaude.forwarder.errors import DeliveryAbandoned, DeliveryError, ForwarderConfigError, ForwarderError
from omniclaude.forwarder.flush import FlushReport, default_spools, flush
from omniclaude.forwarder.prepare import OutgoingRecord, prepare
from omniclaude.forwarder.producer import admin_config, client_config, producer_config
from omniclaude.forwarder.run import Forwarder, RunOptions, RunResult
from omniclaude.forwarder.state import forwarder_status

__all__ = [
    "Backoff",
    "DeliveryAbandoned",
    "DeliveryError",
    "FlushReport",
    "Forwarder",
    "ForwarderConfigError",
    "ForwarderError",
    "OutgoingRecord",
    "RunOptions",
    "RunResult",
    "admin_config",
    "client_config",
    "default_spools",
    "flush",
    "forwarder_status",
    "prepare",
    "producer_config",
    "set_testing",
]
