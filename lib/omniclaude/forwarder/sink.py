"""Where prepared records go: `Sink` is the interface the drain loop needs, `KafkaSink` the real one.

`KafkaSink.deliver(records)` returns only when the broker acknowledged every record (or, for a record
the broker rejects for good, a dead-letter stand-in of it); otherwise it raises `DeliveryError` and the
caller sends the same records again later. The producer and the topics are set up on the first call,
not at construction, so a forwarder with nothing to send never connects. Blocking: `send()` waits at
most `MAX_BLOCK_MS` for metadata, `flush()` at most `FLUSH_TIMEOUT_S`, polled in short slices so that
a stop request abandons the batch promptly. The topic check (which may wait for a broker that accepts
connections but never answers, and then diagnose it) runs in a daemon thread for the same reason: a stop
request leaves it behind.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from omniclaude.config import Settings
from omniclaude.forwarder.admin import ensure_topics
from omniclaude.forwarder.errors import DeliveryAbandoned, DeliveryError
from omniclaude.forwarder.prepare import OutgoingRecord, dead_letter
from omniclaude.forwarder.producer import FLUSH_TIMEOUT_S, create_producer

log = logging.getLogger("omniclaude.forwarder")

REJECTED = "rejected-by-kafka"
_FLUSH_SLICE_SECONDS = 0.25
# Errors that concern one record and will never go away by retrying it.
_RECORD_ERRORS = (
    "MessageSizeTooLargeError",
    "RecordListTooLargeError",
    "InvalidRecordError",
    "CorruptRecordError",
    "InvalidTimestampError",
)


class Sink(Protocol):
    """Delivers batches of records; the drain loop's only view of Kafka."""

    def deliver(self, records: Iterable[OutgoingRecord]) -> None:
        """Returns once every record is acknowledged; raises DeliveryError otherwise. `records` may be a
        generator that prepares them as they are taken; whatever it raises is raised."""
        ...

    def close(self, timeout: float) -> None:
        """Releases connections, waiting at most `timeout` seconds; never raises."""
        ...


def _is_record_error(exc: BaseException) -> bool:
    return type(exc).__name__ in _RECORD_ERRORS


def _describe(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    return text if text.startswith(name) else f"{name}: {text}" if text else name


class KafkaSink:
    """Delivers records with one kafka-python producer, recreated after a failed batch (a producer
    whose batches expired or failed is not reused: its idempotence state may be stale)."""

    def __init__(
        self,
        settings: Settings,
        should_stop: Callable[[], bool] = lambda: False,
        producer_factory: Callable[[Settings], Any] = create_producer,
        topics_factory: Callable[[Settings], object] = ensure_topics,
    ) -> None:
        self.settings = settings
        self._should_stop = should_stop
        self._producer_factory = producer_factory
        self._topics_factory = topics_factory
        self._producer: Any = None
        self._topics_ready = False

    def _ready_producer(self) -> Any:
        if not self._topics_ready:
            self._check_topics()
            self._topics_ready = True
        if self._producer is None:
            self._producer = self._producer_factory(self.settings)
        return self._producer

    def deliver(self, records: Iterable[OutgoingRecord]) -> None:
        """Sends every record and waits for the broker (see the module docstring)."""
        from kafka.errors import KafkaError

        taken = iter(records)
        first = next(taken, None)
        if first is None:
            return
        try:
            producer = self._ready_producer()
            sent, rejected = self._send(producer, itertools.chain((first,), taken))
            self._flush(producer)
        except DeliveryError:
            self._drop_producer()
            raise
        except KafkaError as exc:
            self._drop_producer()
            raise DeliveryError(f"Kafka send failed: {_describe(exc)}") from exc
        for record, future in sent:
            if future.succeeded():
                continue
            error = future.exception
            if error is not None and _is_record_error(error):
                rejected.append((record, error))
                continue
            self._drop_producer()
            raise DeliveryError(f"Kafka did not acknowledge a record: {_describe(error or KafkaError())}")
        if rejected:
            self._dead_letter(rejected)

    def _send(
        self, producer: Any, records: Iterable[OutgoingRecord]
    ) -> tuple[list[tuple[OutgoingRecord, Any]], list[tuple[OutgoingRecord, BaseException]]]:
        from kafka.errors import KafkaError

        sent: list[tuple[OutgoingRecord, Any]] = []
        rejected: list[tuple[OutgoingRecord, BaseException]] = []
        for record in records:
            try:
                future = producer.send(record.topic, value=record.value, key=record.key, headers=record.headers)
            except KafkaError as exc:
                if not _is_record_error(exc):
                    raise
                rejected.append((record, exc))
                continue
            sent.append((record, future))
        return sent, rejected

    def _check_topics(self) -> None:
        """Runs the topic check in a daemon thread, waiting for it in short slices; raises what it raises,
        or DeliveryAbandoned when a stop is requested first (the thread ends on its own time)."""
        failure: list[BaseException] = []

        def check() -> None:
            try:
                self._topics_factory(self.settings)
            except BaseException as exc:
                failure.append(exc)

        thread = threading.Thread(target=check, name="omniclaude-topic-check", daemon=True)
        thread.start()
        while True:
            thread.join(_FLUSH_SLICE_SECONDS)
            if not thread.is_alive():
                break
            if self._should_stop():
                raise DeliveryAbandoned("stop requested while the topics were being checked")
        if failure:
            raise failure[0]

    def _flush(self, producer: Any) -> None:
        from kafka.errors import KafkaTimeoutError

        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            try:
                producer.flush(timeout=max(0.0, min(_FLUSH_SLICE_SECONDS, remaining)))
                return
            except KafkaTimeoutError:
                if self._should_stop():
                    raise DeliveryAbandoned("stop requested while a batch was in flight") from None
                if remaining <= 0:
                    raise DeliveryError(f"Kafka did not acknowledge the batch within {FLUSH_TIMEOUT_S:.0f} s") from None

    def _dead_letter(self, rejected: list[tuple[OutgoingRecord, BaseException]]) -> None:
        stand_ins = []
        for record, error in rejected:
            event_type = dict(record.headers).get("event_type", b"").decode("utf-8", "replace")
            log.warning("Kafka rejected event %s for good (%s); sending a dead-letter record", record.event_id, error)
            stand_ins.append(
                dead_letter(
                    record.event_id,
                    event_type,
                    key=record.key,
                    reason=REJECTED,
                    error=_describe(error),
                    prefix=self.settings.topic_prefix,
                )
            )
        self._deliver_all(stand_ins)

    def _deliver_all(self, records: Sequence[OutgoingRecord]) -> None:
        """Delivers records that must all be acknowledged (no dead-lettering); raises DeliveryError."""
        from kafka.errors import KafkaError

        try:
            producer = self._ready_producer()
            futures = [producer.send(r.topic, value=r.value, key=r.key, headers=r.headers) for r in records]
            self._flush(producer)
        except KafkaError as exc:
            self._drop_producer()
            raise DeliveryError(f"Kafka send failed: {_describe(exc)}") from exc
        for future in futures:
            if not future.succeeded():
                self._drop_producer()
                error = future.exception or KafkaError()
                raise DeliveryError(f"Kafka did not acknowledge a record: {_describe(error)}")

    def _drop_producer(self) -> None:
        """Forgets the producer after a failure; the next batch starts afresh and checks the topics again."""
        self._topics_ready = False
        producer, self._producer = self._producer, None
        if producer is not None:
            _close_quietly(producer, 1.0)

    def close(self, timeout: float) -> None:
        """Closes the producer, waiting at most `timeout` seconds for queued records; never raises."""
        producer, self._producer = self._producer, None
        if producer is not None:
            _close_quietly(producer, timeout)


def _close_quietly(producer: Any, timeout: float) -> None:
    """Closes a producer; records still queued after `timeout` are abandoned (they stay in the spool)."""
    try:
        producer.close(timeout=timeout)
    except Exception:
        log.debug("closing the producer left records unsent", exc_info=True)
