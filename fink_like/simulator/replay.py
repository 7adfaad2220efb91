"""Produce messages into a Kafka topic at a steady rate and report what was achieved."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Iterable

from fink_like.errors import KafkaError

# The replay's local queue is capped at 256 MB: a burst sent "as fast as possible" waits for
# the broker (``send`` retries on a full queue) instead of holding gigabytes in the producer.
REPLAY_QUEUE = {"queue.buffering.max.kbytes": 262_144}


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
    return replay_many([(topic, messages)], conf, rate, flush_timeout, create_topic)


def replay_many(batches: Iterable[tuple[str, Iterable[tuple[bytes, bytes]]]], conf: dict,
                rate: float | None = None, flush_timeout: float = 60.0,
                create_topic: bool = True, roll: int = 0) -> ReplayReport:
    """Replay several ``(topic, messages)`` streams at once, interleaved, ``rate`` alerts/s in all.

    The report's ``topic`` lists the topics, comma-separated. With ``roll`` > 0 each
    stream is written as segments of ``roll`` messages (``fink_like.kafka.retention``).
    """
    from fink_like.kafka.produce import Delivery, producer_for, send

    if rate is not None and rate <= 0:
        raise KafkaError(f"replay rate must be positive, got {rate}")
    batches = list(batches)  # the streams themselves are read as they are sent, never copied
    if create_topic:
        from fink_like.kafka.admin import ensure_topics

        ensure_topics(conf, [topic for topic, _ in batches])
    producer = producer_for({**REPLAY_QUEUE, **conf}, cached=False)
    report = Delivery()

    start = time.monotonic()
    segments = _Segments(conf, roll)
    for i, (topic, j, key, value) in enumerate(_interleave(batches)):
        if rate is not None:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the producer to the requested rate
        send(producer, segments.topic(topic, j), value, key=key, on_delivery=report)
    left = producer.flush(flush_timeout)  # not confirm(): a replay reports partial delivery
    seconds = time.monotonic() - start
    topics = ",".join(topic for topic, _ in batches)
    if report.failed and not report.messages:
        raise KafkaError(f"no message reached {topics!r}: {report.cause(conf)}")
    return ReplayReport(topics, report.messages, report.failed + left, report.bytes, seconds)


def _interleave(batches):
    """Round-robin over the streams so that every topic flows from the start.

    Streams are iterated lazily (a spool on disk replays in bounded memory): message
    ``i`` of every stream that still has one, then message ``i + 1``, and so on.
    """
    streams = [(topic, iter(messages)) for topic, messages in batches]
    i = 0
    while streams:
        alive = []
        for topic, stream in streams:
            for key, value in stream:
                yield topic, i, key, value
                alive.append((topic, stream))
                break
        streams, i = alive, i + 1


class _Segments:
    """The topic each message goes to: the stream's own, or its segment (created before use)."""

    def __init__(self, conf: dict, roll: int):
        self.conf, self.roll, self.created = conf, roll, set()

    def topic(self, topic: str, index: int) -> str:
        if self.roll <= 0:
            return topic
        from fink_like.kafka.admin import ensure_topics
        from fink_like.kafka.retention import segment_topic

        name = segment_topic(topic, index // self.roll)
        if name not in self.created:
            ensure_topics(self.conf, [name])
            self.created.add(name)
        return name
