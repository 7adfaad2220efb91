"""The driver's JVM, started by the job itself with its stderr filtered.

Spark 4's launcher adds ``--add-modules=jdk.incubator.vector`` to every JVM it starts
(``org.apache.spark.launcher.JavaModuleOptions``), and the JVM then prints
``WARNING: Using incubator modules: jdk.incubator.vector`` on stderr before any code
runs. No JVM option silences it (the JDK prints it unconditionally while resolving
modules), so when a job starts its own driver (``fink-like run``, any job, the tests;
not under ``spark-submit``, whose JVM is started before Python), the JVM is launched
through pyspark's ``launch_gateway`` with its stderr on a pipe; a daemon thread copies
every line to this process's stderr except the lines of :data:`JVM_NOISE`. Everything
else the JVM writes (errors, log4j's console appender) passes unchanged.
"""

from __future__ import annotations

import os
import threading

JVM_NOISE = (b"WARNING: Using incubator modules: jdk.incubator.vector",)
"""Exact stderr lines of the JVM that are dropped (trailing whitespace ignored)."""


def start_gateway(conf) -> None:
    """Start the driver JVM for ``conf`` (a SparkConf) with filtered stderr, unless one runs.

    Does nothing under ``spark-submit`` (``PYSPARK_GATEWAY_PORT`` set: the JVM exists)
    or when this process already has a gateway. The SparkContext created next (by
    ``SparkSession.builder.getOrCreate``) uses this gateway.
    """
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway

    if os.environ.get("PYSPARK_GATEWAY_PORT") or getattr(SparkContext, "_gateway", None) is not None:
        return
    import subprocess

    gateway = launch_gateway(conf, popen_kwargs={"stderr": subprocess.PIPE})
    threading.Thread(target=forward, args=(gateway.proc.stderr, 2), name="jvm-stderr", daemon=True).start()
    SparkContext(conf=conf, gateway=gateway)


def forward(source, fd: int) -> None:
    """Copy ``source``'s lines to file descriptor ``fd`` until EOF, dropping :data:`JVM_NOISE`."""
    with source:
        for line in iter(source.readline, b""):
            if line.rstrip() not in JVM_NOISE:
                os.write(fd, line)
