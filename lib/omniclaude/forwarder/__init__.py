"""The forwarder: drains the local spool to Kafka, started on demand by the hook or run as a service.

Modules, in the order an event meets them: `lock` (one forwarder per spool), `run` (the drain loop:
read, prepare, deliver, commit), `prepare` (redaction, capture mode, topic, key, headers), `sink` and
`producer` (kafka-python, configured by `omniclaude.kafka`), `admin` (topic creation), `state`
(forwarder.state, for `omniclaude status`), `flush` (drain now), `logs`, and `errors` (the error tree).
Import what you need from those modules; this package re-exports nothing.
"""
