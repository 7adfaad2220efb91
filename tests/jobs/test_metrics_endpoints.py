"""Every job serves Prometheus from its driver: scraped from ``ingest --available-now`` and ``serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from fink_like.cli import main
from fink_like.kafka.conf import client_conf
from fink_like.kafka.embedded import free_port
from fink_like.simulator import load_messages, replay

ROOT = Path(__file__).resolve().parents[2]


def _scrape(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


@pytest.mark.spark
@pytest.mark.kafka
def test_ingest_available_now_serves_its_counts(spark, job_settings, fresh_topic, shared_data, monkeypatch,
                                                tmp_path):
    topic = fresh_topic("metrics")
    settings = job_settings(topic)
    messages = load_messages([shared_data / "lsst" / "alerts-9.0"])
    replay(messages, topic, client_conf(settings.kafka))
    port = free_port()
    env = {"FINK_LIKE__KAFKA__EMBEDDED": "false",
           "FINK_LIKE__KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
           "FINK_LIKE__INPUT__TOPICS": json.dumps([topic]), "FINK_LIKE__LAKE__ROOT": settings.lake.root,
           "FINK_LIKE__SPARK__CHECKPOINT_DIR": settings.spark.checkpoint_dir,
           "FINK_LIKE__METRICS__PORT": str(port)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("FINK_LIKE_CONFIG", raising=False)
    assert main(["ingest", "--available-now"]) == 0
    # The endpoint outlives the job in its process: the final counts are there.
    samples = _scrape(port)
    assert samples['fink_like_alerts_total{stage="consumed"}'] == len(messages)
    assert samples['fink_like_alerts_total{stage="raw"}'] == len(messages)
    assert samples["fink_like_lost_offsets_total"] == 0
    assert "fink_like_batch_duration_seconds_count" in samples


def test_serve_exports_request_counts_and_latency(tmp_path, shared_data):
    from fink_like.archive.writer import ArchiveWriter
    from fink_like.config import load_settings
    from fink_like.surveys import read_alert_files

    archive = tmp_path / "archive.sqlite"  # serve reads an existing archive: write real alerts first
    writer = ArchiveWriter(load_settings(None, env={}, overrides={"archive": {"path": str(archive)}}))
    writer.write(read_alert_files([shared_data / "lsst" / "alerts-9.0"]))
    writer.close()
    api_port, metrics_port = free_port(), free_port()
    env = {**os.environ, "FINK_LIKE__ARCHIVE__PATH": str(archive),
           "FINK_LIKE__METRICS__PORT": str(metrics_port)}
    env.pop("FINK_LIKE_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "fink_like.cli", "serve", "--port", str(api_port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 60
        while True:  # poll the API until it answers, against a deadline
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"fink-like serve did not answer (exit {proc.poll()})")
                time.sleep(0.2)  # polling interval of the readiness loop above
        urllib.request.urlopen(f"{base}/latest", timeout=5).read()
        urllib.request.urlopen(f"{base}/latest", timeout=5).read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/cone?ra=10&dec=95&radius=5", timeout=5)
        samples = _scrape(metrics_port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert samples['fink_like_api_requests_total{method="GET",route="/latest",status="200"}'] == 2
    assert samples['fink_like_api_requests_total{method="GET",route="/cone",status="400"}'] == 1
    assert samples['fink_like_api_request_seconds_count{route="/latest"}'] == 2
