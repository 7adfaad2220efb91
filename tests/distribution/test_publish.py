"""Publishing through the embedded Kafka: each topic holds exactly what its filter selects."""

import uuid

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fink_like.client import AlertConsumer, consume
from fink_like.config import FilterSpec
from fink_like.distribution import publish
from fink_like.distribution.registry import SchemaRegistry, fetch_topic, save
from fink_like.filters.engine import FilterEngine

pytestmark = pytest.mark.kafka

FILTERS = {
    "bnn_sn": ("bnn_snia_mean > 0.5 and ndethist <= 20",
               lambda d: (d.bnn_snia_mean > 0.5) & (d.ndethist <= 20)),
    "mulens": ("mulens_prob > 0.05 or ndethist >= 10",
               lambda d: (d.mulens_prob > 0.05) | (d.ndethist >= 10)),
    "bright_ztf": ("survey = 'ztf' and mag < 18.5 and band in ('g', 'r')",
                   lambda d: (d.survey == "ztf") & (d.mag < 18.5) & d.band.isin(["g", "r"])),
    "rubin_new": ("survey = 'lsst' and ndethist = 1",
                  lambda d: (d.survey == "lsst") & (d.ndethist == 1)),
}


def conf_for(bootstrap):
    return {"bootstrap.servers": bootstrap}


def read_topic(bootstrap, topic, schema_topic, **kwargs):
    return list(consume([topic], conf_for(bootstrap), from_beginning=True, idle_timeout=2.0,
                        schema_topic=schema_topic, **kwargs))


def test_topics_hold_exactly_the_selected_alerts(enriched, kafka_bootstrap):
    prefix, schema_topic = f"t{uuid.uuid4().hex[:6]}.", f"schemas-{uuid.uuid4().hex[:6]}"
    specs = [FilterSpec(name=name, topic=name, expression=text, cutouts=name != "rubin_new")
             for name, (text, _) in FILTERS.items()]
    engine = FilterEngine(specs, enriched.schema)
    counts = publish(enriched, engine, conf_for(kafka_bootstrap), prefix, schema_topic=schema_topic)
    df = enriched.select(["alert_id", "survey", "mag", "band", "ndethist", "mulens_prob", "bnn_snia_mean"]).to_pandas()
    for name, (_, select) in FILTERS.items():
        expected = {str(a) for a in df.loc[select(df).fillna(False).astype(bool), "alert_id"]}
        assert 0 < len(expected) < len(df), name  # the filters are discriminating on this data
        alerts = read_topic(kafka_bootstrap, prefix + name, schema_topic)
        assert counts[prefix + name] == len(expected)
        assert [a.key for a in alerts].count(alerts[0].key) == 1
        assert {a.key for a in alerts} == expected, name
        assert all(str(a["alert_id"]) == a.key for a in alerts)
        has_cutouts = {any(k.startswith("cutout") for k in a["packet"]) for a in alerts}
        assert has_cutouts == {name != "rubin_new"}
    assert set(fetch_topic(conf_for(kafka_bootstrap), schema_topic)) >= {a.schema_id for a in alerts}


def test_new_module_column_does_not_break_an_older_client(enriched, kafka_bootstrap, tmp_path):
    topic, schema_topic = f"evo-{uuid.uuid4().hex[:6]}", f"schemas-{uuid.uuid4().hex[:6]}"
    conf = conf_for(kafka_bootstrap)
    ztf = enriched.filter(pc.equal(enriched["schema_version"], "4.02")).slice(0, 6)
    old_batch, new_batch = ztf.slice(0, 3), ztf.slice(3, 3)
    spec = [FilterSpec(name="all", topic=topic, expression="ndethist >= 1")]
    publish(old_batch, FilterEngine(spec, old_batch.schema), conf, schema_topic=schema_topic)

    # The old client: it knows only the old schema (saved locally) and uses it as reader schema.
    old_dir = tmp_path / "old-schemas"
    old_alerts = read_topic(kafka_bootstrap, topic, schema_topic)
    old_sid = old_alerts[0].schema_id
    save(SchemaRegistry([], conf, schema_topic).raw(old_sid), old_dir)
    reader = SchemaRegistry([old_dir]).parsed(old_sid)

    newer = new_batch.append_column("kn_prob", pa.array([0.25, None, 0.75], pa.float64()))
    publish(newer, FilterEngine(spec, newer.schema), conf, schema_topic=schema_topic)

    with AlertConsumer([topic], conf, from_beginning=True, schema_dirs=[old_dir], schema_topic=schema_topic,
                       reader_schema=reader) as client:
        got = []
        while len(got) < 6:
            batch = client.poll(10, timeout=5.0)
            assert batch, "the older client stopped receiving alerts"
            got += batch
    assert [a.key for a in got] == [str(x) for x in ztf["alert_id"].to_pylist()]
    assert len({a.schema_id for a in got}) == 2  # the new writer schema was fetched from the topic
    assert all("kn_prob" not in a.data for a in got)  # projected on the reader schema
    assert [a["mulens_prob"] for a in got] == ztf["mulens_prob"].to_pylist()
    # a current client sees the new column
    current = read_topic(kafka_bootstrap, topic, schema_topic)
    assert [a.get("kn_prob") for a in current] == [None, None, None, 0.25, None, 0.75]
