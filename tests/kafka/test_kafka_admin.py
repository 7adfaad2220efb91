"""Topic creation, listing and watermarks against the embedded broker."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer

from fink_like.errors import KafkaError
from fink_like.kafka.admin import ensure_topics, list_topics, watermarks

pytestmark = pytest.mark.kafka


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_ensure_topics_is_idempotent(kafka_bootstrap):
    conf = {"bootstrap.servers": kafka_bootstrap}
    a, b = _name("adm-a"), _name("adm-b")
    assert sorted(ensure_topics(conf, [a, b], partitions=2)) == sorted([a, b])
    assert ensure_topics(conf, [a, b], partitions=2) == []
    topics = list_topics(conf)
    assert a in topics and b in topics
    assert set(watermarks(conf, a)) == {0, 1}


def test_watermarks_count_every_message(kafka_bootstrap):
    # Batched produce: tansu reports the last batch's base offset; watermarks() must not.
    conf = {"bootstrap.servers": kafka_bootstrap}
    topic = _name("adm-wm")
    ensure_topics(conf, [topic], partitions=2)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 50})
    counts = {0: 37, 1: 5}
    for partition, n in counts.items():
        for i in range(n):
            producer.produce(topic, value=b"x" * 1000, partition=partition)
    assert producer.flush(30) == 0
    assert watermarks(conf, topic) == {0: (0, 37), 1: (0, 5)}


def test_watermarks_of_unknown_topic_names_it(kafka_bootstrap):
    with pytest.raises(KafkaError, match="topic 'no-such-topic' does not exist"):
        watermarks({"bootstrap.servers": kafka_bootstrap}, "no-such-topic")


def test_ensure_topics_rejects_zero_partitions(kafka_bootstrap):
    with pytest.raises(KafkaError, match="at least 1"):
        ensure_topics({"bootstrap.servers": kafka_bootstrap}, ["x"], partitions=0)
