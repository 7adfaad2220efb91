"""Driver-side helpers: run one job to completion or timeout, and the lake schemas."""

from __future__ import annotations

import logging

import pyarrow as pa

from fink_like.config import Settings
from fink_like.errors import FinkLikeError
from fink_like.jobs.report import Totals

log = logging.getLogger("fink_like.jobs")


class JobError(FinkLikeError):
    """A streaming query stopped with an error."""


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
    """Run one streaming job until it has drained its input (``available_now``) or times out."""
    from fink_like.jobs.spark import get_spark
    from fink_like.jobs.stream import start

    from fink_like.jobs.preflight import preflight

    preflight(settings)  # what `fink-like config check` checks, before Spark starts
    bootstrap = bootstrap_for(settings) if needs_kafka(source, stages) else ""
    spark = get_spark(settings)
    query, totals = start(spark, settings, source=source, stages=stages, name=name,
                          bootstrap=bootstrap, available_now=available_now, totals=totals,
                          on_batch=on_batch, input_schema=input_schema(settings, source))
    try:
        finished = query.awaitTermination(timeout) if timeout else (query.awaitTermination() or True)
        if not finished:
            log.info("timeout reached, stopping", extra={"query": name})
    except KeyboardInterrupt:
        query.stop()
        raise
    finally:
        if query.isActive:
            query.stop()
        if "archive" in stages:
            from fink_like.archive.backends import close_archive

            close_archive(settings)  # checkpoint the write-ahead log the executors left
    error = query.exception()
    if error is not None:
        raise JobError(f"streaming query {name!r} failed: {error}")
    return totals
