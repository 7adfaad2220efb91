"""Structured Streaming wiring: a source, ``foreachBatch``, and the stages on executors.

Every streaming job of the broker (ingest, science, distribute, archive and the combined
``run``) is one :func:`start` call with a different source and set of stages. Each
micro-batch runs :meth:`Pipeline.run_partition` on every input partition through
``mapInArrow`` and collects one small row of counts per partition back to the driver.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Callable

import pyarrow as pa

from fink_like.config import Settings, join_uri
from fink_like.errors import ConfigError, FinkLikeError
from fink_like.jobs.report import SCORE_COLUMNS, Totals
from fink_like.jobs.stages import SOURCE_FILE, SOURCES, STAGES, Pipeline, PartitionStats, concat, conform

log = logging.getLogger("fink_like.jobs")

STATS_SCHEMA = "stats string"


class SinkError(FinkLikeError):
    """A sink failed in a micro-batch (the others ran); the batch fails and is replayed."""


def kafka_frame(spark, settings: Settings, bootstrap: str):
    """The survey topics as a streaming DataFrame (Kafka connector chosen by configuration)."""
    fmt, options = source_options(settings, bootstrap)
    df = spark.readStream.format(fmt).options(**options).load()
    if options.get("fetch") == "deferred":
        return df  # offset ranges; each task fetches its messages (stages.fetch_ranges)
    return df.select("key", "value", "topic", "partition", "offset", "timestamp")


def source_options(settings: Settings, bootstrap: str) -> tuple[str, dict]:
    """Format (``finkkafka`` or the JVM ``kafka``) and its options for the survey topics."""
    from fink_like.kafka.conf import client_conf, jvm_options, spark_options

    conf = client_conf(settings.kafka, bootstrap)
    fmt = "kafka" if settings.kafka.connector == "jvm" else "finkkafka"
    options = jvm_options(conf) if fmt == "kafka" else spark_options(conf)
    inp = settings.input
    if inp.topic_pattern:
        options["subscribePattern"] = inp.topic_pattern
    elif settings.kafka.roll_messages:
        from fink_like.kafka.retention import subscription_pattern

        options["subscribePattern"] = subscription_pattern(inp.topics)  # topics and their segments
    else:
        options["subscribe"] = ",".join(inp.topics)
    options["startingOffsets"] = inp.starting_offsets
    options["maxOffsetsPerTrigger"] = str(inp.max_offsets_per_trigger)
    if fmt == "finkkafka":
        options["maxRecordsPerPartition"] = str(inp.max_records_per_partition)
        options["fetch"] = "deferred"
    options["minPartitions"] = str(settings.spark.shuffle_partitions)
    options["failOnDataLoss"] = "true" if inp.fail_on_data_loss else "false"
    return fmt, options


def lake_frame(spark, settings: Settings, area: str, schema: pa.Schema, max_files: int = 64):
    """A lake area (``raw`` or ``science``) as a streaming file source, with each row's file."""
    from pyspark.sql.pandas.types import from_arrow_schema

    from pyspark.sql import functions as F

    spark_schema = from_arrow_schema(schema)
    df = (
        spark.readStream.schema(spark_schema)
        .option("maxFilesPerTrigger", str(max_files))
        .parquet(settings.lake_path(area))
    )
    # Each row's input file names the outputs made from it (fink_like.jobs.lake).
    return df.withColumn(SOURCE_FILE, F.col("_metadata.file_path"))


class BatchRunner:
    """The ``foreachBatch`` callback: runs the pipeline on every partition, gathers counts.

    A replayed batch first removes what its earlier attempt wrote (:mod:`fink_like.jobs.attempts`).
    A batch in which a sink failed is counted, then failed, so that the supervisor replays it.
    """

    def __init__(self, pipeline: Pipeline, totals: Totals, on_batch: Callable | None = None,
                 warm: bool = False, live=None, attempts=None):
        self.pipeline = pipeline
        self.totals = totals
        self.on_batch = on_batch
        self.warm = warm
        self.live = live  # fink_like.filters.live.LiveFilters: the store's filters, per batch
        self.attempts = attempts

    def __call__(self, df, batch_id: int) -> None:
        from fink_like.jobs.attempts import clean_replay

        pipeline = self.live.prepare(self.pipeline) if self.live else self.pipeline
        if self.warm:
            # The streaming query runs in its own session, whose Python workers are not the
            # ones of the session that started it: warm those, before the first data.
            warm_up(df.sparkSession, pipeline)
            self.warm = False
        from_kafka = pipeline.source == "kafka"
        if self.attempts is not None and self.attempts.begin(batch_id):
            clean_replay(df, pipeline.settings, pipeline.source)

        def run(batches):
            from pyspark import TaskContext

            table = concat(batches)
            if not from_kafka:
                table = conform(table)
            stats = pipeline.run_partition(table, batch_id, TaskContext.get().partitionId())
            yield pa.RecordBatch.from_pylist([{"stats": json.dumps(asdict(stats))}])

        rows = df.mapInArrow(run, STATS_SCHEMA).collect()
        parts = [PartitionStats(**json.loads(r["stats"])) for r in rows]
        errors = [e for p in parts for e in p.errors]
        if errors:
            self.totals.add_sink_errors(parts)
            if self.on_batch:
                self.on_batch(batch_id, [PartitionStats(sink_errors=p.sink_errors) for p in parts],
                              self.totals)
            raise SinkError(f"batch {batch_id}: {len(errors)} sink failure(s), the batch will be "
                            f"replayed; first: {errors[0]}")
        if self.live:
            self.live.after(batch_id, parts)
        self.totals.add_batch(batch_id, parts)
        log.info("batch done", extra={"batch": batch_id, **self.totals.batch_summary(parts)})
        if self.on_batch:
            self.on_batch(batch_id, parts, self.totals)


def default_live(settings: Settings, stages: tuple[str, ...], bootstrap: str = ""):
    """Live filters (with a notifier when channels are configured) for a distributing query."""
    if "distribute" not in stages or not settings.distribution.live_filters:
        return None
    from fink_like.filters.live import LiveFilters

    notifier = None
    if settings.notifications.channels:
        from fink_like.notify import Notifier

        notifier = Notifier(settings, bootstrap or None)
    return LiveFilters(settings, notifier)


def warm_up(spark, pipeline: Pipeline) -> None:
    """Load modules, indexes and clients in the executors' Python workers before data arrives.

    Python workers are reused between tasks, so the first micro-batch of the night does
    not pay for model loading. Best effort: a worker started later loads lazily.
    """
    slots = int(spark.sparkContext.defaultParallelism)

    def load(_rows):
        pipeline.warm_up()
        yield pa.RecordBatch.from_pylist([{"stats": "warm"}])

    spark.range(slots, numPartitions=slots).mapInArrow(load, STATS_SCHEMA).collect()


def start(spark, settings: Settings, *, source: str, stages: tuple[str, ...], name: str,
          bootstrap: str = "", available_now: bool = False, totals: Totals | None = None,
          on_batch: Callable | None = None, input_schema: pa.Schema | None = None,
          warm: bool = False, live=None):
    """Start one streaming query; returns ``(query, totals)``.

    Parameters
    ----------
    source
        ``kafka``, ``raw`` or ``science`` (see :data:`fink_like.jobs.stages.SOURCES`).
    stages
        Stages to apply, a subset of :data:`fink_like.jobs.stages.STAGES`.
    name
        Query name; also the checkpoint folder under ``spark.checkpoint_dir``.
    available_now
        Process what is available, then stop (batch-like); otherwise run every
        ``spark.trigger_seconds``.
    input_schema
        Arrow schema of a lake source (required unless ``source`` is ``kafka``).
    warm
        Load modules and clients in the executors' Python workers at the first trigger.
    live
        A :class:`fink_like.filters.live.LiveFilters`; by default one is made for a query
        that distributes when ``distribution.live_filters`` is on.
    """
    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; expected one of {SOURCES}")
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise ConfigError(f"unknown stages {sorted(unknown)}; expected a subset of {STAGES}")
    from fink_like.jobs.attempts import Attempts

    totals = totals or Totals()
    if "science" in stages:
        from fink_like.science.registry import pin_settings

        # Resolved once, here on the driver: every executor of this query scores with the
        # same model versions until the query restarts (model_version: latest -> v3).
        settings = pin_settings(settings)
    pipeline = Pipeline(settings, source, tuple(stages), bootstrap, score_columns=SCORE_COLUMNS)
    if source == "kafka":
        df = kafka_frame(spark, settings, bootstrap)
    else:
        df = lake_frame(spark, settings, source, input_schema)
    writer = (
        df.writeStream.queryName(name)
        .option("checkpointLocation", join_uri(settings.spark.checkpoint_dir, name))
        .foreachBatch(BatchRunner(pipeline, totals, on_batch, warm,
                                  live or default_live(settings, stages, bootstrap), Attempts(settings, name)))
    )
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{settings.spark.trigger_seconds} seconds")
    return writer.start(), totals
