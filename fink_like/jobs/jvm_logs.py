"""Where the Spark JVM logs: a file beside the job's data, not the console.

Spark's default log4j2 configuration writes every WARN to stderr, so a run's console mixed
the progress bar and the project's JSON logs with JVM noise (the loopback-hostname
warning, NativeCodeLoader, "Current batch is falling behind", ...). With
:func:`jvm_log_conf`, the JVM logs WARN and above to ``spark.log`` in the job's folder
(the run folder for ``fink-like run``: the parent of ``spark.checkpoint_dir``) and only
ERROR and above to the console. Under ``spark-submit`` the cluster's own configuration
is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

_TEMPLATE = """\
# Written by fink-like (fink_like/jobs/jvm_logs.py) for one Spark driver.
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
rootLogger.appenderRef.console.ref = console
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{yyyy-MM-dd'T'HH:mm:ss.SSS}} %p %c{{1}}: %m%n%ex
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark %p %c{{1}}: %m%n%ex
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = error
"""


def log_folder(checkpoint_dir: str) -> Path | None:
    """The folder for ``spark.log``: the checkpoint folder's parent, when it is a local path."""
    if "://" in checkpoint_dir and not checkpoint_dir.startswith("file://"):
        return None
    local = checkpoint_dir.removeprefix("file://")
    return Path(local).resolve().parent


def jvm_log_conf(checkpoint_dir: str, user_conf: dict[str, str]) -> dict[str, str]:
    """Spark settings that route the driver JVM's log4j2 output (nothing under spark-submit,
    with a remote checkpoint folder, or when ``spark.conf`` sets the driver's Java options)."""
    folder = log_folder(checkpoint_dir)
    if folder is None or os.environ.get("PYSPARK_GATEWAY_PORT") or "spark.driver.extraJavaOptions" in user_conf:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "log4j2-spark.properties"
    config.write_text(_TEMPLATE.format(log_file=folder / "spark.log"))
    return {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{config}"}
