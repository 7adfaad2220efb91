"""What a micro-batch does to one input partition, as plain Arrow code (no Spark here).

A :class:`Pipeline` is picklable configuration. Spark ships it to executors, where
:meth:`Pipeline.run_partition` turns one partition of Kafka messages (or lake rows)
into lake files, archive rows and topic messages, and returns its counts. Heavy
objects (science modules, filter engine, archive writer) are built once per executor
process and cached.

Every alert is accounted for: ``consumed == raw + quarantined`` for each partition, and
every planned Kafka offset is consumed or lost (``failOnDataLoss`` off, counted in
``lost`` and written to the quarantine as ``lost_offsets`` rows).

Outputs are sinks (:mod:`fink_like.jobs.sinks`): a failing sink does not stop the others
(publishing fails, archiving still happens); its failure is counted in ``sink_errors``
and the driver then fails the batch, so it is replayed (lake files and archive rows are
idempotent, topic messages at-least-once keyed by alert id).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.config import Settings
from fink_like.errors import ConfigError, FinkLikeError
from fink_like.jobs import lake
from fink_like.jobs.sinks import ArchiveSink, LakeSink, QuarantineSink, Sink, TopicSink

STAGES = ("raw", "science", "archive", "distribute")
SOURCES = ("kafka", "raw", "science")

_CACHE: dict = {}


@dataclass
class PartitionStats:
    """Counts of one input partition of one micro-batch."""

    consumed: int = 0
    raw: int = 0
    quarantined: int = 0
    quarantine_reasons: dict = field(default_factory=dict)
    science: int = 0
    quality_rejected: int = 0
    archived: int = 0
    published: dict = field(default_factory=dict)
    module_errors: dict = field(default_factory=dict)
    module_seconds: dict = field(default_factory=dict)
    stage_seconds: dict = field(default_factory=dict)
    # Seconds from each alert's Kafka timestamp to the confirmed publication of its
    # partition's messages (or, without a distribute stage, to the end of its last stage).
    latencies: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)       # column -> list of values (for reports)
    filter_failures: dict = field(default_factory=dict)  # "name@version" -> why it was taken out
    matches: list = field(default_factory=list)      # selected alerts of filters that notify
    lost: int = 0                                    # offsets gone from Kafka (failOnDataLoss off)
    sink_errors: dict = field(default_factory=dict)  # sink -> failed writes
    errors: list = field(default_factory=list)       # "sink: message" of each failure


@dataclass(frozen=True)
class Pipeline:
    """The stages to apply, from which source, with which settings.

    Parameters
    ----------
    settings
        The broker's settings (picklable).
    source
        ``kafka`` (raw messages), ``raw`` (raw lake rows) or ``science`` (science lake rows).
    stages
        Subset of :data:`STAGES`, applied in that order.
    bootstrap
        Kafka bootstrap servers for publishing (the embedded broker's when embedded).
    """

    settings: Settings
    source: str
    stages: tuple[str, ...]
    bootstrap: str = ""
    score_columns: tuple[str, ...] = ()
    # The filter store's enabled filters, read by the driver for this batch (filters.live).
    user_filters: tuple = ()

    def run_partition(self, table: pa.Table, batch_id: int = 0, partition_id: int = 0) -> PartitionStats:
        """Apply the stages to one input partition and return its counts.

        Outputs are named after the input (:func:`input_names`), so any split of a replayed
        batch rewrites the same files; ``batch_id`` and ``partition_id`` name them only for
        a table that carries no input identity (a direct call from a notebook or test).
        """
        stats = PartitionStats()
        lost: list = []
        names = input_names(table) or [lake.file_name(batch_id, partition_id)]
        if self.source == "kafka" and "startOffset" in table.column_names:
            table = fetch_ranges(table, self._kafka_conf(), self.settings.input.fail_on_data_loss, lost)
        elif SOURCE_FILE in table.column_names:
            table = table.drop_columns([SOURCE_FILE])
        stats.consumed = table.num_rows
        stats.lost = sum(stop - first for _t, _p, first, stop, _w in lost)
        stamps = None  # from Kafka: each alert's stamps, kept by the decoder for the later stages
        if self.source == "kafka":
            table, stamps = self._decode(table, names, stats, lost)
        if "science" in self.stages:
            table = self._timed(stats, "science", self._science, table, stats)
            self._write(stats, "science", LakeSink(self.settings.lake_path("science"), self.settings.lake),
                        table, names)
        # Publication before archiving: subscribers get the alerts as early as possible, and
        # the end-to-end latency stops there (the Kafka timestamp to the confirmed delivery).
        # Each sink runs even when the one before failed.
        if "distribute" in self.stages and table.num_rows:
            topics = self.topic_sink()
            published = self._write(stats, "distribute", topics, table, names, stamps)
            stats.published = published or {}
            stats.latencies = end_to_end_latencies(table)
            if published is not None:  # what the filters did is reported with their publication
                self._filter_report(stats, table, topics.engine, topics.masks)
        if "archive" in self.stages and table.num_rows:
            stats.archived = self._write(stats, "archive", self.archive_sink(), table, names, stamps) or 0
        if "distribute" not in self.stages and table.num_rows:
            stats.latencies = end_to_end_latencies(table)
        for column in self.score_columns:
            if column in table.column_names:
                stats.scores[column] = [v for v in table[column].to_pylist() if v is not None]
        return stats

    def _write(self, stats: PartitionStats, stage: str, sink: Sink, table: pa.Table, names: list[str],
               stamps: list[dict] | None = None):
        """Write through one sink (timed as ``stage``); a failure is counted under the sink's
        name and recorded, the caller gets None, and the next sink still runs."""
        try:
            return self._timed(stats, stage, sink.write, table, names, stamps)
        except Exception as exc:  # noqa: BLE001 - any failure of one sink must not stop the others
            stats.sink_errors[sink.name] = stats.sink_errors.get(sink.name, 0) + 1
            stats.errors.append(f"{sink.name}: {type(exc).__name__}: {exc}"[:2000])
            return None

    @staticmethod
    def _timed(stats: PartitionStats, stage: str, fn, *args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            stats.stage_seconds[stage] = stats.stage_seconds.get(stage, 0.0) + time.perf_counter() - t0

    # -- stages ---------------------------------------------------------------------

    def _decode(self, messages: pa.Table, names: list[str], stats: PartitionStats,
                lost: list) -> tuple[pa.Table, list[dict]]:
        from fink_like.surveys import decode_messages

        t0 = time.perf_counter()
        decoded = decode_messages(messages)
        canonical, quarantine = decoded.canonical, decoded.quarantine
        stats.raw, stats.quarantined = canonical.num_rows, quarantine.num_rows
        for reason in quarantine["reason"].to_pylist():
            stats.quarantine_reasons[reason] = stats.quarantine_reasons.get(reason, 0) + 1
        stats.stage_seconds["decode"] = time.perf_counter() - t0
        if "raw" in self.stages:
            if lost:
                quarantine = pa.concat_tables([quarantine, lost_rows(lost)])
            self._write(stats, "decode", LakeSink(self.settings.lake_path("raw"), self.settings.lake),
                        canonical, names[:1])
            self._write(stats, "decode", QuarantineSink(self.settings, self._kafka_conf()), quarantine, names[:1])
        return canonical, decoded.stamps

    def _science(self, table: pa.Table, stats: PartitionStats) -> pa.Table:
        runner = self._cached("runner", self._build_runner)
        cuts = self._cached("cuts", lambda: compile_cuts(self.settings.science.quality_cuts))
        mask = quality_mask(table, cuts)
        before = {m: dict(s) for m, s in runner.stats.items()}
        enriched = runner.process(table, mask=mask)
        for module, after in runner.stats.items():
            errors = after["errors"] - before[module]["errors"]
            if errors:
                stats.module_errors[module] = errors
            stats.module_seconds[module] = after["seconds"] - before[module]["seconds"]
        stats.science = enriched.num_rows
        stats.quality_rejected = 0 if mask is None else table.num_rows - pc.sum(mask).as_py()
        return enriched

    # -- sinks ------------------------------------------------------------------------

    def archive_sink(self) -> ArchiveSink:
        """The archive, then the object groups (a group never names an object it does not hold)."""
        return ArchiveSink(self._archive_writer, after=self._associate)

    def topic_sink(self) -> TopicSink:
        """The filters' topics; the filters see :meth:`filter_view` of each batch."""
        from fink_like.kafka.retention import distribution_retention

        return TopicSink(self._engine, self._kafka_conf(), self.settings.distribution.schema_topic,
                         view=self.filter_view, retention=distribution_retention(self.settings))

    def _archive_writer(self):
        return self._cached("archive", self._build_archive)

    def _associate(self, table: pa.Table) -> None:
        self._cached("associator", self._build_associator).update(table)

    @staticmethod
    def _filter_report(stats: PartitionStats, table: pa.Table, engine, masks: dict) -> None:
        """Filters taken out (and why) and the selected alerts of filters that notify."""
        from fink_like.filters.live import matches_of

        stats.filter_failures = {f"{f.spec.name}@{f.version}": engine.failures[f.spec.name]
                                 for f in engine.filters if f.spec.name in engine.failures}
        stats.filter_failures.update(engine.load_failures)
        stats.matches = matches_of(table, engine, masks)

    def filter_view(self, table: pa.Table, engine) -> pa.Table:
        """What the filters see: the alerts, with ``other_*`` columns when a filter reads them."""
        if any(c.startswith("other_") for c in engine.required_columns):
            return self._cached("associator", self._build_associator).other_columns(table)
        return table

    def _engine(self, schema: pa.Schema):
        # One engine per set of live filters: a new version or a disabled filter builds a new one.
        kind = ("engine", tuple((f.name, f.version) for f in self.user_filters))
        for old in [k for k in _CACHE if k[0] != kind and isinstance(k[0], tuple) and k[0][0] == "engine"]:
            del _CACHE[old]
        return self._cached(kind, lambda: self._build_engine(schema))

    # -- per-process objects ----------------------------------------------------------

    def warm_up(self) -> None:
        """Build this process's modules (models, catalogue indexes), filters and archive now."""
        if "science" in self.stages:
            self._cached("runner", self._build_runner).load_all()
            self._cached("cuts", lambda: compile_cuts(self.settings.science.quality_cuts))
        if "archive" in self.stages:
            self._archive_writer()

    @cached_property
    def _identity(self) -> tuple:
        # Computed once per pipeline object (the settings' JSON is not cheap on a hot path).
        return (id(type(self)), self.settings.model_dump_json(), self.bootstrap)

    def _cached(self, kind: str, build):
        key = (kind, *self._identity)
        if key not in _CACHE:
            _CACHE[key] = build()
        return _CACHE[key]

    def _build_runner(self):
        from fink_like.science.runner import ScienceRunner

        return ScienceRunner(self.settings.science.modules)

    def _build_archive(self):
        from fink_like.archive.writer import ArchiveWriter

        return ArchiveWriter(self.settings)

    def _build_engine(self, schema: pa.Schema):
        from fink_like.archive.association import OTHER_FIELDS
        from fink_like.filters.engine import FilterEngine

        schema = pa.schema(list(schema) + [f for f in OTHER_FIELDS if f.name not in schema.names])
        engine = FilterEngine(self.settings.distribution.filters, schema,
                              plugin_budget=self.settings.distribution.plugin_budget_seconds)
        for spec in self.user_filters:  # a user's filter that cannot load is isolated, not fatal
            engine.add(spec)
        return engine

    def _build_associator(self):
        from fink_like.archive.association import Associator
        from fink_like.archive.backends import open_backend

        conf = self.settings.archive
        return Associator(open_backend(self.settings), conf.table_prefix, conf.association_radius_arcsec)

    def _kafka_conf(self) -> dict:
        from fink_like.kafka.conf import client_conf

        return client_conf(self.settings.kafka, self.bootstrap or None)


def compile_cuts(cuts: dict[str, str]) -> dict:
    """Compile ``science.quality_cuts`` (survey -> filter expression) against the canonical schema."""
    from fink_like.filters.expr import compile_filter
    from fink_like.surveys.canonical import CANONICAL_SCHEMA

    compiled = {}
    for survey, text in cuts.items():
        try:
            compiled[survey] = compile_filter(text, CANONICAL_SCHEMA)
        except FinkLikeError as exc:
            raise ConfigError(f"science.quality_cuts.{survey}: {exc}") from exc
    return compiled


def quality_mask(table: pa.Table, compiled: dict) -> pa.BooleanArray | None:
    """Rows passing their survey's quality cut; None when no cut applies."""
    if not compiled or table.num_rows == 0:
        return None
    mask = pa.array([True] * table.num_rows)
    for survey, cut in compiled.items():
        passed = pc.fill_null(cut.mask(table), False)
        mask = pc.if_else(pc.equal(table["survey"], survey), passed, mask)
    return mask


def end_to_end_latencies(table: pa.Table) -> list[float]:
    """Seconds from each row's Kafka timestamp until now (none without that column)."""
    if "kafka_timestamp" not in table.column_names:
        return []
    now_ms = time.time() * 1000.0
    sent = table["kafka_timestamp"].cast(pa.int64()).to_numpy(zero_copy_only=False).astype(float)
    seconds = (now_ms - sent) / 1000.0
    return seconds[~np.isnan(seconds)].tolist()  # rows without a Kafka timestamp have none


def concat(batches: Iterable[pa.RecordBatch]) -> pa.Table:
    """One table from a partition's Arrow batches (empty batches allowed)."""
    batches = list(batches)
    if not batches:
        return pa.table({})
    return pa.Table.from_batches(batches)


SOURCE_FILE = "_source_file"
"""Column that lake sources add (Spark's ``_metadata.file_path``): the input file of each row."""


def input_names(table: pa.Table) -> list[str]:
    """Output file names after the input identity: one name, or one per row for lake sources.

    Kafka offset ranges (``fetch=deferred``) and Kafka messages are named after their
    first topic, partition and offset; lake rows after their input file. Empty when the
    table carries neither.
    """
    if SOURCE_FILE in table.column_names:
        return [lake.file_name_for(p) for p in table[SOURCE_FILE].to_pylist()] or ["empty"]
    if table.num_rows == 0:
        return ["empty"]
    for offset in ("startOffset", "offset"):
        if offset in table.column_names:
            coordinates = [r for r in table.select(["topic", "partition", offset]).to_pylist()
                           if None not in r.values()]
            if coordinates:
                first = min(coordinates, key=lambda r: (r["topic"], r["partition"], r[offset]))
                return [lake.kafka_name(first["topic"], first["partition"], first[offset])]
    return []


def fetch_ranges(ranges: pa.Table, conf: dict, fail_on_data_loss: bool = True,
                 lost: list | None = None) -> pa.Table:
    """The messages of every offset range in ``ranges`` (rows of a ``fetch=deferred`` source).

    With ``fail_on_data_loss`` false, ranges gone from Kafka are appended to ``lost``.
    """
    from fink_like.kafka.consume import read_range

    batches = []
    for r in ranges.to_pylist():
        batches.extend(read_range(conf, r["topic"], r["partition"], r["startOffset"], r["endOffset"],
                                  fail_on_data_loss=fail_on_data_loss, lost=lost))
    return concat(batches)


def lost_rows(lost: list) -> pa.Table:
    """Quarantine rows (reason ``lost_offsets``), one per range of offsets gone from Kafka."""
    from datetime import datetime, timezone

    from fink_like.surveys.canonical import QUARANTINE_SCHEMA

    now = datetime.now(timezone.utc)
    rows = [{"reason": "lost_offsets",
             "detail": f"offsets [{first}, {stop}) of {topic}[{partition}] were not read: {why}",
             "topic": topic, "partition": partition, "offset": first, "kafka_timestamp": None,
             "ingest_time": now, "key": None, "value": None, "night": now.strftime("%Y%m%d")}
            for topic, partition, first, stop, why in lost]
    return pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)


def conform(table: pa.Table) -> pa.Table:
    """Cast columns that Spark hands back (e.g. microsecond timestamps) to the canonical types."""
    from fink_like.surveys.canonical import CANONICAL_SCHEMA

    columns = []
    for name in table.column_names:
        column = table[name]
        index = CANONICAL_SCHEMA.get_field_index(name)
        if index >= 0 and column.type != CANONICAL_SCHEMA.field(index).type:
            column = column.cast(CANONICAL_SCHEMA.field(index).type)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)
