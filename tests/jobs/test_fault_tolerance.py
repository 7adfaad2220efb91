"""Scripted fault test: ``kill -9`` the combined pipeline at random points during a replay.

The pipeline (``fink-like pipeline``: Kafka -> raw and science lakes -> archive -> topics)
runs as a subprocess while alerts are being replayed; it is killed with SIGKILL at a
random moment after a random number of completed batches, and restarted, several
times. A final run drains what is left. Then every input alert must be in the raw lake,
the science lake and the archive exactly once, in every topic whose filter selects it
at least once, and the quarantine must hold exactly the deliberately bad messages.

CI runs a short version (2 kills). ``FINK_LIKE_FAULT_KILLS=5`` runs the full one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from outputs_check import assert_exactly_once

from fink_like.jobs import lake
from fink_like.jobs.driver import run_job
from fink_like.kafka.conf import client_conf
from fink_like.simulator import load_alerts, replay

pytestmark = [pytest.mark.spark, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("FINK_LIKE_FAULT_KILLS", "2"))
FILTERS = [
    {"name": "bright", "expression": "mag < 18.5", "select": lambda d: d.mag < 18.5},
    {"name": "rubin", "expression": "survey = 'lsst'", "select": lambda d: d.survey == "lsst"},
    {"name": "sn", "expression": "snia_prob > 0.4", "select": lambda d: d.snia_prob > 0.4},
]


def _env(settings, topic: str) -> dict:
    filters = [{"name": f["name"], "topic": f"{topic}.{f['name']}", "expression": f["expression"]}
               for f in FILTERS]
    return {
        **os.environ,
        "PYSPARK_PYTHON": sys.executable,
        "FINK_LIKE_CONFIG": str(ROOT / "conf" / "local.yaml"),
        "FINK_LIKE__KAFKA__EMBEDDED": "false",
        "FINK_LIKE__KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "FINK_LIKE__INPUT__TOPICS": json.dumps([topic]),
        "FINK_LIKE__INPUT__MAX_OFFSETS_PER_TRIGGER": "120",
        "FINK_LIKE__LAKE__ROOT": settings.lake.root,
        "FINK_LIKE__SPARK__CHECKPOINT_DIR": settings.spark.checkpoint_dir,
        "FINK_LIKE__SPARK__TRIGGER_SECONDS": "0",
        "FINK_LIKE__ARCHIVE__PATH": settings.archive.path,
        "FINK_LIKE__METRICS__ENABLED": "false",
        "FINK_LIKE__DISTRIBUTION__SCHEMA_TOPIC": f"{topic}.schemas",
        "FINK_LIKE__DISTRIBUTION__FILTERS": json.dumps(filters),
    }


def _run_and_kill(env: dict, rng: random.Random) -> None:
    """Start the pipeline, wait for a random number of batches, SIGKILL it at a random moment."""
    proc = subprocess.Popen([sys.executable, "-m", "fink_like.cli", "pipeline"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    wanted = rng.randint(1, 3)
    try:
        done = 0
        for line in proc.stderr:
            if line.startswith("{") and json.loads(line).get("msg") == "batch done":
                done += 1
                if done >= wanted:
                    break
        try:  # random point inside the next batch; returns at once if the job already ended
            proc.wait(timeout=rng.uniform(0.0, 2.0))
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()


def test_kill_9_at_random_points_loses_and_duplicates_nothing(spark, job_settings, fresh_topic,
                                                              shared_data, bad_messages):
    rng = random.Random(20261121)
    topic = fresh_topic("fault")
    settings = job_settings(topic)
    env = _env(settings, topic)
    alerts = load_alerts([shared_data / "ztf" / "alerts-4.02", shared_data / "lsst" / "alerts-9.0"])
    messages = [(m.key, m.value) for m in alerts]
    cut = len(messages) // 3
    messages = messages[:cut] + [(k.encode(), v) for k, v, _ in bad_messages] + messages[cut:]
    # The replay runs during the kills, as a survey would keep publishing.
    feeder = threading.Thread(target=replay, args=(messages, topic, client_conf(settings.kafka)),
                              kwargs={"rate": 40.0})
    feeder.start()
    for _ in range(KILLS):
        _run_and_kill(env, rng)
    feeder.join()

    final = load_env_settings(env)
    run_job(final, source="kafka", stages=("raw", "science", "archive", "distribute"),
            name="pipeline", available_now=True)

    assert_exactly_once(final, [int(m.key) for m in alerts], topic, FILTERS)
    quarantine = lake.read_lake(final.lake_path("quarantine"))
    assert sorted(quarantine["key"].to_pylist()) == sorted(k.encode() for k, _, _ in bad_messages)


def load_env_settings(env: dict):
    from fink_like.config import load_settings

    return load_settings(None, env=env)
