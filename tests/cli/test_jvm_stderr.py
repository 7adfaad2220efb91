"""A job's stderr carries no JVM start-up noise ("Using incubator modules"), and nothing else is lost."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from fink_like.jobs.jvm_gateway import JVM_NOISE, forward


def test_the_filtered_line_is_the_one_this_jvm_prints():
    """The JDK's own words: Spark's launcher option makes exactly this line (else the filter is stale)."""
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    out = subprocess.run([java, "--add-modules=jdk.incubator.vector", "-version"], capture_output=True, check=True)
    assert out.stderr.splitlines()[0].rstrip() in JVM_NOISE


def test_forward_drops_only_the_noise():
    read, write = os.pipe()
    sink_read, sink_write = os.pipe()
    lines = [b"WARNING: Using incubator modules: jdk.incubator.vector\n", b"ERROR SparkContext: boom\n",
             b"WARNING: Using incubator modules: jdk.incubator.vector, other\n", b"no newline at the end"]
    with os.fdopen(write, "wb") as source:
        source.write(b"".join(lines))
    forward(os.fdopen(read, "rb"), sink_write)
    os.close(sink_write)
    with os.fdopen(sink_read, "rb") as got:
        assert got.read() == b"".join(lines[1:])


@pytest.mark.spark
def test_a_job_started_from_the_cli_prints_no_incubator_warning(tmp_path):
    """``fink-like reprocess`` starts its Spark driver (an empty night range: the JVM runs, reads nothing)."""
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"lake": {"root": str(tmp_path / "lake")},
                                      "spark": {"checkpoint_dir": str(tmp_path / "run" / "ckpt")},
                                      "archive": {"path": str(tmp_path / "archive.sqlite")}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINK_LIKE", "PYSPARK_GATEWAY"))}
    out = subprocess.run([sys.executable, "-m", "fink_like.cli", "--config", str(config), "reprocess",
                          "--since", "2019-01-01", "--until", "2019-01-01", "--modules", "microlensing",
                          "--no-archive"], capture_output=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    assert out.stderr.decode().strip() == "reprocessed 0/0 nights (0 already done)"
    assert (tmp_path / "run" / "spark.log").stat().st_size > 0, "the driver JVM ran (and logged to its file)"
