"""The filter routes: submit, inspect, toggle, dry run, deliveries, ZTF x Rubin groups."""

import pytest
from fastapi.testclient import TestClient

from fink_like.jobs import lake


@pytest.fixture
def api(make_settings, shared_data):
    from fink_like.api import create_app
    from fink_like.surveys import read_alert_files

    from fink_like.api.accounts import Accounts

    settings = make_settings()
    alerts = read_alert_files(sorted((shared_data / "ztf" / "alerts-4.02").glob("*.avro"))[:150])
    lake.write_partitioned(alerts, settings.lake_path("science"), "part-api.parquet")
    accounts = Accounts(settings)
    tokens = {name: accounts.add_user(name, role) for name, role in
              (("ana", "annotator"), ("bob", "annotator"), ("rita", "reader"), ("root", "admin"))}
    accounts.close()
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {tokens['ana']}"
        yield client, settings, alerts, tokens


def body(name="bright", **kw):
    return {"name": name, "topic": f"t.{name}", "expression": "mag < 18.5", **kw}


def as_user(tokens, name):
    return {"Authorization": f"Bearer {tokens[name]}"}


def test_lifecycle(api):
    client, _, alerts, tokens = api
    anonymous = client.post("/filters", json=body(), headers={"Authorization": ""})
    assert anonymous.status_code == 401 and "needs a token of role annotator" in anonymous.json()["detail"]
    reader = client.post("/filters", json=body(), headers=as_user(tokens, "rita"))
    assert reader.status_code == 403
    answer = client.post("/filters", json=body())
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (got["version"], got["action"], got["check"]["sample_size"], got["owner"]) == (1, "add", 150, "ana")
    assert got["check"]["selected"] == sum(m < 18.5 for m in alerts["mag"].to_pylist())
    dup = client.post("/filters", json=body(expression="mag < 19"))
    assert dup.status_code == 400 and "exists already" in dup.json()["detail"]
    stolen = client.post("/filters", json=body(expression="mag < 19", replace=True), headers=as_user(tokens, "bob"))
    assert stolen.status_code == 403 and "belongs to 'ana'" in stolen.json()["detail"]
    assert client.post("/filters/bright/disable", headers=as_user(tokens, "bob")).status_code == 403
    assert client.post("/filters", json=body(expression="mag < 19", replace=True)).json()["version"] == 2
    bad = client.post("/filters", json=body("typo", expression="magg < 18"))
    assert bad.status_code == 400 and "unknown column 'magg' at position 0; did you mean mag" in bad.json()["detail"]
    code = client.post("/filters", json={**body("code"), "plugin_source": "import os"})
    assert code.status_code == 400 and "plugin_source" in code.text  # no plugin code over HTTP
    off = client.post("/filters/bright/disable", json={"reason": "noisy"}, headers=as_user(tokens, "root")).json()
    assert off["enabled"] is False and off["by"] == "root" and off["reason"] == "noisy"
    assert [f["name"] for f in client.get("/filters").json()] == ["bright"]
    assert [h["action"] for h in client.get("/filters/bright/history").json()] == ["add", "update", "disable"]
    assert client.get("/filters/nope").status_code == 404
    assert client.post("/filters/nope/enable").status_code == 404
    assert client.get("/deliveries").json() == []


@pytest.mark.spark
def test_dry_run_route(api, spark):
    client, _, alerts, _ = api
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

    client, settings, alerts, _ = api
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
