"""Every output of a micro-batch is a :class:`Sink`: lake, quarantine, archive and topics.

A sink writes one input partition's table, then is flushed and eventually closed. Its
``guarantee`` says what a replayed batch (same input, after a crash or a failed sink)
does to it:

* ``idempotent``: the replay rewrites the same data (lake files named after their input,
  archive upserts keyed by alert): every alert ends up exactly once;
* ``at-least-once keyed by alert``: the replay may send an alert again under the same
  key (Kafka topics); subscribers deduplicate by key.

:class:`fink_like.jobs.stages.Pipeline` writes every output through these classes, in
one code path (``Pipeline._write``): raw lake and quarantine, science lake, topics,
archive. A sink that fails does not stop the next (publishing fails, archiving still
happens); the failure is counted under the sink's ``name`` in ``sink_errors``
(``fink_like_sink_errors_total{sink}``). Sinks run on executors: they must be
picklable and build their clients lazily.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, ClassVar

import pyarrow as pa

from fink_like.jobs import lake

IDEMPOTENT = "idempotent"
AT_LEAST_ONCE = "at-least-once keyed by alert"


class Sink(ABC):
    """One output of the pipeline.

    Contract: :meth:`write` may be called again with the same rows (a replayed batch)
    and must then honour :attr:`guarantee`; it raises on failure (never swallows it),
    so the batch is counted as failed and replayed. ``name`` labels the sink in
    metrics (``fink_like_sink_errors_total{sink}``). Subclasses state both.
    """

    name: ClassVar[str]
    guarantee: ClassVar[str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not getattr(cls, "__abstractmethods__", None):  # a concrete sink must say what it is
            for attr in ("name", "guarantee"):
                if not isinstance(getattr(cls, attr, None), str):
                    raise TypeError(f"sink {cls.__name__} must define the class attribute {attr!r}")
            if cls.guarantee not in (IDEMPOTENT, AT_LEAST_ONCE):
                raise TypeError(f"sink {cls.__name__}: guarantee must be {IDEMPOTENT!r} or {AT_LEAST_ONCE!r}")

    @abstractmethod
    def write(self, table: pa.Table, names: list[str], stamps: list[dict] | None = None):
        """Write one partition's rows; ``names`` are the output names from the input identity."""

    def flush(self) -> None:
        """Make what was written durable (default: writes are durable when they return)."""

    def close(self) -> None:
        """Release clients (default: nothing held)."""


class LakeSink(Sink):
    """One lake area (``raw`` or ``science``): Parquet files named after their input."""

    name = "lake"
    guarantee = IDEMPOTENT

    def __init__(self, area_uri: str, s3=None):
        self.area_uri, self.s3 = area_uri, s3  # s3: LakeSettings, for s3:// roots

    def write(self, table, names, stamps=None) -> dict:
        return lake.write_named(table, self.area_uri, names, self.s3)


class QuarantineSink(Sink):
    """Rejected messages and lost offset ranges, to the lake (idempotent) or to a topic."""

    name = "quarantine"
    guarantee = IDEMPOTENT  # the lake target; the topic target is at-least-once (keyed by message)

    def __init__(self, settings, kafka_conf: dict | None = None):
        self.settings, self.kafka_conf = settings, kafka_conf

    def write(self, table, names, stamps=None) -> int:
        if table.num_rows == 0:
            return 0
        if self.settings.quarantine.sink == "lake":
            lake.write_named(table, self.settings.lake_path("quarantine"), names[:1], self.settings.lake)
            return table.num_rows
        from fink_like.kafka.produce import produce_batches

        kind = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))
        headers = pa.array([[{"key": "reason", "value": r.encode()}, {"key": "detail", "value": (d or "").encode()}]
                            for r, d in zip(table["reason"].to_pylist(), table["detail"].to_pylist())], type=kind)
        rows = table.select(["key", "value"]).append_column("headers", headers)
        produce_batches(self.kafka_conf, rows.to_batches(), topic=self.settings.quarantine.topic)
        return table.num_rows


class ArchiveSink(Sink):
    """The HBase-shaped archive: upserts keyed by alert (object id, time, alert id).

    ``open_writer`` returns the process's archive writer (called at each write, so the
    writer is built on the executor, lazily). ``after`` (optional) is called with the
    table once its rows are written: the pipeline updates the object groups there, so
    a group never names an object the archive does not hold. It must be idempotent too.
    """

    name = "archive"
    guarantee = IDEMPOTENT

    def __init__(self, open_writer: Callable[[], object], after: Callable[[pa.Table], object] | None = None):
        self.open_writer, self.after = open_writer, after

    def write(self, table, names, stamps=None) -> int:
        written = self.open_writer().write(table, stamps)
        if self.after is not None:
            self.after(table)
        return written


class TopicSink(Sink):
    """The filters' topics: every selected alert, keyed by its alert id, delivery confirmed.

    ``engine_for(schema)`` returns the filter engine for a batch's schema (built lazily,
    cached by the caller). Its filters are evaluated on ``view(table, engine)`` (default:
    the table itself; the pipeline adds ``other_*`` columns there); the engine and its
    masks stay in :attr:`engine` and :attr:`masks` for the caller's report.
    :meth:`write` returns topic -> messages acknowledged.
    """

    name = "distribute"
    guarantee = AT_LEAST_ONCE

    def __init__(self, engine_for: Callable[[pa.Schema], object], kafka_conf: dict, schema_topic: str,
                 view: Callable[[pa.Table, object], pa.Table] | None = None, retention: float | None = None):
        self.engine_for, self.kafka_conf, self.schema_topic, self.view = engine_for, kafka_conf, schema_topic, view
        self.retention = retention  # distribution.retention_seconds on the embedded broker: time segments
        self.engine, self.masks = None, None

    def write(self, table, names, stamps=None) -> dict:
        from fink_like.distribution import publish

        self.engine = self.engine_for(table.schema)
        self.masks = self.engine.evaluate(table if self.view is None else self.view(table, self.engine))
        return publish(table, self.engine, self.kafka_conf, masks=self.masks, schema_topic=self.schema_topic,
                       stamps=stamps, retention=self.retention)
