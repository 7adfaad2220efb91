"""The Spark session's settings that keep the console and the plans clean (no session started):
JVM logs go to ``spark.log`` beside the job's checkpoints, and credentials are redacted."""

from __future__ import annotations

import re

import pytest

from fink_like.jobs.jvm_logs import jvm_log_conf
from fink_like.jobs.spark import SPARK_REDACTION
from fink_like.kafka.conf import jvm_options, spark_options


def test_jvm_logs_go_to_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    conf = jvm_log_conf(str(tmp_path / "run" / "checkpoints"), {})
    properties = tmp_path / "run" / "log4j2-spark.properties"
    assert conf == {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{properties}"}
    text = properties.read_text()
    assert f"appender.file.fileName = {tmp_path / 'run' / 'spark.log'}" in text
    assert "appender.console.filter.threshold.level = error" in text  # console: real errors only


@pytest.mark.parametrize("checkpoint, user_conf, gateway", [
    ("hdfs://nn/ckpt", {}, None),                                       # remote: no local log file
    ("var/checkpoints", {"spark.driver.extraJavaOptions": "-Dx=y"}, None),  # the user's own options
    ("var/checkpoints", {}, "12345"),                                   # spark-submit: cluster config
])
def test_jvm_logs_leave_other_setups_alone(checkpoint, user_conf, gateway, monkeypatch):
    if gateway:
        monkeypatch.setenv("PYSPARK_GATEWAY_PORT", gateway)
    else:
        monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    assert jvm_log_conf(checkpoint, user_conf) == {}


def test_every_credential_option_is_redacted_by_spark():
    conf = {"bootstrap.servers": "k:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
            "sasl.username": "u", "sasl.password": "p", "ssl.key.password": "k", "ssl.key.pem": "pem",
            "sasl.oauthbearer.client.secret": "s"}
    options = {**spark_options(conf), **jvm_options(conf)}
    secret_keys = {k for k in options if any(w in k for w in ("password", "pem", "secret", "jaas", "username"))}
    assert secret_keys >= {"kafka.sasl.password", "kafka.sasl.jaas.config"}
    pattern = re.compile(SPARK_REDACTION.removeprefix("(?i)"), re.IGNORECASE)
    assert {k for k in options if pattern.search(k)} == secret_keys


@pytest.mark.spark
def test_the_session_writes_jvm_warnings_to_its_log_file(spark):
    """The shared session was built by get_spark: its JVM logs to spark.log, not the console."""
    options = spark.sparkContext.getConf().get("spark.driver.extraJavaOptions", "")
    assert "-Dlog4j2.configurationFile=file:" in options
    properties = options.split("-Dlog4j2.configurationFile=file:", 1)[1].split()[0]
    log_file = next(line.split("=", 1)[1].strip() for line in open(properties)
                    if line.startswith("appender.file.fileName"))
    text = open(log_file).read()
    assert " WARN " in text  # e.g. NativeCodeLoader, the loopback host name: here, not on stderr
