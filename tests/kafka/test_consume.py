"""Exact range reads (the executor side of the data source), without Spark."""

from __future__ import annotations

import pytest
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (
    ArrayType, BinaryType, IntegerType, LongType, StringType, StructField, StructType, TimestampType,
)

from fink_like.errors import KafkaError
from fink_like.kafka.consume import ARROW_SCHEMA, read_range

# The row schema of Spark's JVM Kafka source with includeHeaders=true, spelled out.
JVM_KAFKA_SCHEMA = StructType([
    StructField("key", BinaryType()), StructField("value", BinaryType()), StructField("topic", StringType()),
    StructField("partition", IntegerType()), StructField("offset", LongType()),
    StructField("timestamp", TimestampType()), StructField("timestampType", IntegerType()),
    StructField("headers", ArrayType(StructType([StructField("key", StringType()),
                                                 StructField("value", BinaryType())]))),
])


def test_arrow_schema_is_what_spark_expects():
    assert to_arrow_schema(JVM_KAFKA_SCHEMA, timezone="UTC").equals(ARROW_SCHEMA)


@pytest.mark.kafka
def test_read_range_is_exact_and_chunked(kafka_bootstrap, new_topic, produce):
    topic = new_topic(1)
    rows = produce(topic, {0: 7})
    batches = list(read_range({"bootstrap.servers": kafka_bootstrap}, topic, 0, 2, 6, chunk_size=3))
    assert [b.num_rows for b in batches] == [3, 1]
    assert all(b.schema.equals(ARROW_SCHEMA) for b in batches)
    got = [r for b in batches for r in b.to_pylist()]
    assert [(r["offset"], r["value"], r["key"]) for r in got] == [(r[2], r[3], r[4]) for r in rows[2:6]]
    assert [int(r["timestamp"].timestamp() * 1000) for r in got] == [r[5] for r in rows[2:6]]
    assert {r["timestampType"] for r in got} == {0} and {r["headers"] for r in got} == {None}


@pytest.mark.kafka
def test_missing_offsets_are_reported_or_skipped(kafka_bootstrap, new_topic, produce):
    topic = new_topic(1)
    rows = produce(topic, {0: 3})
    conf = {"bootstrap.servers": kafka_bootstrap}
    with pytest.raises(KafkaError, match=rf"offsets \[3, 5\) of {topic}\[0\] cannot be read: the partition ends"):
        list(read_range(conf, topic, 0, 1, 5, poll_timeout=10))
    got = list(read_range(conf, topic, 0, 1, 5, poll_timeout=10, fail_on_data_loss=False))
    assert [r["offset"] for b in got for r in b.to_pylist()] == [r[2] for r in rows[1:]]


@pytest.mark.parametrize("values", [[b"ab", None, b"", b"xyz" * 1000], [None, None], [], [b"1"] * 9])
def test_binary_array_matches_pyarrow(values):
    import pyarrow as pa

    from fink_like.kafka.consume import binary_array

    built = binary_array(values)
    built.validate(full=True)
    assert built.equals(pa.array(values, type=pa.binary()))
