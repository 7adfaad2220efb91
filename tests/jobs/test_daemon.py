"""The preloading Python daemon: workers start with the pipeline's libraries imported."""

import contextlib
import io
import subprocess
import sys

import pyarrow as pa

from fink_like.jobs import daemon


def test_preload_imports_libraries_and_module_declared_ones_without_printing():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        failed = daemon.preload()
    assert failed == []
    assert out.getvalue() == ""   # the daemon's stdout belongs to the JVM
    for name in (*daemon.LIBRARIES, "torch", "sklearn.ensemble"):
        assert name in sys.modules, name


def test_a_library_that_fails_is_named_and_skipped(monkeypatch, capsys):
    monkeypatch.setattr(daemon, "LIBRARIES", ("json", "no_such_library_xyz"))
    failed = daemon.preload()
    assert len(failed) == 1 and failed[0].startswith("no_such_library_xyz: ModuleNotFoundError")
    assert "could not preload no_such_library_xyz" in capsys.readouterr().err


def test_the_daemon_module_runs_as_a_script_only_through_pyspark():
    # Importing it must not start a daemon (Spark runs it with -m).
    done = subprocess.run([sys.executable, "-c", "import fink_like.jobs.daemon"], capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stdout == b""


def test_spark_workers_start_with_torch_already_imported(spark):
    assert spark.conf.get("spark.python.daemon.module") == "fink_like.jobs.daemon"

    def probe(batches):
        import sys as worker_sys

        seen = "torch" in worker_sys.modules  # before this task imports anything
        for _ in batches:
            pass
        yield pa.RecordBatch.from_pylist([{"torch": seen}])

    rows = spark.range(2, numPartitions=2).mapInArrow(probe, "torch boolean").collect()
    assert [r["torch"] for r in rows] == [True, True]


def test_the_collection_after_each_task_is_a_young_one(monkeypatch):
    import gc

    import pyspark.daemon as spark_daemon

    monkeypatch.setattr(spark_daemon, "gc", gc)
    generations = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: generations.append(generation) or 0)
    monkeypatch.setattr(gc, "freeze", lambda: generations.append("freeze"))
    daemon.light_collections()
    spark_daemon.gc.collect()  # what pyspark's daemon calls after each task of a reused worker
    assert generations == ["freeze", 1]
