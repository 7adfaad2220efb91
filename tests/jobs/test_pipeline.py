"""The separate jobs chained through the lake: ingest -> science -> archive and distribute.

Runs the built-in modules and topics of ``conf/local.yaml`` on every real alert, and
checks each stage against an independent computation over the same data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fink_like.client import consume
from fink_like.config import load_settings
from fink_like.jobs import lake
from fink_like.jobs.driver import run_job
from fink_like.kafka.conf import client_conf
from fink_like.simulator import load_messages, replay

pytestmark = [pytest.mark.spark, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]

# The built-in topics' expressions, rewritten independently in pandas.
BUILT_IN = {
    "sn_candidates": lambda d: (d.snia_prob > 0.5) & d.xm_vsx_name.isna() & d.xm_gcvs_name.isna()
    & (d.sso_class != "known_sso"),
    "early_sn_ia": lambda d: (d.snia_prob > 0.5) & (d.ndethist <= 20) & (d.mjd - d.first_mjd <= 20)
    & d.xm_vsx_name.isna() & (d.sso_class != "known_sso"),
    "microlensing": lambda d: (d.mulens_prob > 0.5) & (d.ndethist >= 5) & (d.sso_class != "known_sso"),
    "sso_candidates": lambda d: d.sso_class == "candidate_sso",
    "mm": lambda d: d.mm_event_id.notna(),
    "variable_stars": lambda d: d.xm_vsx_name.notna() | d.xm_gcvs_name.notna(),
    "new_unknown": lambda d: (d.ndethist == 1) & d[[f"xm_{c}_name" for c in
                                                   ("vsx", "gcvs", "mangrove", "spicy", "4lac", "3hsp")]]
    .isna().all(axis=1),
}


@pytest.fixture(scope="module")
def local():
    return load_settings(ROOT / "conf" / "local.yaml", env={})


def test_jobs_chained_through_the_lake(spark, job_settings, fresh_topic, local, shared_data, tmp_path):
    topic = fresh_topic("chain")
    prefix = topic + "."
    filters = [{**f.model_dump(), "topic": prefix + f.name} for f in local.distribution.filters]
    science = local.science.model_dump()
    for module in science["modules"]:  # the event store of this test, not the default var/events.sqlite
        if module["name"] == "mm":
            module["params"]["store"] = {"path": str(tmp_path / "events.sqlite")}
    settings = job_settings(
        topic,
        science=science,
        distribution={"filters": filters, "schema_topic": prefix + "schemas"},
    )
    messages = load_messages([shared_data / "ztf", shared_data / "lsst"])
    replay(messages, topic, client_conf(settings.kafka))

    ingest = run_job(settings, source="kafka", stages=("raw",), name="ingest", available_now=True)
    assert ingest.raw == len(messages) and ingest.quarantined == 0
    science = run_job(settings, source="raw", stages=("science",), name="science", available_now=True)
    assert science.science == len(messages) and not science.module_errors

    enriched = lake.read_lake(settings.lake_path("science")).to_pandas()
    raw_ids = sorted(lake.read_lake(settings.lake_path("raw"), columns=["alert_id"])["alert_id"].to_pylist())
    assert sorted(enriched.alert_id) == raw_ids
    modules = {p["module"] for row in enriched.provenance for p in row}
    assert modules == {"snia", "microlensing", "bnn", "sso", "mm", "xmatch"}
    assert all(p["model_hash"] and p["version"] for row in enriched.provenance for p in row)
    passed = enriched.provenance.map(lambda row: row[0]["status"] == "ok")
    assert enriched.loc[passed, "snia_prob"].between(0, 1).all()
    assert enriched.loc[~passed, "snia_prob"].isna().all(), "quality-cut failures are not scored"

    archived = run_job(settings, source="science", stages=("archive",), name="archive", available_now=True)
    assert archived.archived == len(messages)
    published = run_job(settings, source="science", stages=("distribute",), name="distribute",
                        available_now=True)

    conf = client_conf(settings.kafka)
    for name, select in BUILT_IN.items():
        expected = set(enriched.loc[select(enriched).fillna(False).astype(bool), "alert_id"].astype(str))
        got = [a.key for a in consume([prefix + name], conf, from_beginning=True, idle_timeout=2.0,
                                      schema_topic=prefix + "schemas")]
        assert sorted(got) == sorted(expected), name
        assert published.published.get(prefix + name, 0) == len(expected)


def test_object_light_curve_from_archive_matches_lake(spark, job_settings, fresh_topic, shared_data):
    """An object query returns every archived alert of the object, time-ordered."""
    from fink_like.archive.query import Archive

    topic = fresh_topic("lc")
    settings = job_settings(topic)
    messages = load_messages(shared_data / "ztf" / "alerts-4.02")
    replay(messages, topic, client_conf(settings.kafka))
    run_job(settings, source="kafka", stages=("raw", "archive"), name="combined", available_now=True)
    raw = lake.read_lake(settings.lake_path("raw"), columns=["object_id", "alert_id", "mjd"]).to_pandas()
    obj = raw.object_id.value_counts().idxmax()
    expected = raw[raw.object_id == obj].sort_values("mjd")
    result = Archive(settings).object(obj, limit=1000).table.to_pandas()
    assert list(result.alert_id) == list(expected.alert_id)
    assert result.mjd.is_monotonic_increasing
