"""distribution.retention_seconds: time segments on the embedded broker, expired ones deleted, read in order."""

from __future__ import annotations

import time
import uuid

import pytest

from fink_like.client import AlertConsumer
from fink_like.config import FilterSpec, load_settings
from fink_like.distribution import publish
from fink_like.filters.engine import FilterEngine
from fink_like.kafka.admin import ensure_topics, list_topics
from fink_like.kafka.retention import (
    HORIZON, SLICES, TimeRetention, distribution_retention, segment_topic, time_segment,
)

NOW = 1_700_000_000.0


def _read(client, count: int) -> list:
    got = []
    while len(got) < count:
        polled = client.poll(10, timeout=5.0)
        assert polled, f"only {len(got)} of {count} alerts read"
        got += polled
    return got


def test_only_time_segments_older_than_the_retention_expire():
    retention = 400.0                      # slices of 100 s
    current = int(NOW // 100)
    keep = [segment_topic("dist", current - i) for i in range(SLICES + 1)]
    gone = [segment_topic("dist", current - SLICES - 1), segment_topic("dist", current - 50)]
    others = ["dist", "ztf.000003",        # an input stream's counted segment
              "other.000003",              # someone else's counted segment: below the horizon
              segment_topic("ztf", current - 50),          # an input base, whatever its index
              segment_topic("matched", current - 50),      # the input pattern
              segment_topic("dist", current - HORIZON - 1)]
    rule = TimeRetention({}, retention, ["ztf"], r"match.*")
    assert rule.expired(keep + gone + others, NOW) == sorted(gone)
    # what is kept is at most retention * (1 + 1/SLICES) old, what goes at least retention old
    assert (current - SLICES) * 100 > NOW - retention * (1 + 1 / SLICES)
    assert (current - SLICES) * 100 <= NOW - retention


def test_retention_applies_to_the_embedded_broker_only(tmp_path):
    config = tmp_path / "conf.yaml"
    config.write_text("distribution: {retention_seconds: 600}\nkafka: {embedded: true}\n")
    assert distribution_retention(load_settings(config, env={})) == 600
    config.write_text("distribution: {retention_seconds: 600}\n"
                      "kafka: {embedded: false, bootstrap_servers: 'k:9092'}\n")
    assert distribution_retention(load_settings(config, env={})) is None


@pytest.mark.kafka
def test_published_segments_are_read_in_order_and_expired_ones_deleted(enriched, kafka_bootstrap):
    conf = {"bootstrap.servers": kafka_bootstrap}
    topic, schema_topic = f"ret-{uuid.uuid4().hex[:6]}", f"schemas-{uuid.uuid4().hex[:6]}"
    batch = enriched.slice(0, 8)
    engine = FilterEngine([FilterSpec(name="all", topic=topic, expression="ndethist >= 1")], batch.schema)
    retention = 3600.0
    before = time.time()
    counts = publish(batch, engine, conf, schema_topic=schema_topic, retention=retention)
    assert counts == {topic: 8}
    segment = time_segment(topic, time.time(), retention)
    assert segment in (time_segment(topic, before, retention), time_segment(topic, time.time(), retention))
    assert topic not in list_topics(conf) and segment in list_topics(conf)

    # an expired segment (older than the retention), read to its end (empty)
    old = time_segment(topic, time.time() - 2 * retention, retention)
    ensure_topics(conf, [old])
    expected_first = [str(a) for a in batch.column("alert_id").to_pylist()]
    with AlertConsumer([topic], conf, from_beginning=True, schema_topic=schema_topic) as client:
        assert client._assigned == [old, segment]
        got = _read(client, 8)
        assert sorted(a.key for a in got) == sorted(expected_first)
        assert {a.topic for a in got} == {segment}

        client.refresh_segments()  # the old segment is closed and read: let go before deletion
        assert client._assigned == [segment]
        deleted = TimeRetention(conf, retention, []).prune(time.time())
        assert old in deleted and segment not in deleted
        assert old not in list_topics(conf) and segment in list_topics(conf)

        # the next segment, as publishers write it once the clock moves on: read from its start
        later = time_segment(topic, time.time() + retention / SLICES, retention)
        publish_into = FilterEngine([FilterSpec(name="all", topic=later, expression="ndethist >= 1")],
                                    batch.schema)
        publish(batch.slice(0, 3), publish_into, conf, schema_topic=schema_topic)
        client.refresh_segments()
        assert client._assigned == [segment, later]
        more = _read(client, 3)
        assert [a.topic for a in more] == [later] * 3


def test_detached_pruner_finishes_its_prune_and_then_does_nothing(tmp_path, monkeypatch):
    """The pruning listener's work runs on Spark's listener thread: detaching it waits for a
    prune under way (which probes segments with a consumer) before the caller deletes
    topics, and events delivered later prune nothing."""
    import threading
    from types import SimpleNamespace

    import fink_like.kafka.retention as retention
    from fink_like.jobs.driver import detach, pruning

    order, started, release, removed = [], threading.Event(), threading.Event(), threading.Event()

    class SlowJanitor:
        def __init__(self, conf, topics):
            pass

        def prune(self, committed):
            order.append("prune started")
            started.set()
            release.wait(30)
            order.append("prune finished")

    class Expiry:
        def __init__(self, *args):
            pass

        def prune(self, now):
            order.append("expired pruned")

    monkeypatch.setattr(retention, "SegmentJanitor", SlowJanitor)
    monkeypatch.setattr(retention, "TimeRetention", Expiry)
    config = tmp_path / "conf.yaml"
    config.write_text("kafka: {embedded: true, roll_messages: 10}\n"
                      "distribution: {retention_seconds: 600}\n")
    [listener] = pruning(load_settings(config, env={}), "127.0.0.1:1")
    event = SimpleNamespace(progress=SimpleNamespace(sources=[SimpleNamespace(endOffset='{"t": {"0": 1}}')]))
    spark = SimpleNamespace(streams=SimpleNamespace(removeListener=lambda listener: (order.append("removed"), removed.set())))

    bus = threading.Thread(target=listener.onQueryProgress, args=(event,))
    bus.start()
    assert started.wait(30)
    detaching = threading.Thread(target=lambda: (detach(spark, [listener]), order.append("detached")))
    detaching.start()
    assert removed.wait(30)
    release.set()
    detaching.join(30)
    bus.join(30)
    listener.onQueryProgress(event)  # delivered after detaching: nothing runs
    assert order == ["prune started", "removed", "prune finished", "expired pruned", "detached"]
