"""Model versions are never mixed inside one query: ``latest`` is pinned when it starts.

The retrain is the ``publish_snia_version`` fixture (see ``tests/conftest.py``). The
streaming version of the retrain-mid-query test is in ``tests/jobs/test_stream_pinning.py``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from fink_like.config import ModuleSpec
from fink_like.jobs import lake
from fink_like.jobs import stages as stages_module
from fink_like.jobs.stages import Pipeline
from fink_like.science.registry import clear_cache, pin_settings
from fink_like.science.runner import ScienceRunner


def snia_settings(make_settings, model_dir):
    return make_settings(science={"quality_cuts": {}, "modules": [
        {"name": "snia", "params": {"model_version": "latest", "model_dir": str(model_dir)}}]})


def versions(table: pa.Table) -> set:
    return {p["model_version"] for row in table["provenance"].to_pylist() for p in row if p["status"] == "ok"}


def hashes(table: pa.Table) -> set:
    return {p["model_hash"] for row in table["provenance"].to_pylist() for p in row if p["status"] == "ok"}


def test_pinning_resolves_latest_on_the_driver(make_settings, tmp_path, publish_snia_version):
    settings = snia_settings(make_settings, tmp_path / "snia")
    assert pin_settings(settings).science.modules[0].params == {"model_version": "v1",
                                                                "model_dir": str(tmp_path / "snia")}
    publish_snia_version(tmp_path / "snia")
    assert pin_settings(settings).science.modules[0].params["model_version"] == "v2"
    assert settings.science.modules[0].params["model_version"] == "latest"  # the configuration is untouched


def test_a_retrain_mid_query_does_not_reach_fresh_executors_until_restart(make_settings, tmp_path, real_alerts,
                                                                         publish_snia_version):
    settings = snia_settings(make_settings, tmp_path / "snia")
    first, second, third = real_alerts.slice(0, 40), real_alerts.slice(40, 40), real_alerts.slice(80, 20)

    def run(pipeline, table, batch_id):
        # A fresh executor process: no module, runner or model loaded yet.
        stages_module._CACHE.clear()
        clear_cache()
        pipeline.run_partition(table, batch_id, 0)
        written = lake.read_lake(settings.lake_path("science"))
        return written.filter(pc.is_in(written["alert_id"], value_set=table["alert_id"]))

    query = Pipeline(pin_settings(settings), "raw", ("science",))  # what stream.start ships
    before = run(query, first, 0)
    assert versions(before) == {"v1"}
    publish_snia_version(tmp_path / "snia")
    after = run(query, second, 1)
    assert versions(after) == {"v1"} and hashes(after) == hashes(before)

    restarted = Pipeline(pin_settings(settings), "raw", ("science",))
    again = run(restarted, third, 2)
    assert versions(again) == {"v2"} and hashes(again).isdisjoint(hashes(before))


def test_an_explicit_reload_takes_the_new_version(tmp_path, real_alerts, publish_snia_version):
    runner = ScienceRunner([ModuleSpec(name="snia", params={"model_version": "latest",
                                                            "model_dir": str(tmp_path)})])
    assert versions(runner.process(real_alerts)) == {"v1"}
    publish_snia_version(tmp_path)
    clear_cache()
    assert versions(runner.process(real_alerts)) == {"v1"}  # pinned when the runner was built
    runner.reload()
    assert versions(runner.process(real_alerts)) == {"v2"}
