"""Produce messages into a Kafka topic at a steady rate and report what was achieved."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Iterable

from fink_like.errors import KafkaError

_PRODUCER_DEFAULTS = {"linger.ms": 5, "message.max.bytes": 10_000_000, "enable.idempotence": False}


@dataclass(frozen=True)
class ReplayReport:
    """What a replay delivered: acknowledged messages, failures, bytes and wall time."""

    topic: str
    sent: int
    failed: int
    bytes: int
    seconds: float

    @property
    def rate(self) -> float:
        """Delivered alerts per second."""
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        """Delivered megabytes (10**6 bytes) per second."""
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "alerts_per_s": round(self.rate, 1), "mb_per_s": round(self.mb_per_s, 2)}


def ensure_topic(conf: dict, topic: str, partitions: int = 1, timeout: float = 30.0) -> None:
    """Create ``topic`` unless it exists (brokers may not auto-create topics)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(conf)
    try:
        if topic in admin.list_topics(timeout=timeout).topics:
            return
        future = admin.create_topics([NewTopic(topic, partitions, 1)])[topic]
        future.result(timeout)
    except KafkaException as exc:
        if "TOPIC_ALREADY_EXISTS" in str(exc):
            return
        raise KafkaError(f"cannot create topic {topic!r} on {conf.get('bootstrap.servers')}: {exc}") from exc


def replay(messages: Iterable[tuple[bytes, bytes]], topic: str, conf: dict, rate: float | None = None,
           flush_timeout: float = 60.0, create_topic: bool = True) -> ReplayReport:
    """Produce ``(key, value)`` messages into ``topic``, paced at ``rate`` alerts/s.

    Parameters
    ----------
    messages
        Keys and wire-format values (:func:`~fink_like.simulator.messages.load_messages`).
    conf
        confluent-kafka producer settings (``fink_like.kafka.conf.client_conf``).
    rate
        Target alerts per second; ``None`` sends as fast as the producer accepts.
    flush_timeout
        Seconds to wait at the end for outstanding acknowledgements.

    Returns
    -------
    ReplayReport
        ``sent`` counts acknowledged messages only; ``failed`` the rest.
    """
    from confluent_kafka import Producer

    if rate is not None and rate <= 0:
        raise KafkaError(f"replay rate must be positive, got {rate}")
    if create_topic:
        ensure_topic(conf, topic)
    producer = Producer({**_PRODUCER_DEFAULTS, **conf})
    state = {"ok": 0, "failed": 0, "bytes": 0, "error": None}

    def on_delivery(err, msg):
        if err is None:
            state["ok"] += 1
            state["bytes"] += len(msg.value())
        else:
            state["failed"] += 1
            state["error"] = err

    start = time.monotonic()
    for i, (key, value) in enumerate(messages):
        if rate is not None:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the producer to the requested rate
        _produce(producer, topic, key, value, on_delivery)
    left = producer.flush(flush_timeout)
    seconds = time.monotonic() - start
    if state["error"] is not None and not state["ok"]:
        raise KafkaError(f"no message reached topic {topic!r}: {state['error']}")
    return ReplayReport(topic, state["ok"], state["failed"] + left, state["bytes"], seconds)


def _produce(producer, topic, key, value, on_delivery) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
            producer.poll(0)
            return
        except BufferError:  # local queue full: serve callbacks, then retry
            producer.poll(0.05)
