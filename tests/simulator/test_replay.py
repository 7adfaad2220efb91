"""Replays into the embedded Kafka deliver exactly the input keys; the CLI checks its arguments."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from fink_like.cli import main
from fink_like.kafka.admin import watermarks
from fink_like.simulator import load_messages, replay, replay_many


def _read_keys(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-replay",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, 0, 0)])
    keys: list[bytes] = []
    try:
        while True:
            msg = consumer.poll(10)
            assert msg is not None, f"no message from {topic} after {len(keys)} of {count}"
            if msg.error():
                if msg.error().code() == msg.error()._PARTITION_EOF:
                    break
                raise AssertionError(msg.error())
            keys.append(msg.key())
    finally:
        consumer.close()
    return keys


@pytest.mark.kafka
def test_replay_delivers_exactly_the_input(kafka_bootstrap, shared_data):
    messages = load_messages(shared_data / "lsst/alerts-9.0", clone_factor=2, seed=1)[:120]
    topic = f"sim-{uuid.uuid4().hex[:8]}"
    report = replay(messages, topic, {"bootstrap.servers": kafka_bootstrap}, rate=400.0)
    assert (report.sent, report.failed) == (len(messages), 0)
    assert report.bytes == sum(len(v) for _, v in messages)
    assert report.seconds >= (len(messages) - 1) / 400.0  # paced, never faster than asked
    assert report.rate == pytest.approx(report.sent / report.seconds)
    assert watermarks({"bootstrap.servers": kafka_bootstrap}, topic) == {0: (0, len(messages))}
    assert _read_keys(kafka_bootstrap, topic, len(messages)) == [k for k, _ in messages]


@pytest.mark.kafka
def test_replay_many_and_cli_route_by_survey(kafka_bootstrap, shared_data, tmp_path):
    ztf, lsst = f"z-{uuid.uuid4().hex[:8]}", f"l-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "conf.yaml"
    config.write_text(
        f"kafka: {{embedded: false, bootstrap_servers: '{kafka_bootstrap}'}}\n"
        f"simulator: {{ztf_topic: {ztf}, lsst_topic: {lsst}, rate: 1000}}\n")
    data = [str(shared_data / "ztf/alerts-3.3"), str(shared_data / "lsst/alerts-7.4")]
    code = main(["--config", str(config), "simulate", "--data", data[0], "--data", data[1]])
    assert code == 0
    expected_ztf = [k for k, _ in load_messages(data[0])]
    expected_lsst = [k for k, _ in load_messages(data[1])]
    assert _read_keys(kafka_bootstrap, ztf, len(expected_ztf)) == expected_ztf
    assert _read_keys(kafka_bootstrap, lsst, len(expected_lsst)) == expected_lsst
    report = replay_many([(ztf, load_messages(data[0])[:5]), (lsst, [])], {"bootstrap.servers": kafka_bootstrap})
    assert report.sent == 5 and report.topic == f"{ztf},{lsst}"


@pytest.mark.parametrize("argv, message", [
    (["--rate", "0"], "must be positive"),
    (["--clone-factor", "-2"], "at least 1"),
    (["--rate", "nan"], "not a finite number"),
    (["--seed", "-1"], "at least 0"),
    (["--survey", "hst"], "invalid choice"),
    (["--data", "/no/such/folder"], "not found"),
    (["--count", "1000000", "--data", "LSST"], "exceeds"),
])
def test_cli_usage_errors_exit_2(argv, message, shared_data, capsys, tmp_path):
    config = tmp_path / "conf.yaml"
    config.write_text("kafka: {embedded: false, bootstrap_servers: '127.0.0.1:1'}\n")
    argv = [str(shared_data / "lsst/alerts-9.0") if a == "LSST" else a for a in argv]
    assert main(["--config", str(config), "simulate", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.kafka
def test_one_bad_file_is_skipped_and_reported_the_rest_is_sent(kafka_bootstrap, shared_data, tmp_path, capsys):
    """A truncated file among good ones: the good ones are sent, the bad one named; --strict aborts."""
    good = sorted((shared_data / "ztf/alerts-4.02").glob("*.avro"))[:6]
    folder = tmp_path / "night"
    folder.mkdir()
    for path in good:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "broken.avro").write_bytes(good[0].read_bytes()[:40])
    (folder / "empty.avro").write_bytes(b"")
    topic = f"z-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "conf.yaml"
    config.write_text(f"kafka: {{embedded: false, bootstrap_servers: '{kafka_bootstrap}'}}\n"
                      f"simulator: {{ztf_topic: {topic}, rate: 1000}}\n")
    assert main(["--config", str(config), "simulate", "--data", str(folder)]) == 1
    captured = capsys.readouterr()
    report = __import__("json").loads(captured.out)
    assert report["sent"] == len(good) and report["failed"] == 0
    assert sorted(report["skipped_files"]) == [str(folder / "broken.avro"), str(folder / "empty.avro")]
    assert f"skipped {folder / 'broken.avro'}" in captured.err
    expected = [k for k, _ in load_messages(good)]
    assert sorted(_read_keys(kafka_bootstrap, topic, len(expected))) == sorted(expected)

    assert main(["--config", str(config), "simulate", "--data", str(folder), "--strict"]) == 1
    err = capsys.readouterr().err
    assert "broken.avro" in err and "Traceback" not in err


@pytest.mark.kafka
def test_a_spool_replays_from_disk_in_order_and_in_segments(kafka_bootstrap, shared_data, tmp_path):
    """Streams read lazily from a spool: every message once, in order, rolled into segments."""
    from fink_like.kafka.retention import segment_topic
    from fink_like.simulator.spool import build_spool

    paths = [shared_data / "ztf/alerts-3.3", shared_data / "lsst/alerts-7.4"]
    spool = build_spool(paths, 300, tmp_path / "spool", seed=3, workers=1)
    ztf, lsst = f"z-{uuid.uuid4().hex[:8]}", f"l-{uuid.uuid4().hex[:8]}"
    topics = {"ztf": ztf, "lsst": lsst}
    streams = [(topics[s], stream) for s, stream in spool.streams.items()]
    report = replay_many(streams, {"bootstrap.servers": kafka_bootstrap}, rate=2000.0, roll=100)
    assert (report.sent, report.failed) == (300, 0)
    assert report.bytes == sum(len(v) for _t, stream in streams for _k, v in stream)
    for topic, stream in streams:
        expected = [k for k, _ in stream]
        got = []
        for index in range(-(-len(expected) // 100)):
            part = expected[index * 100:(index + 1) * 100]
            got += _read_keys(kafka_bootstrap, segment_topic(topic, index), len(part))
        assert got == expected
