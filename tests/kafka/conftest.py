"""Helpers for the Kafka tests: unique topics, exact producing, plain assign() reading."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer

from fink_like.kafka.admin import ensure_topics, watermarks

ALERT_SIZE = 80_000  # bytes: the size of a small ZTF alert
BASE_TS = 1_700_000_000_000  # ms since epoch


def payload(topic: str, partition: int, index: int) -> bytes:
    """An ~80 kB value that says where it was produced."""
    head = f"{topic}/{partition}/{index}/".encode()
    return head + bytes([index % 251]) * (ALERT_SIZE - len(head))


@pytest.fixture
def new_topic(kafka_bootstrap):
    """Factory: create a fresh topic with ``partitions`` partitions; returns its name."""

    def factory(partitions: int = 2, name: str | None = None) -> str:
        name = name or f"t-{uuid.uuid4().hex[:10]}"
        ensure_topics({"bootstrap.servers": kafka_bootstrap}, [name], partitions)
        return name

    return factory


@pytest.fixture
def produce(kafka_bootstrap):
    """Factory: produce ``counts[p]`` messages to partition ``p``; returns the expected rows.

    Each expected row is ``(topic, partition, offset, value, key, timestamp_ms)``; every
    third message has a key, the others a null key, and offsets continue from what the
    partition already holds.
    """

    def factory(topic: str, counts: dict[int, int]) -> list[tuple]:
        conf = {"bootstrap.servers": kafka_bootstrap}
        first = {p: high for p, (_, high) in watermarks(conf, topic).items()}
        producer = Producer({**conf, "linger.ms": 20})
        rows = []
        for partition, n in counts.items():
            for i in range(first[partition], first[partition] + n):
                key = f"k{i}".encode() if i % 3 == 0 else None
                value, ts = payload(topic, partition, i), BASE_TS + i
                producer.produce(topic, value=value, key=key, partition=partition, timestamp=ts)
                rows.append((topic, partition, i, value, key, ts))
        assert producer.flush(30) == 0
        return sorted(rows)

    return factory


@pytest.fixture
def stream_once(spark, kafka_bootstrap):
    """Factory: ``stream_once(checkpoint, **options)`` runs :func:`run_available_now`."""

    def factory(checkpoint, **options):
        return run_available_now(spark, kafka_bootstrap, checkpoint, **options)

    return factory


def run_available_now(spark, bootstrap: str, checkpoint, timeout: float = 240, **options) -> list[tuple]:
    """Run a ``finkkafka`` stream with ``trigger(availableNow=True)`` to the end.

    Returns ``[(batch_id, sorted rows)]`` with rows shaped like :func:`produce`'s.
    """
    batches = []

    def collect(df, batch_id):
        got = df.selectExpr("topic", "partition", "offset", "value", "key", "unix_millis(timestamp) AS ts",
                            "timestampType").collect()
        assert all(r.timestampType == 0 for r in got)  # CreateTime, as produced
        batches.append((batch_id, sorted((r.topic, r.partition, r.offset, bytes(r.value),
                                          None if r.key is None else bytes(r.key), r.ts) for r in got)))

    reader = spark.readStream.format("finkkafka").option("kafka.bootstrap.servers", bootstrap)
    for key, value in options.items():
        reader = reader.option(key, value)
    query = (reader.load().writeStream.foreachBatch(collect)
             .option("checkpointLocation", str(checkpoint)).trigger(availableNow=True).start())
    finished = query.awaitTermination(timeout)
    if query.exception() is not None:
        raise query.exception()
    assert finished, f"stream did not finish within {timeout} s"
    return batches
