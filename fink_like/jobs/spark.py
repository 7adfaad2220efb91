"""The Spark session, configured once for every job and test."""

from __future__ import annotations

import os
import sys

from fink_like.config import Settings

SPARK_REDACTION = r"(?i)secret|passw|token|access[.]?key|jaas|\.pem|credential|sasl\.username"


def get_spark(settings: Settings):
    """Return the (possibly shared) SparkSession for ``settings``, with the Kafka source registered.

    Python workers run this interpreter (``PYSPARK_PYTHON``), so they see the same
    virtualenv, pyarrow included. On a cluster, ``spark-submit`` sets the master and
    the interpreter; ``settings.spark.master`` only applies when none is set. With
    ``spark.preload_workers`` the workers are forked from :mod:`fink_like.jobs.daemon`.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    s = settings.spark
    options = {
        "spark.app.name": s.app_name,
        "spark.sql.shuffle.partitions": str(s.shuffle_partitions),
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(s.arrow_batch_size),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.streaming.stopGracefullyOnShutdown": "true",
        "spark.driver.memory": "3g",
        # Kafka credentials travel as source/sink options (kafka.sasl.jaas.config, ...):
        # Spark's default patterns do not cover them in plans, logs and the UI.
        "spark.redaction.regex": SPARK_REDACTION,
        "spark.sql.redaction.options.regex": f"{SPARK_REDACTION}|url",
    }
    under_submit = bool(os.environ.get("PYSPARK_GATEWAY_PORT"))
    if not under_submit:
        # Not under spark-submit (which launches us with a gateway and its own master).
        from fink_like.jobs.cluster import check_master

        check_master(s.master)  # an unreachable master: one clear error, not a minute of retries
        options["spark.master"] = s.master
    if s.preload_workers:
        options["spark.python.daemon.module"] = "fink_like.jobs.daemon"
        if _loopback_cluster(s.master):
            # Executors of `fink-like cluster` share this machine: relative paths resolve here.
            options["spark.executorEnv.FINK_LIKE_WORKDIR"] = os.getcwd()
    from fink_like.jobs.jvm_logs import jvm_log_conf

    options.update({**jvm_log_conf(s.checkpoint_dir, s.conf), **s.conf})
    if not under_submit:
        from pyspark import SparkConf

        from fink_like.jobs.jvm_gateway import start_gateway

        start_gateway(SparkConf(loadDefaults=False).setAll(options.items()))  # stderr without JVM noise
    builder = SparkSession.builder
    for key, value in options.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    register_sources(spark)
    return spark


def _loopback_cluster(configured: str) -> bool:
    """Whether the master (spark-submit's, else ``configured``) is a standalone one on loopback."""
    master = configured
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        from pyspark import SparkConf, SparkContext

        SparkContext._ensure_initialized()
        master = SparkConf().get("spark.master", configured)
    return master.startswith(("spark://127.0.0.1:", "spark://localhost:"))


def register_sources(spark) -> None:
    """Register the project's Python Data Sources (idempotent)."""
    try:
        from fink_like.kafka.datasource import KafkaDataSource
    except ModuleNotFoundError as exc:
        if exc.name != "fink_like.kafka.datasource":
            raise
        return
    spark.dataSource.register(KafkaDataSource)
