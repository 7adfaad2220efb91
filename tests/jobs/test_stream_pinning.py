"""A streaming query keeps the model version pinned at its start; a restart takes the newest.

``snia`` runs with ``model_version: latest``. After the first micro-batch a new version is
published (the ``publish_snia_version`` fixture, as ``fink-like al retrain`` does); the
later batches of the same query still score with v1, and the restarted query with v2.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fink_like.jobs import lake

pytestmark = [pytest.mark.spark, pytest.mark.kafka]


def versions(table: pa.Table) -> set:
    return {p["model_version"] for row in table["provenance"].to_pylist() for p in row if p["status"] == "ok"}


def test_a_streaming_query_keeps_its_version_and_a_restart_takes_the_new_one(
        spark, job_settings, fresh_topic, shared_data, tmp_path, publish_snia_version):
    from fink_like.jobs.driver import run_job
    from fink_like.kafka.conf import client_conf
    from fink_like.simulator import load_messages, replay

    topic = fresh_topic("pin")
    model_dir = tmp_path / "snia"
    settings = job_settings(topic, input={"max_offsets_per_trigger": 40}, science={"quality_cuts": {}, "modules": [
        {"name": "snia", "params": {"model_version": "latest", "model_dir": str(model_dir)}}]})
    conf = client_conf(settings.kafka)
    replay(load_messages([shared_data / "ztf" / "alerts-4.02"])[:120], topic, conf)

    def retrain_after_first_batch(batch_id, parts, totals):
        if totals.batches == 1:
            publish_snia_version(model_dir)

    totals = run_job(settings, source="kafka", stages=("science",), name="pinned", available_now=True,
                     on_batch=retrain_after_first_batch)
    assert totals.batches >= 3 and totals.science == 120  # later batches ran after the retrain
    first_run = lake.read_lake(settings.lake_path("science"))
    assert versions(first_run) == {"v1"}

    replay(load_messages([shared_data / "ztf" / "alerts-3.3"])[:40], topic, conf)
    run_job(settings, source="kafka", stages=("science",), name="pinned", available_now=True)  # restart
    both = lake.read_lake(settings.lake_path("science"))
    new = both.filter(pc.equal(both["schema_version"], "3.3"))
    assert new.num_rows == 40 and versions(new) == {"v2"}
    assert versions(both.filter(pc.equal(both["schema_version"], "4.02"))) == {"v1"}
