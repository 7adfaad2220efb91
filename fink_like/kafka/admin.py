"""Topic administration and offset look-ups: create, list, watermarks.

Every function takes a confluent-kafka configuration dict (see
:func:`fink_like.kafka.conf.client_conf`) and raises
:class:`fink_like.errors.KafkaError` in plain words.

Watermarks are *probed*: tansu (the embedded broker) reports the high watermark of a
partition as the base offset of its last record batch plus one, which is short by the
size of that batch. :func:`true_high` reads from ``reported - 1`` to the end-of-partition
event; on a real Kafka broker this reads one message.
"""

from __future__ import annotations

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka import KafkaError as RdError

from fink_like.errors import KafkaError, KafkaUnavailable
from fink_like.kafka.errors import check_connection, quiet, translate

_PROBE_CONF = {
    "group.id": "fink-like-offsets",   # required by the client; no group is ever joined
    "enable.auto.commit": False,
    "enable.partition.eof": True,
    "fetch.wait.max.ms": 10,
    # Probes read a few messages at the end of a partition: no deep prefetch of 100 KB alerts.
    "queued.max.messages.kbytes": 4096,
    "max.partition.fetch.bytes": 1 << 20,
}


def list_topics(conf: dict, timeout: float = 5.0) -> list[str]:
    """The sorted names of the cluster's topics, internal ones (``__*``) left out."""
    meta = check_connection(conf, timeout)
    return sorted(t for t in meta.topics if not t.startswith("__"))


def ensure_topics(conf: dict, topics: list[str], partitions: int = 1, timeout: float = 10.0) -> list[str]:
    """Create the topics that do not exist yet; return the names created (idempotent).

    Raises
    ------
    fink_like.errors.KafkaError
        The cluster is unreachable or refuses to create a topic (the message names it).
    """
    from confluent_kafka.admin import NewTopic

    if partitions < 1:
        raise KafkaError(f"partitions must be at least 1, got {partitions}")
    existing = set(check_connection(conf, timeout).topics)
    missing = [t for t in dict.fromkeys(topics) if t not in existing]
    if not missing:
        return []
    admin = _admin(conf)  # held until the futures settle: a collected client cancels them
    futures = admin.create_topics([NewTopic(t, partitions, 1) for t in missing], request_timeout=timeout)
    return _settle(futures, RdError.TOPIC_ALREADY_EXISTS, conf, timeout)  # a concurrent creator won


def delete_topics(conf: dict, topics: list[str], timeout: float = 10.0) -> list[str]:
    """Delete the topics that exist among ``topics``; return the names deleted.

    Raises
    ------
    fink_like.errors.KafkaError
        The cluster is unreachable or refuses to delete a topic (the message names it).
    """
    existing = set(check_connection(conf, timeout).topics)
    present = [t for t in dict.fromkeys(topics) if t in existing]
    if not present:
        return []
    admin = _admin(conf)  # held until the futures settle
    futures = admin.delete_topics(present, request_timeout=timeout)
    return _settle(futures, RdError.UNKNOWN_TOPIC_OR_PART, conf, timeout)  # a concurrent deleter won


def _admin(conf: dict):
    from confluent_kafka.admin import AdminClient

    return AdminClient(quiet({k: v for k, v in conf.items() if not k.startswith(("group.", "enable.auto"))}))


def _settle(futures: dict, benign: int, conf: dict, timeout: float) -> list[str]:
    """The topics whose admin request succeeded; ``benign`` errors are skipped, others raised."""
    done = []
    for topic, future in futures.items():
        try:
            future.result(timeout)
            done.append(topic)
        except KafkaException as exc:
            if exc.args[0].code() != benign:
                raise translate(exc, topic=topic, conf=conf) from exc
    return done


def watermarks(conf: dict, topic: str, timeout: float = 5.0) -> dict[int, tuple[int, int]]:
    """``{partition: (low, high)}`` of one topic; ``high`` is the offset after the last message.

    Raises
    ------
    fink_like.errors.KafkaError
        The topic does not exist (named) or the cluster is unreachable.
    """
    meta = check_connection(conf, timeout)
    if topic not in meta.topics or meta.topics[topic].error is not None:
        raise KafkaError(f"topic {topic!r} does not exist on {conf.get('bootstrap.servers')}")
    parts = sorted(meta.topics[topic].partitions)
    consumer = offsets_consumer(conf)
    try:
        return {p: partition_watermarks(consumer, topic, p, timeout) for p in parts}
    finally:
        consumer.close()


def offsets_consumer(conf: dict) -> Consumer:
    """A consumer for offset look-ups and probes (assign() only, no group membership)."""
    return Consumer(quiet({**conf, **_PROBE_CONF}))


def partition_watermarks(consumer: Consumer, topic: str, partition: int, timeout: float = 5.0) -> tuple[int, int]:
    """``(low, high)`` of one partition, with ``high`` probed by :func:`true_high`."""
    low, reported = reported_watermarks(consumer, topic, partition, timeout)
    return low, true_high(consumer, topic, partition, low, reported, timeout)


def reported_watermarks(consumer: Consumer, topic: str, partition: int, timeout: float = 5.0) -> tuple[int, int]:
    """``(low, high)`` of one partition as the broker reports them (``high`` not probed)."""
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout, cached=False)
    except KafkaException as exc:
        raise translate(exc, topic=topic, conf=getattr(consumer, "_conf", None)) from exc


PROBE_LIMIT = 2000
"""At most this many messages are read past the reported high watermark by one probe."""
PROBE_BYTES = 8 << 20
"""... and at most about this many bytes (a few dozen alerts of 100 KB)."""


def true_high(consumer: Consumer, topic: str, partition: int, low: int, reported: int,
              timeout: float = 5.0, limit: int = PROBE_LIMIT, max_bytes: int = PROBE_BYTES) -> int:
    """The offset after the last message, reading from ``reported - 1`` to end-of-partition.

    Some brokers (the embedded one) report a high watermark that lags the last produced
    batch, and would leave a finished stream's last messages unread: the probe finds
    them. While a producer keeps appending, the end moves away as fast as it is read, so
    the probe stops after ``limit`` messages or ``max_bytes``: every offset below the one
    it returns exists, which is all a reader needs (the rest is found by the next probe).
    """
    if reported <= low:
        return reported
    consumer.assign([TopicPartition(topic, partition, reported - 1)])
    last = reported - 1
    read = 0
    try:
        for _ in range(limit):
            if read >= max_bytes:
                break
            msg = consumer.poll(timeout)
            if msg is None:
                raise KafkaUnavailable(f"no answer from Kafka within {timeout} s while reading the end "
                                 f"of {topic}[{partition}]")
            err = msg.error()
            if err is None:
                last = max(last, msg.offset())
                read += len(msg.value() or b"")
            elif err.code() == RdError._PARTITION_EOF:
                return max(last + 1, reported)
            elif not err.retriable():
                raise translate(err, topic=topic)
        return max(last + 1, reported)
    finally:
        consumer.unassign()
