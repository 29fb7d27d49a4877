"""Step 4: the dead-letter topic, and the limit that keeps a bad release out of it.

A message that can never be processed (a `PermanentError`) is produced to `<prefix>.dead-letter` with its
original key, value and headers, plus headers saying where it came from and why it failed (`HEADER_*`).
Blocking: `DeadLetterProducer.send` returns only when the broker acknowledged every dead letter (flush,
then each future's result), so the loop may commit the offsets after it. A failure to produce is
transient (`BrokerUnavailable`): the batch is retried and no offset is committed.

`DeadLetterLimit` (arroyo's DlqLimit): if more than `max_share` of the last `window` messages were
dead-lettered, the consumer stops rather than drain a broken producer's output into the dead-letter
topic. The share is judged at every message, once at least `min(window, MIN_SAMPLE)` were seen.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import Protocol

from omniclaude.kafka import KafkaSettings, producer_config

from omniclaude_consumer.errors import BrokerUnavailable, DeadLetterLimitExceeded, PermanentError
from omniclaude_consumer.message import Header, Message

log = logging.getLogger(__name__)

HEADER_TOPIC = "dlq.source.topic"
HEADER_PARTITION = "dlq.source.partition"
HEADER_OFFSET = "dlq.source.offset"
HEADER_ERROR_CLASS = "dlq.error.class"
HEADER_REASON = "dlq.error.reason"
HEADER_MESSAGE = "dlq.error.message"
HEADER_ATTEMPTS = "dlq.attempts"
HEADER_FAILED_AT = "dlq.failed_at"
HEADER_GROUP = "dlq.consumer.group"

MAX_ERROR_MESSAGE = 2000
MIN_SAMPLE = 100


@dataclass(frozen=True)
class DeadLetter:
    """A message bound for the dead-letter topic, and why."""

    message: Message
    error: PermanentError
    attempts: int = 1

    @property
    def reason(self) -> str:
        return self.error.reason


def dead_letter_headers(letter: DeadLetter, *, group: str, failed_at: datetime | None = None) -> list[Header]:
    """The original headers, then the dead-letter headers (all values UTF-8 text)."""
    when = (failed_at or datetime.now(timezone.utc)).isoformat(timespec="microseconds").replace("+00:00", "Z")
    source = letter.message
    text = str(letter.error) or type(letter.error).__name__
    added = {
        HEADER_TOPIC: source.topic,
        HEADER_PARTITION: str(source.partition),
        HEADER_OFFSET: str(source.offset),
        HEADER_ERROR_CLASS: type(letter.error).__name__,
        HEADER_REASON: letter.reason,
        HEADER_MESSAGE: text[:MAX_ERROR_MESSAGE],
        HEADER_ATTEMPTS: str(letter.attempts),
        HEADER_FAILED_AT: when,
        HEADER_GROUP: group,
    }
    return [*source.headers, *((name, value.encode("utf-8", "replace")) for name, value in added.items())]


class ProducerFuture(Protocol):
    def get(self, timeout: float | None = None) -> object: ...


class Producer(Protocol):
    """The part of kafka-python's KafkaProducer used here."""

    def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: list[Header] | None = None
    ) -> ProducerFuture: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


class DeadLetterProducer:
    """Produces dead letters and waits for their acknowledgement. The Kafka producer is created on first use."""

    def __init__(self, topic: str, group: str, factory: Callable[[], Producer], *, timeout: float = 30.0) -> None:
        self.topic = topic
        self.group = group
        self._factory = factory
        self._producer: Producer | None = None
        self._timeout = timeout

    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Produces every letter and returns once all are acknowledged; raises BrokerUnavailable."""
        if not letters:
            return
        try:
            if self._producer is None:
                self._producer = self._factory()
            producer = self._producer
            futures = [
                producer.send(
                    self.topic,
                    value=letter.message.value,
                    key=letter.message.key,
                    headers=dead_letter_headers(letter, group=self.group),
                )
                for letter in letters
            ]
            producer.flush(timeout=self._timeout)
            for future in futures:
                future.get(timeout=self._timeout)
        except Exception as exc:  # kafka-python raises KafkaError subclasses and, on a closed client, others
            raise BrokerUnavailable(f"dead-letter produce to {self.topic} failed: {type(exc).__name__}: {exc}") from exc

    def close(self, timeout: float = 5.0) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=timeout)
            except Exception as exc:  # pragma: no cover - best effort at shutdown
                log.warning("closing the dead-letter producer failed: %s", exc)


class DeadLetterLimit:
    """Sliding window over the last `window` messages: True for each dead-lettered one."""

    def __init__(self, window: int, max_share: float) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        if not 0 < max_share <= 1:
            raise ValueError("max_share must be in (0, 1]")
        self.window = window
        self.max_share = max_share
        self._outcomes: deque[bool] = deque(maxlen=window)
        self._dead = 0

    @property
    def share(self) -> float:
        """The dead-lettered share of the messages in the window (0 when empty)."""
        return self._dead / len(self._outcomes) if self._outcomes else 0.0

    def check(self, outcomes: Iterable[bool]) -> None:
        """Raises DeadLetterLimitExceeded if recording `outcomes` would exceed the limit; records nothing.

        The window slides over the new outcomes one by one: a burst inside a large batch counts.
        """
        window, floor, limit = self.window, min(self.window, MIN_SAMPLE), self.max_share
        outcomes = list(outcomes)
        seen = len(self._outcomes)
        if seen >= floor and self._dead <= limit * seen and not any(outcomes):
            return  # only successes after a judged window: the share can only fall
        trial = deque(self._outcomes, maxlen=window)
        dead = self._dead
        for outcome in outcomes:
            if len(trial) == window and trial[0]:
                dead -= 1
            trial.append(outcome)
            dead += outcome
            seen = len(trial)
            if seen >= floor and dead > limit * seen:
                self._judge(seen, dead)

    def record(self, outcomes: Iterable[bool]) -> None:
        """Adds outcomes (True = dead-lettered) to the window."""
        outcomes = list(outcomes)
        if len(outcomes) >= self.window:
            self._outcomes.clear()
            self._dead = 0
            outcomes = outcomes[-self.window :]
        leaving = len(self._outcomes) + len(outcomes) - self.window
        if leaving > 0:
            self._dead -= sum(islice(self._outcomes, leaving))
        self._outcomes.extend(outcomes)
        self._dead += sum(outcomes)

    def _judge(self, seen: int, dead: int) -> None:
        if seen < min(self.window, MIN_SAMPLE):
            return
        if dead / seen > self.max_share:
            raise DeadLetterLimitExceeded(
                f"{dead} of the last {seen} messages were dead-lettered "
                f"(more than the limit of {self.max_share:.0%}); stopping instead of draining them "
                "into the dead-letter topic"
            )


def kafka_producer_factory(settings: KafkaSettings, client_id: str) -> Callable[[], Producer]:
    """A factory for a kafka-python KafkaProducer configured by `omniclaude.kafka.producer_config`
    (acks=all, idempotent, bounded waits)."""

    def create() -> Producer:
        from kafka import KafkaProducer

        producer: Producer = KafkaProducer(**producer_config(settings, client_id))
        return producer

    return create
