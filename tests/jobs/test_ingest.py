"""Simulator -> embedded Kafka -> ingestion job -> raw lake: exactly the input alerts, once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fink_like.jobs import lake
from fink_like.jobs.driver import run_job
from fink_like.kafka.conf import client_conf
from fink_like.simulator import load_alerts, replay

pytestmark = [pytest.mark.spark, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def all_alerts(shared_data):
    """Every real alert of every schema version, as wire-format messages."""
    folders = [shared_data / "ztf" / "alerts-3.3", shared_data / "ztf" / "alerts-4.02",
               shared_data / "lsst" / "alerts-7.4", shared_data / "lsst" / "alerts-9.0"]
    return load_alerts(folders)


def _expected_ids(alerts):
    from fink_like.surveys import decode_packet

    ids = []
    for m in alerts:
        adapter, record = decode_packet(m.value)
        ids.append((m.survey, adapter.alert_id(record)))
    return sorted(ids)


def test_every_alert_once_and_bad_messages_quarantined(spark, job_settings, fresh_topic, all_alerts,
                                                        bad_messages):
    topic = fresh_topic("ingest")
    settings = job_settings(topic, input={"max_offsets_per_trigger": 400})
    bad = bad_messages
    messages = [(m.key, m.value) for m in all_alerts]
    # Bad messages in the middle of the stream: the stream must carry on after them.
    half = len(messages) // 2
    messages = messages[:half] + [(k.encode(), v) for k, v, _ in bad] + messages[half:]
    report = replay(messages, topic, client_conf(settings.kafka))
    assert report.sent == len(messages)

    totals = run_job(settings, source="kafka", stages=("raw",), name="ingest", available_now=True)

    raw = lake.read_lake(settings.lake_path("raw"), columns=["survey", "alert_id", "night"])
    got = sorted(zip(raw["survey"].to_pylist(), raw["alert_id"].to_pylist()))
    assert got == _expected_ids(all_alerts)
    quarantine = lake.read_lake(settings.lake_path("quarantine"))
    assert sorted(quarantine["key"].to_pylist()) == sorted(k.encode() for k, _v, _r in bad)
    by_key = dict(zip(quarantine["key"].to_pylist(), quarantine["reason"].to_pylist()))
    for key, value, reason in bad:
        if reason:
            assert by_key[key.encode()] == reason, key
    originals = dict(zip(quarantine["key"].to_pylist(), quarantine["value"].to_pylist()))
    assert all(originals[k.encode()] == v for k, v, _ in bad), "original bytes kept"
    assert totals.consumed == len(messages) == totals.raw + totals.quarantined
    assert totals.batches >= 3, "maxOffsetsPerTrigger splits the stream into several batches"


def test_killed_mid_stream_and_restarted_is_exactly_once(spark, job_settings, fresh_topic, all_alerts,
                                                         tmp_path):
    topic = fresh_topic("restart")
    settings = job_settings(topic, input={"max_offsets_per_trigger": 150})
    replay([(m.key, m.value) for m in all_alerts], topic, client_conf(settings.kafka))
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "FINK_LIKE_CONFIG": "",
           **_env_of(settings)}
    proc = subprocess.Popen([sys.executable, "-m", "fink_like.cli", "ingest"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stderr:  # structured logs: wait for the second completed batch
            if line.startswith("{") and json.loads(line).get("msg") == "batch done" \
                    and json.loads(line)["batch"] >= 1:
                break
        else:
            pytest.fail(f"ingestion exited before two batches (rc={proc.wait()})")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    before = lake.read_lake(settings.lake_path("raw"), columns=["alert_id"]).num_rows
    assert 0 < before < len(all_alerts), "killed mid-stream"

    run_job(settings, source="kafka", stages=("raw",), name="ingest", available_now=True)

    raw = lake.read_lake(settings.lake_path("raw"), columns=["survey", "alert_id"])
    assert sorted(zip(raw["survey"].to_pylist(), raw["alert_id"].to_pylist())) == _expected_ids(all_alerts)


def _env_of(settings) -> dict:
    return {
        "FINK_LIKE__KAFKA__EMBEDDED": "false",
        "FINK_LIKE__KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "FINK_LIKE__INPUT__TOPICS": json.dumps(settings.input.topics),
        "FINK_LIKE__INPUT__MAX_OFFSETS_PER_TRIGGER": str(settings.input.max_offsets_per_trigger),
        "FINK_LIKE__LAKE__ROOT": settings.lake.root,
        "FINK_LIKE__SPARK__CHECKPOINT_DIR": settings.spark.checkpoint_dir,
        "FINK_LIKE__SPARK__TRIGGER_SECONDS": "0",
        "FINK_LIKE__METRICS__ENABLED": "false",
    }
