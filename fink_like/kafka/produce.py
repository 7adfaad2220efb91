"""The one Kafka producer module: every writer (data source sink, distribution publisher,
quarantine topic, notification channel, simulator) gets its producer from
:func:`producer_for`, with the one configuration :data:`PRODUCER_CONF`, sends with
:func:`send`, whose retry loop on a full local queue is written here only, counts
deliveries with :class:`Delivery` and waits for them with :func:`confirm`.

:func:`produce_batches` produces Arrow record batches and waits for every delivery
report. The columns follow Spark's JVM Kafka sink: ``value`` (required, binary or string),
``key``, ``topic``, ``partition`` and ``headers`` (``array<struct<key:string,value:binary>>``),
all optional. A ``topic`` given as an option wins over the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import pyarrow as pa
from confluent_kafka import KafkaException, Producer

from fink_like.errors import ConfigError, KafkaError
from fink_like.kafka.errors import check_connection, quiet, translate

# Large alerts: let librdkafka build big batches (lz4-compressed); bound how long a delivery may take.
PRODUCER_CONF = {"linger.ms": 20, "batch.size": 4 * 1024 * 1024, "message.timeout.ms": 60_000,
                 "message.max.bytes": 16 * 1024 * 1024, "compression.type": "lz4"}


@dataclass
class Delivery:
    """Counts of one write: messages and value bytes per topic, and the failures."""

    messages: int = 0
    bytes: int = 0
    per_topic: dict = field(default_factory=dict)
    failed: int = 0
    first_error: object = None
    first_error_topic: str | None = None

    def __call__(self, err, msg) -> None:  # the delivery callback
        if err is not None:
            self.failed += 1
            if self.first_error is None:
                self.first_error, self.first_error_topic = err, msg.topic()
            return
        self.messages += 1
        self.bytes += len(msg.value() or b"")
        self.per_topic[msg.topic()] = self.per_topic.get(msg.topic(), 0) + 1

    def cause(self, conf: dict | None = None) -> KafkaError | None:
        """The first failure in plain words (None when every delivery succeeded)."""
        if self.first_error is None:
            return None
        return translate(self.first_error, topic=self.first_error_topic, conf=conf)


def confirm(producer: Producer, report: Delivery, timeout: float, conf: dict | None = None) -> Delivery:
    """Wait up to ``timeout`` s for every delivery report; raise KafkaError on any failure.

    The message gives the failed count and the first cause in plain words, or the count
    still pending when the time ran out.
    """
    pending = producer.flush(timeout)
    if report.failed:
        raise KafkaError(f"{report.failed} of {report.failed + report.messages} messages were not "
                         f"delivered: {report.cause(conf)}")
    if pending:
        servers = (conf or {}).get("bootstrap.servers", "Kafka")
        raise KafkaError(f"{pending} messages still undelivered after {timeout:.0f} s to {servers}")
    return report


def check_columns(schema: pa.Schema, topic_option: str | None) -> None:
    """Raise ConfigError when the input cannot be written (no value, no topic, bad types)."""
    names = set(schema.names)
    if "value" not in names:
        raise ConfigError(f"writing to Kafka needs a 'value' column; the input has {sorted(names)}")
    if topic_option is None and "topic" not in names:
        raise ConfigError("writing to Kafka needs the option topic or a 'topic' column")
    for name in ("key", "value"):
        if name in names and not (pa.types.is_binary(schema.field(name).type)
                                  or pa.types.is_string(schema.field(name).type)
                                  or pa.types.is_large_binary(schema.field(name).type)):
            raise ConfigError(f"column {name!r} must be binary or string, not {schema.field(name).type}")


_PRODUCERS: dict[tuple, Producer] = {}


def producer_for(conf: dict, cached: bool = True) -> Producer:
    """A producer with :data:`PRODUCER_CONF` under ``conf`` (the client settings, which win).

    Cached per configuration and process by default (executors reuse it across batches).
    """
    full = quiet({**PRODUCER_CONF, **conf})
    if not cached:
        return Producer(full)
    key = tuple(sorted((k, str(v)) for k, v in full.items()))
    if key not in _PRODUCERS:
        _PRODUCERS[key] = Producer(full)
    return _PRODUCERS[key]


def send(producer: Producer, topic: str, value, *, key=None, on_delivery=None, headers=None,
         partition: int | None = None) -> None:
    """Produce one message; a full local queue is drained (delivery reports served) and retried."""
    kwargs = {"value": value, "on_delivery": on_delivery}
    if key is not None:
        kwargs["key"] = key
    if headers:
        kwargs["headers"] = headers
    if partition is not None:
        kwargs["partition"] = partition
    while True:
        try:
            producer.produce(topic, **kwargs)
            break
        except BufferError:
            producer.poll(0.2)  # local queue full: serve delivery reports, then retry
    producer.poll(0)


def _bytes(value):
    return value.encode("utf-8") if isinstance(value, str) else value


def produce_batches(conf: dict, batches: Iterable[pa.RecordBatch], topic: str | None = None,
                    flush_timeout: float = 120.0, connect_timeout: float = 10.0) -> Delivery:
    """Produce every row of ``batches``; return the counts once every delivery is confirmed.

    Raises
    ------
    fink_like.errors.KafkaError
        The servers cannot be reached within ``connect_timeout`` s, a delivery failed
        (the message gives the count and the first cause), or deliveries were still
        pending after ``flush_timeout`` s.
    """
    check_connection(conf, connect_timeout)
    report = Delivery()
    producer = producer_for(conf, cached=False)
    for batch in batches:
        check_columns(batch.schema, topic)
        cols = {name: batch.column(name).to_pylist() for name in batch.schema.names}
        for i in range(batch.num_rows):
            _produce_one(producer, report, topic or cols["topic"][i], cols, i, conf)
    return confirm(producer, report, flush_timeout, conf)


def _produce_one(producer: Producer, report: Delivery, topic, cols: dict, i: int, conf: dict) -> None:
    if not topic:
        raise ConfigError(f"row {i} has no topic: set the option topic or fill the 'topic' column")
    key = cols["key"][i] if cols.get("key") is not None else None
    partition = cols["partition"][i] if cols.get("partition") is not None else None
    headers = cols["headers"][i] if cols.get("headers") is not None else None
    try:
        send(producer, topic, _bytes(cols["value"][i]), key=None if key is None else _bytes(key),
             on_delivery=report, partition=None if partition is None else int(partition),
             headers=[(h["key"], h["value"]) for h in headers] if headers else None)
    except KafkaException as exc:
        raise translate(exc, topic=topic, conf=conf) from exc
