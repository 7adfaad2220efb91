

def test_probe_stops_after_its_limit_with_a_valid_bound(kafka_bootstrap):
    """A producer appending faster than the probe reads must not keep it running forever."""
    import uuid

    from confluent_kafka import Producer

    from fink_like.kafka.admin import ensure_topics, offsets_consumer, true_high

    topic = f"probe-{uuid.uuid4().hex[:8]}"
    conf = {"bootstrap.servers": kafka_bootstrap}
    ensure_topics(conf, [topic])
    producer = Producer(conf)
    for i in range(50):
        producer.produce(topic, value=b"x" * 100, key=str(i).encode())
    producer.flush(10)
    consumer = offsets_consumer(conf)
    try:
        bounded = true_high(consumer, topic, 0, 0, 1, limit=10)
        by_bytes = true_high(consumer, topic, 0, 0, 1, max_bytes=1000)   # 10 messages of 100 bytes
        full = true_high(consumer, topic, 0, 0, 1)
    finally:
        consumer.close()
    assert 1 < bounded <= 11 and 1 < by_bytes <= 11 and full == 50


def test_delete_topics_removes_what_exists_and_skips_the_rest(kafka_bootstrap):
    import uuid

    from fink_like.kafka.admin import delete_topics, ensure_topics, list_topics

    conf = {"bootstrap.servers": kafka_bootstrap}
    topic = f"gone-{uuid.uuid4().hex[:8]}"
    ensure_topics(conf, [topic])
    assert delete_topics(conf, [topic, f"{topic}-never-made"]) == [topic]
    assert topic not in list_topics(conf)
    assert delete_topics(conf, [topic]) == []
