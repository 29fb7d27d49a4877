"""`omniclaude-consumer` / `python -m omniclaude_consumer`: run the consumer until SIGTERM or SIGINT.

Exit codes: 0 stopped on a signal; 1 refused to start (invalid settings, the schema is behind the code,
the health port is taken); 3 stopped by the dead-letter limit (too many recent messages were poison).
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Mapping, Sequence

from omniclaude.backoff import Backoff
from omniclaude.kafka import KafkaConfigError, KafkaUnavailable, ensure_topics
from omniclaude.masking import MaskingFilter
from omniclaude.signals import install_stop_handlers
from omniclaude.topics import dead_letter_topic, event_topics

from omniclaude_consumer.dlq import DeadLetterLimit, DeadLetterProducer, kafka_producer_factory
from omniclaude_consumer.errors import BrokerUnavailable
from omniclaude_consumer.health import ConsumerState, HealthServer
from omniclaude_consumer.loop import Loop
from omniclaude_consumer.message import Message
from omniclaude_consumer.rows import TABLES
from omniclaude_consumer.schema import check_schema
from omniclaude_consumer.settings import ConsumerSettings, SettingsError, load_settings
from omniclaude_consumer.source import KafkaSource, Source
from omniclaude_consumer.writer import Writer

log = logging.getLogger("omniclaude_consumer")

GC_YOUNG_THRESHOLD = 20_000
"""Allocations between young-generation collections (Python's default is 700). A batch keeps thousands of
decoded events alive, which the default makes the collector walk again and again (measured: 2-3 µs an
event, about 4 % of the consumer's time). Decoded events form no reference cycles, so this keeps no more
garbage; the few cycles that do form (an exception's traceback) wait a little longer."""


def tune_gc() -> None:
    """Tunes the garbage collector for the poll loop; called once, after start-up, before `Loop.run`.

    The start-up objects are frozen (never garbage: the collector leaves them alone, measured ~10 %), and
    young collections are spaced out (`GC_YOUNG_THRESHOLD`)."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


USAGE = """usage: omniclaude-consumer [--help]

Reads omniclaude's event topics from Kafka and writes them to PostgreSQL. Configured by OMNICLAUDE_*
environment variables (or config.env / secrets.env): at least OMNICLAUDE_KAFKA_BOOTSTRAP_SERVERS and
OMNICLAUDE_DATABASE_URL. Serves /health, /ready and /metrics on OMNICLAUDE_CONSUMER_HEALTH_HOST:PORT.
Exit codes: 0 stopped by SIGTERM/SIGINT, 1 refused to start, 3 stopped by the dead-letter limit.
"""


def build_loop(settings: ConsumerSettings, state: ConsumerState) -> Loop:
    """Wires the steps together from the settings."""
    kafka_config = settings.kafka_config()

    def source_factory() -> Source:
        topics = event_topics(settings.topic_prefix)
        wanted = [*topics, dead_letter_topic(settings.topic_prefix)]
        try:
            report = ensure_topics(settings, wanted, settings.topic_partitions, f"{settings.consumer_client_id}-admin")
        except KafkaUnavailable as exc:
            raise BrokerUnavailable(f"cannot use Kafka: {exc}") from None
        for name, problem in report.failed.items():
            log.warning("cannot create topic %s (it must then exist): %s", name, problem)
        return KafkaSource(
            topics,
            group=settings.consumer_group,
            config=kafka_config,
            max_poll_records=settings.consumer_max_poll_records,
            session_timeout_ms=settings.consumer_session_timeout_ms,
            auto_offset_reset=settings.consumer_auto_offset_reset,
            group_instance_id=settings.group_instance_id,
        )

    writer: Writer[Message] = Writer.for_url(settings.database_url, sslmode=settings.database_sslmode)
    return Loop(
        source_factory=source_factory,
        writer=writer,
        dead_letters=DeadLetterProducer(
            dead_letter_topic(settings.topic_prefix),
            settings.consumer_group,
            kafka_producer_factory(settings, settings.consumer_client_id),
        ),
        limit=DeadLetterLimit(settings.consumer_dlq_window, settings.consumer_dlq_max_share),
        state=state,
        topic_prefix=settings.topic_prefix,
        message_max_bytes=settings.consumer_message_max_bytes,
        poll_timeout_ms=settings.consumer_poll_timeout_ms,
        max_records=settings.consumer_max_poll_records,
        backoff=Backoff(settings.consumer_retry_backoff_ms / 1000, settings.consumer_retry_backoff_max_ms / 1000),
        check_schema=check_schema,
    )


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Runs the consumer; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        print(USAGE, file=sys.stdout if args[0] in ("-h", "--help") else sys.stderr, end="")
        return 0 if args[0] in ("-h", "--help") else 2
    try:
        settings = load_settings(environ)
        settings.kafka_config()
    except (SettingsError, KafkaConfigError) as exc:
        print(f"omniclaude-consumer: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(
        level=settings.consumer_log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLogger().level))
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter(settings.secrets()))
    state = ConsumerState(stall_seconds=settings.consumer_stall_seconds)
    try:
        server = HealthServer(state, settings.consumer_health_host, settings.consumer_health_port, tables=TABLES)
    except OSError as exc:
        print(
            f"omniclaude-consumer: cannot serve health on {settings.consumer_health_host}:"
            f"{settings.consumer_health_port}: {exc}",
            file=sys.stderr,
        )
        return 1
    server.start()
    loop = build_loop(settings, state)
    install_stop_handlers(loop.request_stop)
    tune_gc()
    log.info("starting: %r", settings)
    log.info("health server on http://%s:%d", settings.consumer_health_host, server.port)
    try:
        code = loop.run()
    finally:
        loop.close()
        server.stop()
    log.info("stopped (exit %d)", code)
    return code


if __name__ == "__main__":
    sys.exit(main())
