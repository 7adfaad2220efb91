"""The subscribers' consumer: decoded alerts from fink-like topics.

Offsets are committed only when the caller says the alerts are safe (``commit``), or,
in :func:`consume`, when the iterator is asked for the alert after a batch (the batch
has then been processed). A crash can therefore redeliver alerts, never lose them:
deduplicate on ``alert.key`` (the alert id).

Partitions are *assigned* from the topic metadata and start at the group's committed
offsets, so no group join is needed (joins are slow on some brokers); offsets are still
stored in the group. A topic written as time segments ``T.<n>`` (the embedded broker with
``distribution.retention_seconds``) is read segment by segment: new segments are picked
up every :data:`REFRESH_SECONDS` from their start, expired ones are dropped. ``balance=True`` uses a classic group subscription instead, so
several processes share the partitions.

Examples
--------
>>> for alert in consume(["fink-like.sn_candidates"], conf, group="me"):  # doctest: +SKIP
...     print(alert.key, alert["object_id"], alert["snia_prob"])
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Iterator

from fink_like.distribution.encoder import decode_message
from fink_like.distribution.publisher import DEFAULT_SCHEMA_TOPIC
from fink_like.distribution.registry import SchemaRegistry
from fink_like.errors import AlertError, KafkaError

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0
"""How often an assigned consumer looks for new (and deleted) time segments of its topics."""


@dataclass
class Alert:
    """One received alert: Kafka coordinates, the dedupe key, the schema id and the record."""

    topic: str
    partition: int
    offset: int
    key: str
    schema_id: int
    data: dict
    headers: dict = None  # Kafka headers, decoded: fink_like.filter, fink_like.filter_version

    @property
    def filter(self) -> tuple[str, int] | None:
        """``(name, version)`` of the filter that selected this alert, from its headers."""
        h = self.headers or {}
        if "fink_like.filter" not in h:
            return None
        return h["fink_like.filter"], int(h.get("fink_like.filter_version", "0"))

    def __getitem__(self, name):
        return self.data[name]

    def get(self, name, default=None):
        return self.data.get(name, default)


class AlertConsumer:
    """Polls topics and decodes messages with writer schemas from the registry.

    Parameters
    ----------
    topics
        Topic names.
    conf
        confluent-kafka client settings (servers, TLS, SASL), e.g. from ``client_conf``.
    group
        Consumer group whose committed offsets are resumed and updated (default: a fresh one).
    from_beginning
        Where to start in partitions without committed offsets (else: only new alerts).
    schema_dirs, schema_topic
        Where writer schemas are looked up (the schema topic fetches unknown ids).
    reader_schema
        Optional parsed Avro schema to project records on (fields the client knows).
    balance
        Join the group with ``subscribe()`` instead of assigning every partition.
    """

    def __init__(self, topics: list[str], conf: dict, group: str | None = None, from_beginning: bool = False,
                 schema_dirs=(), schema_topic: str = DEFAULT_SCHEMA_TOPIC, reader_schema=None,
                 balance: bool = False):
        from confluent_kafka import Consumer

        from fink_like.kafka.errors import quiet

        if not topics:
            raise KafkaError("no topic given to consume")
        self.topics, self.conf = list(topics), dict(conf)
        self.group = group or f"fink-like-client-{uuid.uuid4().hex[:8]}"
        self.registry = SchemaRegistry(schema_dirs, self.conf, schema_topic)
        self.reader_schema = reader_schema
        self.skipped = 0
        self.ends: dict[tuple[str, int], int] = {}  # (topic, partition) -> end offset at assignment
        self._start: dict[tuple[str, int], int] = {}
        reset = "earliest" if from_beginning else "latest"
        self._consumer_conf = quiet({**self.conf, "group.id": self.group, "enable.auto.commit": False,
                                     "auto.offset.reset": reset, "enable.partition.eof": False})
        self._consumer = Consumer(self._consumer_conf)
        self._assigned: list[str] | None = None   # assigned topics and segments (not with balance)
        self._finished: set[str] = set()           # closed segments read to their end, let go
        if balance:
            self._consumer.subscribe(self.topics)
        else:
            self._assign(from_beginning)

    def _assign(self, from_beginning: bool) -> None:
        from fink_like.kafka.errors import check_connection

        self._assigned = self._targets(check_connection(self.conf))
        self._refreshed = time.monotonic()
        self._assign_all(self._start_offsets(self._assigned, from_beginning))

    def _targets(self, meta) -> list[str]:
        """Each topic, then its time segments oldest first (``distribution.retention_seconds``
        on the embedded broker writes ``T.<n>``, deleted once expired)."""
        from fink_like.kafka.retention import split_segment

        out = []
        for topic in self.topics:
            info = meta.topics.get(topic)
            plain = [topic] if info is not None and info.error is None else []
            segments = sorted((t for t in meta.topics if (split_segment(t) or ("",))[0] == topic
                               and meta.topics[t].error is None), key=lambda t: split_segment(t)[1])
            if not plain and not segments:
                raise KafkaError(f"topic {topic!r} does not exist on {self.conf.get('bootstrap.servers')}")
            out += plain + segments
        return out

    def _start_offsets(self, topics: list[str], from_beginning: bool, meta=None) -> list:
        """Every partition of ``topics`` at the group's committed offset, else the earliest
        (``from_beginning``) or latest one."""
        from confluent_kafka import TopicPartition

        from fink_like.kafka.admin import offsets_consumer, partition_watermarks
        from fink_like.kafka.errors import check_connection, translate

        meta = meta or check_connection(self.conf)
        wanted = [TopicPartition(t, p) for t in topics for p in sorted(meta.topics[t].partitions)]
        try:
            committed = self._consumer.committed(wanted, timeout=10)
        except Exception as exc:  # KafkaException: group coordinator unreachable, denied...
            raise translate(exc, conf=self.conf) from exc
        probe = offsets_consumer(self.conf)
        try:
            for tp in committed:
                low, high = partition_watermarks(probe, tp.topic, tp.partition)
                self.ends[(tp.topic, tp.partition)] = high
                if tp.offset < 0:
                    tp.offset = low if from_beginning else high
        finally:
            probe.close()
        return committed

    def _follow_segments(self) -> None:
        if time.monotonic() - self._refreshed >= REFRESH_SECONDS:
            self.refresh_segments()

    def refresh_segments(self) -> None:
        """Read new time segments from their start; let go of deleted ones and of closed
        ones read to their end (at least :data:`~fink_like.kafka.retention.KEEP` behind the
        newest), before the broker's retention deletes them: librdkafka crashes when a
        topic it is assigned is deleted (tansu 0.6.0, docs/kafka.md)."""
        from fink_like.kafka.errors import check_connection

        self._refreshed = time.monotonic()
        meta = check_connection(self.conf)
        current = self._targets(meta)
        positions = self._consumer.position(self._consumer.assignment())
        self._finished |= self._read_closed(current, positions)
        current = [t for t in current if t not in self._finished]
        new = [t for t in current if t not in self._assigned]
        if not new and current == self._assigned:
            return
        # A fresh librdkafka consumer for the new set, kept partitions resuming where they
        # are: one that ever held a topic deleted since crashes (segfault) at a later
        # metadata refresh (librdkafka with tansu 0.6.0, measured).
        from confluent_kafka import Consumer

        kept = []
        for tp in positions:
            if tp.topic in current:
                tp.offset = tp.offset if tp.offset >= 0 else self._start[(tp.topic, tp.partition)]
                kept.append(tp)
        previous, self._consumer = self._consumer, Consumer(self._consumer_conf)
        previous.close()
        self._assign_all(kept + self._start_offsets(new, True, meta))
        self._assigned = current

    def _read_closed(self, topics: list[str], positions: list) -> set[str]:
        """Assigned segments that no publisher writes any more, read to their end."""
        from fink_like.kafka.admin import offsets_consumer, partition_watermarks
        from fink_like.kafka.retention import closed

        where = {(tp.topic, tp.partition): (tp.offset if tp.offset >= 0 else self._start[(tp.topic, tp.partition)])
                 for tp in positions}
        candidates = [t for t in self._assigned if t in topics and closed(t, topics)]
        if not candidates:
            return set()
        probe = offsets_consumer(self.conf)
        try:
            return {t for t in candidates
                    if all(where[(t, p)] >= partition_watermarks(probe, t, p)[1]
                           for (topic, p) in where if topic == t)}
        finally:
            probe.close()

    def _assign_all(self, partitions: list) -> None:
        self._start = {(tp.topic, tp.partition): tp.offset for tp in partitions}
        self.ends = {key: end for key, end in self.ends.items() if key in self._start}
        self._consumer.assign(partitions)

    def behind(self) -> list[str]:
        """``topic[partition]`` of each assigned partition not yet read up to its end at assignment.

        The ends are the probed high watermarks (:func:`fink_like.kafka.admin.partition_watermarks`)
        taken when the partitions were assigned; the position counts skipped messages too.
        """
        from confluent_kafka import TopicPartition

        if not self.ends:
            return []
        positions = self._consumer.position([TopicPartition(t, p) for t, p in self.ends])
        done = {(tp.topic, tp.partition): tp.offset for tp in positions}
        return [f"{t}[{p}]" for (t, p), end in sorted(self.ends.items())
                if max(done[(t, p)], self._start[(t, p)]) < end]  # position < 0: nothing read yet

    def received(self, max_messages: int = 100, timeout: float = 1.0) -> list:
        """Up to ``max_messages`` raw messages; retriable errors skipped, others raised in plain words."""
        from fink_like.kafka.errors import translate
        from fink_like.kafka.retention import split_segment

        if self._assigned is not None:
            self._follow_segments()
        out = []
        for msg in self._consumer.consume(max_messages, timeout):
            err = msg.error()
            if err is not None:
                if err.retriable() or (split_segment(msg.topic() or "") and _gone(err)):
                    continue  # an expired segment deleted under us: dropped at the next refresh
                raise translate(err, topic=msg.topic(), conf=self.conf)
            out.append(msg)
        return out

    def poll(self, max_messages: int = 100, timeout: float = 1.0) -> list[Alert]:
        """Up to ``max_messages`` decoded alerts (fewer if none arrive within ``timeout`` s)."""
        alerts = []
        for msg in self.received(max_messages, timeout):
            try:
                sid, record = decode_message(msg.value(), self.registry, self.reader_schema)
            except AlertError as exc:
                self.skipped += 1
                log.warning("skipped %s[%d]@%d: %s", msg.topic(), msg.partition(), msg.offset(), exc)
                continue
            key = msg.key().decode() if msg.key() else str(record.get("alert_id"))
            headers = {k: (v or b"").decode(errors="replace") for k, v in (msg.headers() or [])}
            alerts.append(Alert(msg.topic(), msg.partition(), msg.offset(), key, sid, record, headers))
        return alerts

    def commit(self, alerts: list[Alert]) -> None:
        """Store, synchronously, the offsets after ``alerts`` in the group."""
        from confluent_kafka import TopicPartition

        from fink_like.kafka.errors import translate

        ends: dict[tuple[str, int], int] = {}
        for a in alerts:
            ends[(a.topic, a.partition)] = max(ends.get((a.topic, a.partition), 0), a.offset + 1)
        if not ends:
            return
        try:
            self._consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in ends.items()],
                                  asynchronous=False)
        except Exception as exc:
            raise translate(exc, conf=self.conf) from exc

    def close(self) -> None:
        self._consumer.close()

    def __enter__(self) -> "AlertConsumer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _gone(err) -> bool:
    from confluent_kafka import KafkaError as Err

    return err.code() in (Err.UNKNOWN_TOPIC_OR_PART, Err._UNKNOWN_PARTITION, Err._UNKNOWN_TOPIC)


def consume(topics: list[str], conf: dict, *, group: str | None = None, from_beginning: bool = False,
            max_alerts: int | None = None, idle_timeout: float | None = None, batch: int = 100,
            until_end: bool = False, **kwargs) -> Iterator[Alert]:
    """Iterate over decoded alerts; offsets of a batch are committed once it is consumed.

    Stops after ``max_alerts`` alerts, or after ``idle_timeout`` seconds without any;
    runs forever when both are None. With ``until_end``, stops as soon as every partition
    is read up to the end it had when the partitions were assigned (deterministic, what
    tests and exports want); ``idle_timeout`` then bounds a stall: reaching it before the
    end raises KafkaError naming the partitions left behind. Other keyword arguments go
    to :class:`AlertConsumer`.
    """
    if until_end and kwargs.get("balance"):
        raise KafkaError("until_end needs assigned partitions: it cannot be combined with balance=True")
    with AlertConsumer(topics, conf, group=group, from_beginning=from_beginning, **kwargs) as consumer:
        for alerts in polled_batches(consumer, max_alerts=max_alerts, idle_timeout=idle_timeout, batch=batch,
                                     until_end=until_end):
            yield from alerts


def polled_batches(consumer: AlertConsumer, *, max_alerts: int | None = None, idle_timeout: float | None = None,
                   batch: int = 100, until_end: bool = False) -> Iterator[list[Alert]]:
    """Batches of ``consumer.poll``; a batch's offsets are committed when the next is asked for.

    Stops after ``max_alerts`` messages, or after ``idle_timeout`` seconds without any;
    runs forever when both are None. With ``until_end``, stops once every partition is
    read up to its end at assignment (:meth:`AlertConsumer.behind`), and reaching
    ``idle_timeout`` first raises KafkaError naming the partitions left behind. A
    caller that stops early leaves its last batch uncommitted, so it is read again
    (at-least-once).
    """
    seen = 0
    last = time.monotonic()
    while max_alerts is None or seen < max_alerts:
        if until_end and not consumer.behind():
            return
        want = batch if max_alerts is None else min(batch, max_alerts - seen)
        skipped = consumer.skipped
        alerts = consumer.poll(want, timeout=1.0)
        if skipped != consumer.skipped:  # undecodable messages are progress too
            last = time.monotonic()
        if not alerts:
            if idle_timeout is not None and time.monotonic() - last >= idle_timeout:
                if until_end:
                    raise KafkaError(f"nothing received for {idle_timeout:.0f} s before the end of "
                                     f"{', '.join(consumer.behind())}")
                return
            continue
        last = time.monotonic()
        yield alerts
        seen += len(alerts)
        consumer.commit(alerts)
