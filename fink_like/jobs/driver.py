"""Driver-side helpers: run one job to completion or timeout, and the lake schemas."""

from __future__ import annotations

import logging

import pyarrow as pa

from fink_like.config import Settings
from fink_like.jobs.report import Totals
from fink_like.jobs.supervisor import JobError

__all__ = ["JobError", "run_job", "supervise", "bootstrap_for", "needs_kafka", "input_schema"]

log = logging.getLogger("fink_like.jobs")


def needs_kafka(source: str, stages: tuple[str, ...]) -> bool:
    return source == "kafka" or "distribute" in stages


def bootstrap_for(settings: Settings) -> str:
    """The Kafka servers to use: the embedded broker's (started if needed) or the configured ones."""
    from fink_like.kafka.embedded import ensure_embedded

    return ensure_embedded(settings)


def science_schema(settings: Settings) -> pa.Schema:
    """Schema of the science lake under the configured modules (no model is loaded)."""
    from fink_like.science.runner import science_output_schema
    from fink_like.surveys.canonical import CANONICAL_SCHEMA

    return science_output_schema(CANONICAL_SCHEMA, settings.science.modules)


def input_schema(settings: Settings, source: str) -> pa.Schema | None:
    from fink_like.surveys.canonical import CANONICAL_SCHEMA

    if source == "raw":
        return CANONICAL_SCHEMA
    if source == "science":
        return science_schema(settings)
    return None


def run_job(settings: Settings, *, source: str, stages: tuple[str, ...], name: str,
            available_now: bool = False, timeout: float | None = None,
            totals: Totals | None = None, on_batch=None) -> Totals:
    """Run one streaming job under a supervisor until it has drained its input
    (``available_now``) or ``timeout`` s pass; the metrics endpoint is served meanwhile.

    Raises
    ------
    JobError
        The query failed more than ``spark.max_restarts`` times (the cause is named).
    """
    from fink_like.jobs.spark import get_spark
    from fink_like.jobs.stream import start
    from fink_like.metrics import job_metrics

    from fink_like.jobs.preflight import preflight

    preflight(settings)  # what `fink-like config check` checks, before Spark starts
    bootstrap = bootstrap_for(settings) if needs_kafka(source, stages) else ""
    spark = get_spark(settings)
    metrics = job_metrics(settings, name)
    totals = totals or Totals()

    def observed(batch_id, parts, running):
        metrics.observe_batch(parts)
        if on_batch:
            on_batch(batch_id, parts, running)

    def launch():
        return start(spark, settings, source=source, stages=stages, name=name, bootstrap=bootstrap,
                     available_now=available_now, totals=totals, on_batch=observed,
                     input_schema=input_schema(settings, source))[0]

    listeners = [metrics.listener(), *pruning(settings, bootstrap)]
    for listener in listeners:
        spark.streams.addListener(listener)
    try:
        supervisor = supervise(launch, name, settings, metrics, totals)
        try:
            supervisor.run(timeout)
        finally:
            supervisor.stop()
    finally:
        detach(spark, listeners)
        if "archive" in stages:
            from fink_like.archive.backends import close_archive

            close_archive(settings)  # checkpoint the write-ahead log the executors left
    return totals


def detach(spark, listeners: list) -> None:
    """Remove query listeners, and wait for any that can be closed (:func:`pruning`'s)
    to finish what it is doing: nothing of theirs runs after this returns."""
    for listener in listeners:
        spark.streams.removeListener(listener)
        if hasattr(listener, "close"):
            listener.close()


def pruning(settings: Settings, bootstrap: str) -> list:
    """A listener deleting fully read survey-topic segments (``kafka.roll_messages``) and
    expired distribution segments (``distribution.retention_seconds``, embedded broker).

    Detach it with :func:`detach` before the topics go: its probes of a segment (a
    librdkafka consumer) must not meet that segment's deletion by the caller, which
    crashes the process (librdkafka with tansu, docs/kafka.md).
    """
    from fink_like.kafka.retention import distribution_retention

    retention = distribution_retention(settings)
    rolled = bool(settings.kafka.roll_messages) and not settings.input.topic_pattern
    if not bootstrap or not (rolled or retention):
        return []
    import json
    import threading
    import time

    from pyspark.sql.streaming import StreamingQueryListener

    from fink_like.kafka.conf import client_conf
    from fink_like.kafka.retention import SegmentJanitor, TimeRetention

    conf = client_conf(settings.kafka, bootstrap)
    janitor = SegmentJanitor(conf, settings.input.topics) if rolled else None
    expiry = (TimeRetention(conf, retention, settings.input.topics, settings.input.topic_pattern)
              if retention else None)

    class _Pruner(StreamingQueryListener):
        # Events arrive on the listener bus's thread, which removeListener does not wait for.
        lock, closed = threading.Lock(), False

        def close(self):
            """Wait for a prune under way; later events do nothing."""
            with self.lock:
                self.closed = True

        def onQueryStarted(self, event):
            pass

        def onQueryProgress(self, event):  # posted after the batch's commit
            with self.lock:
                if self.closed:
                    return
                for source in event.progress.sources if janitor else ():
                    if source.endOffset:
                        janitor.prune(json.loads(source.endOffset))
                if expiry:
                    expiry.prune(time.time())

        def onQueryIdle(self, event):
            pass

        def onQueryTerminated(self, event):
            pass

    return [_Pruner()]


def supervise(launch, name: str, settings: Settings, metrics, totals: Totals):
    """A :class:`Supervisor` for ``launch`` whose restarts are counted in metrics and totals."""
    from fink_like.jobs.supervisor import Supervisor

    def restarted(count, _error):
        metrics.restarts.labels(name).inc()
        totals.restarts = count

    return Supervisor(launch, name, max_restarts=settings.spark.max_restarts,
                      backoff=settings.spark.restart_backoff_seconds, on_restart=restarted)
