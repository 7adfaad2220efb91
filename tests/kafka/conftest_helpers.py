"""Plain helpers for the Kafka tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition

from fink_like.kafka.admin import watermarks


def read_back(bootstrap: str, topic: str) -> list[tuple]:
    """Every message of ``topic`` with a plain assign() consumer: (partition, offset, key, value, headers)."""
    conf = {"bootstrap.servers": bootstrap}
    consumer = Consumer({**conf, "group.id": "tests", "enable.auto.commit": False})
    out = []
    try:
        for partition, (low, high) in watermarks(conf, topic).items():
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, partition, low)])
            while True:
                msg = consumer.poll(10)
                assert msg is not None and msg.error() is None, f"reading {topic}[{partition}]"
                out.append((partition, msg.offset(), msg.key(), msg.value(), msg.headers()))
                if msg.offset() >= high - 1:
                    break
    finally:
        consumer.close()
    return sorted(out, key=lambda r: (r[0], r[1]))
