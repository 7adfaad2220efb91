"""The lake on ``s3://`` through pyarrow, against moto's S3 server started here.

moto in server mode is a **test double**: a local S3-compatible HTTP server, not AWS.
The lake reaches it exactly as it would reach MinIO, Ceph or AWS: ``lake.s3_endpoint``,
``lake.s3_region`` and the credentials from the settings (never Hadoop's fs.s3a keys).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from fink_like.errors import ConfigError
from fink_like.jobs import lake
from fink_like.kafka.embedded import free_port

BUCKET = "fink-like-lake"


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server (test double) on a free loopback port, with one bucket."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test-key",
                     aws_secret_access_key="test-secret").create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def _s3_settings(make_settings, endpoint: str, **extra):
    import uuid

    lake_conf = {"root": f"s3://{BUCKET}/lake-{uuid.uuid4().hex[:8]}",  # one lake per test
                 "s3_endpoint": endpoint, "s3_region": "us-east-1",
                 "s3_access_key_id": "test-key", "s3_secret_access_key": "test-secret"}
    return make_settings(lake=lake_conf, **extra)


def test_write_and_read_back_through_the_settings(make_settings, s3_endpoint):
    settings = _s3_settings(make_settings, s3_endpoint)
    table = pa.table({"alert_id": [1, 2, 3], "night": ["20240101", "20240101", "20240102"]})
    area = settings.lake_path("raw")
    assert lake.write_named(table, area, [lake.kafka_name("t", 0, 0)], settings.lake) == \
        {"20240101": 2, "20240102": 1}
    back = lake.read_lake(area, s3=settings.lake)
    assert sorted(back["alert_id"].to_pylist()) == [1, 2, 3]
    assert "test-secret" not in str(settings.redacted())


def test_an_s3_endpoint_that_does_not_answer_names_the_key(make_settings):
    settings = _s3_settings(make_settings, f"http://127.0.0.1:{free_port()}")
    settings = settings.model_copy(update={"lake": settings.lake.model_copy(update={"s3_timeout_seconds": 1.0})})
    with pytest.raises(ConfigError, match="lake.s3_endpoint: the lake's S3 at http://127.0.0.1"):
        lake.filesystem(settings.lake_path("raw"), settings.lake)


@pytest.mark.spark
@pytest.mark.kafka
def test_pipeline_writes_every_alert_once_to_s3(spark, make_settings, s3_endpoint, kafka_bootstrap,
                                                 fresh_topic, shared_data):
    from fink_like.jobs.driver import run_job
    from fink_like.simulator import load_messages, replay

    topic = fresh_topic("s3")
    settings = _s3_settings(make_settings, s3_endpoint,
                            kafka={"embedded": False, "bootstrap_servers": kafka_bootstrap},
                            input={"topics": [topic], "max_offsets_per_trigger": 60},
                            metrics={"enabled": False})
    messages = load_messages([shared_data / "lsst" / "alerts-9.0"])
    replay(messages, topic, {"bootstrap.servers": kafka_bootstrap})
    totals = run_job(settings, source="kafka", stages=("raw",), name="ingest", available_now=True)
    assert totals.raw == len(messages) and totals.batches >= 2
    raw = lake.read_lake(settings.lake_path("raw"), columns=["alert_id"], s3=settings.lake)
    assert raw.num_rows == len(messages) == len(set(raw["alert_id"].to_pylist()))
