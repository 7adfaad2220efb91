"""CPU of the bench's process tree, grouped by component."""

import subprocess
import sys

from fink_like.jobs.cpu_tree import COMPONENTS, CpuTree, component_of


def test_processes_are_grouped_by_command_line():
    assert component_of("tansu", ["/opt/tansu", "--kafka-listener-url", "tcp://127.0.0.1:9092"]) == "broker"
    assert component_of("java", ["/usr/lib/jvm/bin/java", "-cp", "x", "org.apache.spark.deploy.SparkSubmit"]) == "jvm"
    assert component_of("python", ["/v/bin/python", "-m", "pyspark.sql.streaming.python_streaming_source_runner"]) \
        == "source_planner"
    assert component_of("python", ["/v/bin/python", "-m", "fink_like.jobs.daemon", "pyspark.worker"]) \
        == "python_workers"
    assert component_of("sh", ["/bin/sh", "-c", "true"]) == "other"


def test_a_child_process_cpu_is_counted_in_its_group():
    tree = CpuTree(every=0.0)
    child = subprocess.Popen([sys.executable, "-c", "sum(range(30_000_000)); import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        while tree.spent()["other"] < 0.2 and child.poll() is None:  # sampled while it runs (then waits on stdin)
            tree.sample()
    finally:
        child.communicate(b"")
    spent = tree.spent()
    assert set(spent) == set(COMPONENTS)
    assert spent["other"] >= 0.2 and spent["jvm"] == 0.0 and spent["broker"] == 0.0
    assert tree.timeline and tree.timeline[-1][1].keys() == spent.keys()
