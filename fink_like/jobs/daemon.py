"""Spark's Python daemon, with the pipeline's libraries imported before any worker is forked.

Spark starts Python workers by forking them from one daemon process per executor. A
fresh worker then imports what its task needs: here pyarrow, fastavro, confluent-kafka,
healpy, and through the science modules scikit-learn and torch, about 4 s of imports
per worker on one core. Each task runs two Python workers (the Kafka source's read and
the pipeline's ``mapInArrow``), Spark assigns idle workers to either role, and it
drops idle workers after a quiet minute: without this module the first batches of a
night, and the first batch after a pause, wait for cold workers.

With ``spark.preload_workers`` (the default), ``spark.python.daemon.module`` names this
module: it imports those libraries, every installed science module and the libraries
each module lists in its ``preload`` class attribute once, then runs
PySpark's own daemon, so every worker starts with them already imported (fork shares
the memory copy-on-write). Models and catalogue indexes are still loaded by each worker
on first use, which takes a fraction of a second.

A library that fails to import here is reported on stderr and skipped; the worker that
needs it meets the same error itself and reports it with its task.
"""

from __future__ import annotations

import contextlib
import importlib
import sys

LIBRARIES = (
    "numpy", "pyarrow", "pyarrow.compute", "pyarrow.parquet", "fastavro", "confluent_kafka", "healpy",
    "fink_like.jobs.stages", "fink_like.surveys", "fink_like.kafka.consume", "fink_like.science.runner",
    "fink_like.filters.engine", "fink_like.archive.writer", "fink_like.distribution.publisher",
)


def preload() -> list[str]:
    """Import :data:`LIBRARIES`, every installed science module and what each declares in
    its ``preload``; return what failed, named."""
    failed = []
    # The daemon's stdout is its channel to the JVM: nothing imported may print there.
    with contextlib.redirect_stdout(sys.stderr):
        for name in LIBRARIES:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - a worker will report it with its task
                failed.append(f"{name}: {type(exc).__name__}: {exc}")
        try:
            from fink_like.science.registry import available

            for name, entry in available().items():
                try:
                    for library in getattr(entry.load(), "preload", ()):
                        importlib.import_module(library)
                except Exception as exc:  # noqa: BLE001 - as above
                    failed.append(f"science module {name}: {type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - as above
            failed.append(f"science module registry: {type(exc).__name__}: {exc}")
    for line in failed:
        print(f"fink-like daemon: could not preload {line}", file=sys.stderr)
    return failed


def enter_workdir() -> None:
    """Work in the driver's folder on a one-machine cluster (``FINK_LIKE_WORKDIR``).

    Executors of a standalone worker run in their own work folder; the driver of a local
    cluster (``fink-like cluster``) sets this variable so relative paths in the settings
    (lake, models, catalogues) mean the same thing for the executors as for the driver.
    """
    import os

    workdir = os.environ.get("FINK_LIKE_WORKDIR")
    if workdir and os.path.isdir(workdir):
        os.chdir(workdir)


def light_collections() -> None:
    """Make PySpark's collection after every task of a reused worker a young-generation one.

    PySpark's daemon calls ``gc.collect()`` after each task; a worker holding the
    pipeline's libraries, models and catalogue indexes has ~400,000 tracked objects, and a
    full collection walks them all (~0.2 s of CPU, after every task of both roles). Here
    the objects imported by :func:`preload` are frozen out of the collector (``gc.freeze``,
    which also spares their pages from copy-on-write in the forked workers), and the call
    after each task collects generations 0 and 1 only. Python's own thresholds still run
    full collections when the old generation grows, so cyclic garbage is still freed.
    """
    import gc
    import types

    import pyspark.daemon as spark_daemon

    gc.freeze()
    spark_daemon.gc = types.SimpleNamespace(collect=lambda generation=1: gc.collect(min(generation, 1)))


if __name__ == "__main__":
    enter_workdir()
    preload()
    light_collections()
    from pyspark.daemon import manager

    manager()
