"""The filter routes: submit, inspect, toggle, dry run, deliveries, ZTF x Rubin groups."""

import pytest
from fastapi.testclient import TestClient

from fink_like.jobs import lake


@pytest.fixture
def api(make_settings, shared_data):
    from fink_like.api import create_app
    from fink_like.surveys import read_alert_files

    settings = make_settings()
    alerts = read_alert_files(sorted((shared_data / "ztf" / "alerts-4.02").glob("*.avro"))[:150])
    lake.write_partitioned(alerts, settings.lake_path("science"), "part-api.parquet")
    with TestClient(create_app(settings)) as client:
        yield client, settings, alerts


def body(name="bright", **kw):
    return {"name": name, "topic": f"t.{name}", "owner": "ana", "expression": "mag < 18.5", **kw}


def test_lifecycle(api):
    client, _, alerts = api
    answer = client.post("/filters", json=body())
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (got["version"], got["action"], got["check"]["sample_size"]) == (1, "add", 150)
    assert got["check"]["selected"] == sum(m < 18.5 for m in alerts["mag"].to_pylist())
    dup = client.post("/filters", json=body(expression="mag < 19"))
    assert dup.status_code == 400 and "exists already" in dup.json()["detail"]
    assert client.post("/filters", json=body(expression="mag < 19", replace=True)).json()["version"] == 2
    bad = client.post("/filters", json=body("typo", expression="magg < 18"))
    assert bad.status_code == 400 and "unknown column 'magg' at position 0; did you mean mag" in bad.json()["detail"]
    code = client.post("/filters", json={**body("code"), "plugin_source": "import os"})
    assert code.status_code == 422  # no plugin code over HTTP
    assert client.post("/filters/bright/disable", json={"by": "bob", "reason": "noisy"}).json()["enabled"] is False
    assert [f["name"] for f in client.get("/filters").json()] == ["bright"]
    assert [h["action"] for h in client.get("/filters/bright/history").json()] == ["add", "update", "disable"]
    assert client.get("/filters/nope").status_code == 404
    assert client.post("/filters/nope/enable").status_code == 404
    assert client.get("/deliveries").json() == []


@pytest.mark.spark
def test_dry_run_route(api, spark):
    client, _, alerts = api
    client.post("/filters", json=body())
    answer = client.post("/filters/test", json={"filter": "bright", "since": "2000-01-01", "until": "2100-01-01"})
    assert answer.status_code == 200, answer.text
    want = sorted(a for a, m in zip(alerts["alert_id"].to_pylist(), alerts["mag"].to_pylist()) if m < 18.5)
    assert answer.json()["alert_ids"] == want
    expr = client.post("/filters/test", json={"filter": "ndethist >= 3 and band = 'g'", "since": "20000101",
                                              "until": "21000101"}).json()
    assert expr["alert_ids"] == sorted(a for a, n, b in zip(*(alerts[c].to_pylist() for c in
                                       ("alert_id", "ndethist", "band"))) if n >= 3 and b == "g")
    empty = client.post("/filters/test", json={"filter": "bright", "since": "19000101", "until": "19000102"})
    assert empty.status_code == 400 and "no night of the science lake" in empty.json()["detail"]


def test_group_route(api):
    import pyarrow as pa

    from fink_like.archive.association import Associator
    from fink_like.archive.backends import open_backend
    from fink_like.archive.writer import ArchiveWriter

    client, settings, alerts = api
    ztf = alerts.slice(0, 1)
    rubin = ztf
    for column, value in (("survey", "lsst"), ("object_id", "170001"), ("alert_id", 17)):
        index = ztf.schema.get_field_index(column)
        rubin = rubin.set_column(index, ztf.schema.field(index), pa.array([value], ztf.schema.field(index).type))
    writer = ArchiveWriter(settings)
    writer.write(pa.concat_tables([ztf, rubin]))
    writer.close()
    backend = open_backend(settings)
    Associator(backend, settings.archive.table_prefix).update(pa.concat_tables([ztf, rubin]))
    backend.close()
    group = client.get("/groups/170001").json()
    members = {m["object_id"]: m for m in group["members"]}
    assert set(members) == {"170001", ztf["object_id"][0].as_py()}
    assert [a["alert_id"] for a in members["170001"]["alerts"]] == [17]
    assert client.get("/groups/unknown").status_code == 404
