"""Writing to Kafka with the ``finkkafka`` data source, read back with a plain assign() consumer."""

from __future__ import annotations

import time

import pytest
from conftest_helpers import read_back

from fink_like.kafka.embedded import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.spark]

ROW_SCHEMA = "key binary, value binary, topic string, headers array<struct<key:string,value:binary>>"


def test_batch_write_delivers_every_row(spark, kafka_bootstrap, new_topic):
    a, b = new_topic(1), new_topic(1)
    rows = [(None if i % 2 else f"k{i}".encode(), f"v{i}".encode() * 10_000, a if i < 7 else b,
             [("n", str(i).encode())] if i % 3 == 0 else None) for i in range(10)]
    df = spark.createDataFrame(rows, ROW_SCHEMA).coalesce(1)
    df.write.format("finkkafka").option("kafka.bootstrap.servers", kafka_bootstrap).mode("append").save()
    for topic in (a, b):
        mine = [r for r in rows if r[2] == topic]
        got = read_back(kafka_bootstrap, topic)
        assert [(m[2], m[3], m[4]) for m in got] == [(k, v, h) for k, v, _, h in mine]
        assert [m[1] for m in got] == list(range(len(mine)))


def test_topic_option_and_string_columns(spark, kafka_bootstrap, new_topic):
    topic = new_topic(1)
    df = spark.createDataFrame([("a", "x"), (None, "y")], "key string, value string").coalesce(1)
    (df.write.format("finkkafka").option("kafka.bootstrap.servers", kafka_bootstrap)
     .option("topic", topic).mode("append").save())
    assert [(m[2], m[3]) for m in read_back(kafka_bootstrap, topic)] == [(b"a", b"x"), (None, b"y")]


def test_stream_write_copies_a_topic(spark, kafka_bootstrap, new_topic, produce, tmp_path):
    source, sink = new_topic(2), new_topic(1)
    produced = produce(source, {0: 4, 1: 3})
    query = (spark.readStream.format("finkkafka").option("kafka.bootstrap.servers", kafka_bootstrap)
             .option("subscribe", source).load().select("key", "value")
             .writeStream.format("finkkafka").option("kafka.bootstrap.servers", kafka_bootstrap)
             .option("topic", sink).option("checkpointLocation", str(tmp_path / "ck"))
             .trigger(availableNow=True).start())
    assert query.awaitTermination(240)
    assert query.exception() is None
    by_value = lambda kv: kv[1]  # noqa: E731  values are unique; keys may be null
    got = sorted(((m[2], m[3]) for m in read_back(kafka_bootstrap, sink)), key=by_value)
    assert got == sorted(((r[4], r[3]) for r in produced), key=by_value)


def test_write_without_value_column_is_refused(spark, kafka_bootstrap):
    df = spark.createDataFrame([("a",)], "key string")
    with pytest.raises(Exception, match="needs a 'value' column"):
        (df.write.format("finkkafka").option("kafka.bootstrap.servers", kafka_bootstrap)
         .option("topic", "x").mode("append").save())


def test_write_to_unreachable_broker_fails_quickly(spark):
    servers = f"127.0.0.1:{free_port()}"
    df = spark.createDataFrame([("v",)], "value string").coalesce(1)
    started = time.monotonic()
    with pytest.raises(Exception, match=f"cannot reach Kafka at {servers}"):
        (df.write.format("finkkafka").option("kafka.bootstrap.servers", servers)
         .option("topic", "x").option("connectTimeoutMs", "2000").mode("append").save())
    assert time.monotonic() - started < 60
