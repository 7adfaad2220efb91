"""``finkkafka``: a Spark Python Data Source for Kafka on confluent-kafka.

Rows have the schema of Spark's JVM connector (``format("kafka")`` with
``includeHeaders=true``), so configuration can switch to it where a cluster ships
spark-sql-kafka. Offsets in the checkpoint have its JSON shape, ``{"topic": {"0": 23}}``.

Executors read exact offset ranges with assign() and seek: no consumer group, nothing
committed to Kafka, and a replayed micro-batch reads the same messages again. The
driver-side readers hold one client for metadata; it is never pickled.
See ``docs/kafka.md`` for the options.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import pyarrow as pa
from pyspark.sql.datasource import (
    DataSource, DataSourceArrowWriter, DataSourceReader, DataSourceStreamArrowWriter,
    DataSourceStreamReader, InputPartition, WriterCommitMessage,
)
from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadMaxRows, SupportsTriggerAvailableNow

from fink_like.errors import ConfigError, KafkaError, KafkaUnavailable
from fink_like.kafka import offsets as off
from fink_like.kafka.admin import offsets_consumer, reported_watermarks, true_high
from fink_like.kafka.consume import SPARK_SCHEMA, read_range
from fink_like.kafka.errors import translate
from fink_like.kafka.options import ReadOptions, WriteOptions, parse_read_options, parse_write_options
from fink_like.kafka.produce import check_columns, produce_batches
from fink_like.retry import retry

LOG = logging.getLogger("fink_like.kafka.datasource")


class KafkaDataSource(DataSource):
    """Kafka topics as a streaming or batch DataFrame, and as a streaming or batch sink."""

    @classmethod
    def name(cls) -> str:
        return "finkkafka"

    def schema(self) -> str:
        if self.options.get("fetch", "eager").strip().lower() == "deferred":
            return RANGES_SCHEMA
        return SPARK_SCHEMA

    def reader(self, schema) -> "KafkaBatchReader":
        return KafkaBatchReader(parse_read_options(self.options))

    def streamReader(self, schema) -> "KafkaStreamReader":
        return KafkaStreamReader(parse_read_options(self.options))

    def writer(self, schema, overwrite: bool) -> "KafkaBatchWriter":
        if overwrite:
            raise ConfigError("Kafka topics cannot be overwritten: write with mode('append')")
        return KafkaBatchWriter(_write_options(self.options, schema))

    def streamWriter(self, schema, overwrite: bool) -> "KafkaStreamWriter":
        return KafkaStreamWriter(_write_options(self.options, schema))


def _write_options(options, schema) -> WriteOptions:
    from pyspark.sql.pandas.types import to_arrow_schema

    opts = parse_write_options(options)
    check_columns(to_arrow_schema(schema, timezone="UTC"), opts.topic)
    return opts


class KafkaRange(InputPartition):
    """Offsets ``[start, end)`` of one topic-partition: one Spark task."""

    def __init__(self, topic: str, partition: int, start: int, end: int):
        super().__init__((topic, partition, start, end))
        self.topic, self.partition, self.start, self.end = topic, partition, start, end


RANGES_SCHEMA = "topic string, partition int, startOffset long, endOffset long"
"""Rows of a ``fetch=deferred`` reader: one offset range per Spark task."""


def _read(opts: ReadOptions, part: KafkaRange):
    if opts.fetch == "deferred":
        return iter([pa.RecordBatch.from_pylist(
            [{"topic": part.topic, "partition": part.partition,
              "startOffset": part.start, "endOffset": part.end}],
            schema=pa.schema([("topic", pa.string()), ("partition", pa.int32()),
                              ("startOffset", pa.int64()), ("endOffset", pa.int64())]))])
    return read_range(opts.conf, part.topic, part.partition, part.start, part.end,
                      chunk_size=opts.chunk_size, poll_timeout=opts.poll_timeout,
                      fail_on_data_loss=opts.fail_on_data_loss)


class _Cluster:
    """Driver-side metadata: the subscribed topic-partitions and their (low, high) offsets."""

    def __init__(self, opts: ReadOptions, timeout: float = 10.0):
        self.opts, self.timeout = opts, timeout
        self.consumer = offsets_consumer(opts.conf)
        self._seen: dict[off.TopicPartition, tuple[int, int]] = {}  # (reported, bound) last time
        self.probed: set[off.TopicPartition] = set()  # whose last bound is the probed true end

    def partitions(self) -> list[off.TopicPartition]:
        """The subscribed topic-partitions; an unanswered metadata request is retried."""
        return retry(self._partitions, "kafka metadata", transient=(KafkaUnavailable,))

    def _partitions(self) -> list[off.TopicPartition]:
        try:
            meta = self.consumer.list_topics(timeout=self.timeout)
        except Exception as exc:  # KafkaException; translated with the servers named
            raise translate(exc, conf=self.opts.conf) from exc
        wanted = re.compile(self.opts.pattern) if self.opts.pattern else None
        out = []
        for name, topic in meta.topics.items():
            chosen = wanted.fullmatch(name) if wanted else name in self.opts.topics
            if chosen and topic.error is None and not name.startswith("__"):
                out.extend((name, p) for p in topic.partitions)
        return sorted(out)

    def bounds(self, tps) -> dict[off.TopicPartition, tuple[int, int]]:
        """``(low, high)`` per partition; ``high`` probed only when the reported one stood still.

        A broker that reports a lagging high watermark (see ``admin.true_high``) hides at
        most the last batch produced. While producers append, the reported value moves
        at every trigger and that batch is read at the next one, so probing (reading
        messages at the end of the partition) would only compete with the executors for
        the broker; when the reported value stops moving, the stream has paused or ended
        and the probe finds the tail. Bounds never go backwards. A broker that does not
        answer (restarting, frozen) is retried with bounded backoff (``fink_like.retry``).
        """
        return retry(lambda: self._bounds(tps), "kafka watermarks", transient=(KafkaUnavailable,))

    def _bounds(self, tps) -> dict[off.TopicPartition, tuple[int, int]]:
        out = {}
        for tp in tps:
            low, reported = reported_watermarks(self.consumer, tp[0], tp[1], self.timeout)
            previous = self._seen.get(tp)
            if previous is not None and reported > previous[0]:
                high = max(reported, previous[1])
                self.probed.discard(tp)
            else:
                high = max(self._probe(tp, low, reported), previous[1] if previous else 0)
                self.probed.add(tp)
            self._seen[tp] = (reported, high)
            out[tp] = (low, high)
        return out

    def _probe(self, tp, low: int, reported: int) -> int:
        """:func:`true_high` with a consumer of its own, closed after.

        A librdkafka consumer once assigned a topic that is deleted later crashes the
        process at its next assignment (tansu; the driver deletes read segments while
        this planner runs, docs/kafka.md), so the long-lived consumer is never assigned.
        """
        probe = offsets_consumer(self.opts.conf)
        try:
            return true_high(probe, tp[0], tp[1], low, reported, self.timeout)
        finally:
            probe.close()

    def close(self) -> None:
        self.consumer.close()


def _ranges(start: off.Flat, end: off.Flat, max_records: int, min_pieces: int = 1) -> list[KafkaRange]:
    spans = [(t, p, start[(t, p)], e) for (t, p), e in sorted(end.items()) if e > start[(t, p)]]
    return [KafkaRange(*span) for span in off.split(spans, max_records, min_pieces)]


class KafkaStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Micro-batches of Kafka offsets; admission control by ``maxOffsetsPerTrigger``."""

    def __init__(self, opts: ReadOptions):
        self.opts = opts
        self._target: off.Flat | None = None
        self._client: _Cluster | None = None

    def __getstate__(self):
        return {**self.__dict__, "_client": None}

    @property
    def _cluster(self) -> _Cluster:
        if self._client is None:
            self._client = _Cluster(self.opts)
        return self._client

    def initialOffset(self) -> dict:
        spec = off.parse_spec(self.opts.starting, "startingOffsets")
        bounds = self._cluster.bounds(self._cluster.partitions())
        return off.to_json(off.resolve(spec, bounds, "earliest"))

    def getDefaultReadLimit(self):
        n = self.opts.max_offsets_per_trigger
        return ReadMaxRows(n) if n else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        bounds = self._cluster.bounds(self._cluster.partitions())
        self._target = {tp: high for tp, (_, high) in bounds.items()}

    def latestOffset(self, start: dict, limit) -> dict:
        begin = off.from_json(start)
        tps = self._cluster.partitions()
        if self._target is not None:  # availableNow: nothing beyond the target
            tps = [tp for tp in tps if tp in self._target]
        tps = [tp for tp in tps if not self._finished(tp, begin, tps)]
        bounds = self._cluster.bounds(tps)
        latest = {}
        for tp, (low, high) in bounds.items():
            if self._target is not None:
                high = min(high, self._target[tp])
            begin.setdefault(tp, low)  # a partition that appeared: read it from the earliest
            latest[tp] = max(high, begin[tp])
        max_rows = limit.max_rows if isinstance(limit, ReadMaxRows) else None
        end = off.spread({tp: begin[tp] for tp in latest}, latest, max_rows)
        return off.to_json({**off.from_json(start), **end})

    def _finished(self, tp, begin: off.Flat, tps) -> bool:
        """A closed segment (``fink_like.kafka.retention``) read to its end: not asked about
        again, so the planner never touches a topic that the driver is deleting."""
        from fink_like.kafka.retention import closed

        seen = self._cluster._seen.get(tp)  # only a probed end is the true end (tansu lags)
        return (seen is not None and tp in self._cluster.probed and begin.get(tp, -1) >= seen[1]
                and closed(tp[0], {t for t, _p in tps}))

    def reportLatestOffset(self) -> dict | None:
        return None

    def partitions(self, start: dict, end: dict):
        begin, stop = off.from_json(start), off.from_json(end)
        new = [tp for tp in stop if tp not in begin]
        if new:
            begin.update({tp: low for tp, (low, _) in self._cluster.bounds(new).items()})
        return _ranges(begin, stop, self.opts.max_records_per_partition, self.opts.min_partitions)

    def read(self, partition: KafkaRange):
        return _read(self.opts, partition)

    def commit(self, end: dict) -> None:
        LOG.debug("committed offsets %s", end)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class KafkaBatchReader(DataSourceReader):
    """``spark.read``: offsets from ``startingOffsets`` (earliest) to ``endingOffsets`` (latest)."""

    def __init__(self, opts: ReadOptions):
        self.opts = opts

    def partitions(self):
        start_spec = off.parse_spec(self.opts.starting, "startingOffsets")
        end_spec = off.parse_spec(self.opts.ending, "endingOffsets")
        if start_spec == "latest" or end_spec == "earliest":
            raise ConfigError("a batch read needs startingOffsets before endingOffsets: "
                              "startingOffsets=latest and endingOffsets=earliest make no sense")
        cluster = _Cluster(self.opts)
        try:
            bounds = cluster.bounds(cluster.partitions())
        finally:
            cluster.close()
        start = off.resolve(start_spec, bounds, "earliest")
        end = off.resolve(end_spec, bounds, "latest")
        return _ranges(start, end, self.opts.max_records_per_partition, self.opts.min_partitions)

    def read(self, partition: KafkaRange):
        return _read(self.opts, partition)


@dataclass
class KafkaCommit(WriterCommitMessage):
    """What one write task delivered."""

    messages: int = 0
    bytes: int = 0
    per_topic: dict = field(default_factory=dict)


def _write(opts: WriteOptions, iterator) -> KafkaCommit:
    report = produce_batches(opts.conf, iterator, opts.topic, connect_timeout=opts.connect_timeout)
    return KafkaCommit(report.messages, report.bytes, report.per_topic)


def summarise(messages) -> dict:
    """Total messages, bytes and per-topic counts over the tasks' commit messages."""
    total = {"messages": 0, "bytes": 0, "per_topic": {}}
    for m in messages:
        if m is None:
            continue
        total["messages"] += m.messages
        total["bytes"] += m.bytes
        for topic, n in m.per_topic.items():
            total["per_topic"][topic] = total["per_topic"].get(topic, 0) + n
    return total


class KafkaBatchWriter(DataSourceArrowWriter):
    """``df.write.format("finkkafka")``: every row is delivered, or the write fails."""

    def __init__(self, opts: WriteOptions):
        self.opts = opts

    def write(self, iterator) -> KafkaCommit:
        return _write(self.opts, iterator)

    def commit(self, messages) -> None:
        LOG.info("delivered to Kafka", extra=summarise(messages))

    def abort(self, messages) -> None:
        LOG.warning("Kafka write aborted after partial delivery", extra=summarise(messages))


class KafkaStreamWriter(DataSourceStreamArrowWriter):
    """``writeStream.format("finkkafka")``: a failed delivery fails the micro-batch (not committed)."""

    def __init__(self, opts: WriteOptions):
        self.opts = opts

    def write(self, iterator) -> KafkaCommit:
        return _write(self.opts, iterator)

    def commit(self, messages, batchId: int) -> None:
        LOG.info("delivered to Kafka", extra={"batch_id": batchId, **summarise(messages)})

    def abort(self, messages, batchId: int) -> None:
        LOG.warning("Kafka micro-batch aborted", extra={"batch_id": batchId, **summarise(messages)})


__all__ = ["KafkaDataSource", "KafkaRange", "KafkaCommit", "KafkaError"]
