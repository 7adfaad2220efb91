"""Exactly once across a replay with another split: what an earlier attempt wrote is removed.

Lake files are named after their input (``fink_like.jobs.lake``): Kafka topic, partition
and first offset, or the input lake file. A micro-batch replayed after a crash reads the
same offsets or files (Spark's offset log), but if the job restarted with another
``input.max_records_per_partition``, ``spark.shuffle_partitions`` or number of executors
the ranges are cut differently, so the first offsets, hence the names, differ.

The driver therefore records each batch it starts (a marker file under the query's
checkpoint, ``attempts/<batch id>``). When a batch starts and its marker is already
there, the batch is a replay: before any task runs, every lake file that came from this
batch's input is deleted (Kafka: topic-partition and first offset within the batch's
ranges; lake sources: names derived from the batch's input files). Committed batches
cover disjoint inputs, so nothing else is touched. The archive needs nothing (upserts
keyed by alert) and topics are at-least-once keyed by alert id.
"""

from __future__ import annotations

import logging

import pyarrow.fs as pafs

from fink_like.config import Settings, join_uri
from fink_like.jobs import lake

log = logging.getLogger("fink_like.jobs")
AREAS = ("raw", "science", "quarantine")


class Attempts:
    """Markers of started batches for one query (``<checkpoint>/<query>/attempts``)."""

    def __init__(self, settings: Settings, query: str):
        self.settings = settings
        self.fs, self.base = lake.filesystem(join_uri(settings.spark.checkpoint_dir, query, "attempts"))

    def begin(self, batch_id: int) -> bool:
        """Record that ``batch_id`` starts; True when it had started before (a replay)."""
        self.fs.create_dir(self.base, recursive=True)
        marker = f"{self.base}/{batch_id:012d}"
        replay = self.fs.get_file_info(marker).type != pafs.FileType.NotFound
        if not replay:
            with self.fs.open_output_stream(marker) as out:
                out.write(b"started\n")
        for info in self.fs.get_file_info(pafs.FileSelector(self.base)):
            if info.base_name.isdigit() and int(info.base_name) < batch_id:
                self.fs.delete_file(info.path)  # committed: Spark started the next batch
        return replay


def kafka_ranges(df) -> dict[tuple[str, int], tuple[int, int]]:
    """``{(topic, partition): (first, stop)}`` covered by one micro-batch's DataFrame."""
    from pyspark.sql import functions as F

    if "startOffset" in df.columns:
        rows = df.groupBy("topic", "partition").agg(F.min("startOffset").alias("lo"),
                                                    F.max("endOffset").alias("hi")).collect()
        return {(r["topic"], r["partition"]): (r["lo"], r["hi"]) for r in rows}
    rows = df.groupBy("topic", "partition").agg(F.min("offset").alias("lo"),
                                                F.max("offset").alias("hi")).collect()
    return {(r["topic"], r["partition"]): (r["lo"], r["hi"] + 1) for r in rows}


def belongs(name: str, ranges: dict | None, names: set[str] | None) -> bool:
    """Whether a lake file name came from the batch's Kafka ``ranges`` or input file ``names``."""
    if names is not None:
        return name in names
    parsed = lake.parse_kafka_name(name)
    if parsed is None or ranges is None:
        return False
    topic, partition, first = parsed
    span = ranges.get((topic, partition))
    return span is not None and span[0] <= first < span[1]


def remove_outputs(settings: Settings, ranges: dict | None = None, names: set[str] | None = None) -> int:
    """Delete the lake files written from this input by an earlier attempt; return how many."""
    removed = 0
    for area in AREAS:
        fs, base = lake.filesystem(settings.lake_path(area), settings.lake)
        if fs.get_file_info(base).type == pafs.FileType.NotFound:
            continue
        for info in fs.get_file_info(pafs.FileSelector(base, recursive=True)):
            if info.type == pafs.FileType.File and belongs(info.base_name, ranges, names):
                fs.delete_file(info.path)
                removed += 1
    return removed


def clean_replay(df, settings: Settings, source: str) -> int:
    """Before a replayed batch runs: remove what its earlier attempt wrote to the lake."""
    if source == "kafka":
        removed = remove_outputs(settings, ranges=kafka_ranges(df))
    else:
        from fink_like.jobs.stages import SOURCE_FILE

        files = [r[0] for r in df.select(SOURCE_FILE).distinct().collect()]
        removed = remove_outputs(settings, names={lake.file_name_for(p) for p in files})
    log.info("replayed batch: removed the earlier attempt's lake files", extra={"files": removed})
    return removed
