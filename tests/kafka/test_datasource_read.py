"""Reading Kafka with the ``finkkafka`` data source: streaming (micro-batches) and batch.

Expectations are the rows the test produced (topic, partition, offset, value, key,
timestamp), known independently of the source because each partition is written
explicitly and offsets continue from the partition's end.
"""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.spark]


def test_stream_reads_exact_rows(stream_once, new_topic, produce, tmp_path):
    topic = new_topic(2)
    expected = produce(topic, {0: 7, 1: 5})
    batches = stream_once(tmp_path / "ck", subscribe=topic)
    rows = sorted(r for _, b in batches for r in b)
    assert rows == expected
    assert len(batches) == 1


def test_max_offsets_per_trigger_splits_batches(stream_once, new_topic, produce, tmp_path):
    topic = new_topic(2)
    expected = produce(topic, {0: 18, 1: 6})
    batches = stream_once(tmp_path / "ck", subscribe=topic, maxOffsetsPerTrigger="10")
    # 24 messages, at most 10 a batch, shared 3:1 like the backlogs: 10, 10, 4.
    assert [len(b) for _, b in batches] == [10, 10, 4]
    first = sorted(batches[0][1])
    assert [(r[1], r[2]) for r in first] == [(0, i) for i in range(8)] + [(1, 0), (1, 1)]
    assert sorted(r for _, b in batches for r in b) == expected


def test_restart_from_checkpoint_reads_only_new(stream_once, new_topic, produce, tmp_path):
    topic = new_topic(2)
    first = produce(topic, {0: 4, 1: 3})
    ckpt = tmp_path / "ck"
    got = stream_once(ckpt, subscribe=topic)
    assert sorted(r for _, b in got for r in b) == first
    second = produce(topic, {0: 2, 1: 5})
    again = stream_once(ckpt, subscribe=topic)
    assert sorted(r for _, b in again for r in b) == second
    assert again[0][0] == got[-1][0] + 1  # batch ids continue
    assert stream_once(ckpt, subscribe=topic) == []


def test_starting_offsets_latest(stream_once, new_topic, produce, tmp_path):
    topic = new_topic(2)
    produce(topic, {0: 3, 1: 3})
    ckpt = tmp_path / "ck"
    assert all(not b for _, b in stream_once(ckpt, subscribe=topic,
                                             startingOffsets="latest"))
    later = produce(topic, {0: 2, 1: 1})
    got = stream_once(ckpt, subscribe=topic, startingOffsets="latest")
    assert sorted(r for _, b in got for r in b) == later


def test_starting_offsets_json(stream_once, new_topic, produce, tmp_path):
    topic = new_topic(2)
    rows = produce(topic, {0: 6, 1: 4})
    spec = json.dumps({topic: {"0": 4, "1": -2}})
    got = stream_once(tmp_path / "ck", subscribe=topic, startingOffsets=spec)
    assert sorted(r for _, b in got for r in b) == [r for r in rows if r[1] == 1 or r[2] >= 4]


def test_subscribe_pattern_picks_up_new_topics(stream_once, new_topic, produce, tmp_path):
    token = uuid.uuid4().hex[:8]
    a = new_topic(1, name=f"pat-{token}-a")
    first = produce(a, {0: 2})
    ckpt, pattern = tmp_path / "ck", f"pat-{token}-.*"
    got = stream_once(ckpt, subscribePattern=pattern)
    assert sorted(r for _, b in got for r in b) == first
    b = new_topic(2, name=f"pat-{token}-b")  # appears after the query started
    more = produce(b, {0: 1, 1: 2}) + produce(a, {0: 1})
    again = stream_once(ckpt, subscribePattern=pattern)
    assert sorted(r for _, batch in again for r in batch) == sorted(more)


def test_batch_read_between_offsets(spark, kafka_bootstrap, new_topic, produce):
    topic = new_topic(2)
    rows = produce(topic, {0: 5, 1: 5})
    df = (spark.read.format("finkkafka").option("kafka.bootstrap.servers", kafka_bootstrap)
          .option("subscribe", topic).option("maxRecordsPerPartition", "2")
          .option("startingOffsets", json.dumps({topic: {"0": 1}}))
          .option("endingOffsets", json.dumps({topic: {"0": 4, "1": 3}})).load())
    # p0 [1, 4) and p1 [0, 3), cut into ranges of at most 2 messages.
    assert df.rdd.getNumPartitions() == 4
    got = sorted((r.topic, r.partition, r.offset, bytes(r.value), None if r.key is None else bytes(r.key), r.ts)
                 for r in df.selectExpr("*", "unix_millis(timestamp) AS ts").collect())
    assert got == [r for r in rows if (r[1] == 0 and 1 <= r[2] < 4) or (r[1] == 1 and r[2] < 3)]


def test_batch_read_rejects_latest_start(spark, kafka_bootstrap, new_topic):
    topic = new_topic(1)
    df = (spark.read.format("finkkafka").option("kafka.bootstrap.servers", kafka_bootstrap)
          .option("subscribe", topic).option("startingOffsets", "latest").load())
    with pytest.raises(Exception, match="startingOffsets=latest"):
        df.collect()


def test_planning_probes_the_end_only_when_the_reported_high_stands_still(kafka_bootstrap, new_topic, produce):
    """The embedded broker hides a producer's last batch: planning finds it once the stream pauses."""
    from fink_like.kafka.datasource import _Cluster
    from fink_like.kafka.options import parse_read_options

    topic = new_topic(1)
    cluster = _Cluster(parse_read_options({"subscribe": topic, "kafka.bootstrap.servers": kafka_bootstrap}))
    try:
        produce(topic, {0: 40})
        assert cluster.bounds([(topic, 0)]) == {(topic, 0): (0, 40)}   # first look: probed
        produce(topic, {0: 40})
        moving = cluster.bounds([(topic, 0)])[(topic, 0)][1]
        assert 40 <= moving <= 80                                       # every offset below exists
        assert cluster.bounds([(topic, 0)]) == {(topic, 0): (0, 80)}   # stood still: probed, exact
        assert cluster.bounds([(topic, 0)]) == {(topic, 0): (0, 80)}   # never backwards
    finally:
        cluster.close()


_PLAN_ACROSS_DELETION = """
import sys
from confluent_kafka import Producer
from fink_like.kafka.admin import delete_topics, ensure_topics
from fink_like.kafka.datasource import _Cluster
from fink_like.kafka.options import parse_read_options

bootstrap, old, new = sys.argv[1:4]
conf = {"bootstrap.servers": bootstrap}
ensure_topics(conf, [old, new], 1)
producer = Producer(conf)
for topic in (old, new):
    for i in range(20):
        producer.produce(topic, value=b"x" * 100, partition=0)
assert producer.flush(30) == 0
cluster = _Cluster(parse_read_options({"subscribePattern": old[:-1] + ".*",
                                       "kafka.bootstrap.servers": bootstrap}))
assert cluster.bounds([(old, 0)]) == {(old, 0): (0, 20)}     # probed (first look)
delete_topics(conf, [old])                                      # as the driver's janitor does
for round_ in range(3):                                         # later plans probe the other segment
    producer.produce(new, value=b"y", partition=0)
    assert producer.flush(30) == 0
    cluster.bounds([(new, 0)])
    cluster.bounds([(new, 0)])
    cluster.partitions()
cluster.close()
print("planned")
"""


def test_planning_survives_the_deletion_of_a_probed_segment(kafka_bootstrap):
    """The planner probes segments that the driver deletes once read; a consumer that was
    once assigned a deleted topic crashes the process (librdkafka with the embedded
    broker), so probes use consumers of their own. Run in a process of its own: the
    failure is a segmentation fault."""
    import subprocess
    import sys
    import uuid

    base = f"plan-{uuid.uuid4().hex[:6]}"
    done = subprocess.run([sys.executable, "-c", _PLAN_ACROSS_DELETION, kafka_bootstrap, f"{base}.1", f"{base}.2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "planned" in done.stdout
