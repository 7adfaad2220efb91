"""fink-like bench: per-component memory accounting and its command-line checks."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from fink_like.cli import main
from fink_like.jobs.bench import ResourceMonitor


@pytest.mark.kafka
def test_peak_memory_is_split_by_component(kafka_broker):
    """This process, the embedded broker (a child named tansu) and any other child (Spark's)."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; b = bytearray(64 << 20); sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        # The child's memory only grows until it blocks on stdin, so the sample at stop()
        # is at least what is read in between.
        monitor = ResourceMonitor(period=3600)  # samples at start and stop only
        monitor.start()
        rss = {"me": psutil.Process().memory_info().rss, "child": psutil.Process(child.pid).memory_info().rss}
        monitor.stop()
    finally:
        child.stdin.close()
        child.wait()
    peaks = monitor.peaks_mb()
    assert set(peaks) == {"bench_driver", "spark_jvm_and_workers", "broker"}
    assert peaks["bench_driver"] >= rss["me"] / 2**20 * 0.5
    assert peaks["spark_jvm_and_workers"] >= rss["child"] / 2**20 * 0.5
    tansu = [p for p in psutil.Process().children(recursive=True) if p.name() == "tansu"]
    assert tansu and peaks["broker"] > 0
    assert monitor.peak_rss / 2**20 == pytest.approx(sum(peaks.values()), abs=1.0)


@pytest.mark.parametrize("argv, message", [
    (["--burst", "0"], "must be at least 1"),
    (["--burst", "100", "--search"], "--burst and --search"),
    (["--burst-target", "-1", "--burst", "10"], "must be positive"),
])
def test_usage_errors_exit_2(argv, message, tmp_path, capsys):
    config = tmp_path / "conf.yaml"
    config.write_text("kafka: {embedded: false, bootstrap_servers: '127.0.0.1:1'}\n")
    assert main(["--config", str(config), "bench", *argv]) == 2
    assert message in capsys.readouterr().err


def test_settled_memory_holds_a_cached_file_for_the_run_and_removes_it(tmp_path):
    from fink_like.jobs.bench import settled_memory

    fill = tmp_path / "run" / "settled-memory.fill"
    with pytest.raises(RuntimeError, match="trial failed"):
        with settled_memory(tmp_path / "run", size=5 << 20, chunk=1 << 20) as summary:
            assert fill.stat().st_size == 5 << 20 == summary["bytes"]
            raise RuntimeError("trial failed")
    assert not fill.exists()  # removed even when the trial fails
    with settled_memory(tmp_path / "none", size=0) as summary:
        assert summary == {"bytes": 0, "seconds": 0.0} and not (tmp_path / "none").exists()


def test_settled_memory_refuses_more_than_the_free_disk(tmp_path):
    import shutil

    from fink_like.errors import UsageError
    from fink_like.jobs.bench import settled_memory

    too_much = shutil.disk_usage(tmp_path).free + (1 << 30)
    with pytest.raises(UsageError, match="--settle-memory needs"):
        with settled_memory(tmp_path / "run", size=too_much):
            pass
    assert not (tmp_path / "run" / "settled-memory.fill").exists()
