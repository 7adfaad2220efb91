"""``fink-like gcn replay|listen``, the quarantine of bad notices, ``query event`` and the API route."""

from __future__ import annotations

import json

import pytest
import yaml
from fastapi.testclient import TestClient

from fink_like.cli import main
from fink_like.jobs.lake import read_lake
from fink_like.mm.ingest import NoticeIngestor
from test_notices import EXPECTED


@pytest.fixture
def settings(make_settings):
    return make_settings()


@pytest.fixture
def config(tmp_path, settings):
    path = tmp_path / "conf.yaml"
    path.write_text(yaml.safe_dump({"archive": {"path": settings.archive.path},
                                    "lake": {"root": settings.lake.root},
                                    "mm": {"store": {"path": settings.mm.store.path}}}))
    return str(path)


def expected_outcomes() -> dict:
    """What replaying the examples in path order does to each event, rewritten independently."""
    status, counts = {}, {}
    for name in sorted(EXPECTED):
        if isinstance(EXPECTED[name], str):
            continue
        for event_id, _, alert_type, _, _ in EXPECTED[name]:
            if status.get(event_id) == "retracted":
                outcome = "ignored"
            elif alert_type == "retraction":
                outcome = "retracted"
            else:
                outcome = "updated" if event_id in status else "new"
            if outcome != "ignored":
                status[event_id] = "retracted" if outcome == "retracted" else "active"
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def test_replay_every_example(config, settings, shared_data, capsys):
    assert main(["--config", config, "gcn", "replay", str(shared_data / "gcn"), "--no-publish"]) == 0
    report = json.loads(capsys.readouterr().out)
    bad = {name: reason for name, reason in EXPECTED.items() if isinstance(reason, str)}
    reasons = {}
    for reason in bad.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    assert report["notices"] == len(EXPECTED) == report["parsed"] + report["quarantined"]
    assert report["quarantined"] == len(bad) and report["reasons"] == reasons
    assert report["events"] == expected_outcomes()
    quarantine = read_lake(f"{settings.lake_path('quarantine')}/gcn").to_pylist()
    assert sorted(r["reason"] for r in quarantine) == sorted(bad.values())
    folder = shared_data / "gcn"
    assert sorted(r["value"] for r in quarantine) == sorted((folder / name).read_bytes() for name in bad)
    assert sorted(r["key"].decode() for r in quarantine) == sorted(str(folder / name) for name in bad)

    assert main(["--config", config, "query", "event", "maxi-9995289617", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["event"]["status"] == "retracted" and shown["event"]["version"] == 4
    assert shown["event"]["region_kind"] == "circle" and shown["count"] == 0
    assert main(["--config", config, "query", "event", "lvk-S000000xx"]) == 1
    assert "no event 'lvk-S000000xx'" in capsys.readouterr().err


def test_bad_notices_are_quarantined_and_the_stream_goes_on(settings, lvk_notice, caplog):
    import numpy as np

    ingestor = NoticeIngestor(settings, retro=False)
    good = lvk_notice(4 * 4 + np.arange(12 * 4), np.ones(48), superevent="S250102a")
    notices = [b"\x00garbage", json.dumps({"superevent_id": "S9", "alert_type": "INITIAL",
                                           "event": {"time": "2025-01-01T00:00:00Z", "skymap": "AAAA"}}).encode(),
               json.dumps({"superevent_id": "S8", "alert_type": "INITIAL", "event": {"time": "2025-01-01"}}).encode(),
               good]
    with caplog.at_level("WARNING", logger="fink_like.mm.ingest"):
        results = [ingestor.ingest(n, {"topic": "gcn", "partition": 0, "offset": i, "key": None})
                   for i, n in enumerate(notices)]
    assert results == [[], [], [], [("lvk-S250102a", "new")]]
    assert ingestor.report.as_dict() == {"notices": 4, "parsed": 1, "quarantined": 3, "events": {"new": 1},
                                         "reasons": {"not_json": 1, "invalid_skymap": 1, "no_localisation": 1},
                                         "retro_matches": {}, "published": 0}
    logged = [r.getMessage() for r in caplog.records]
    assert any("gcn[0]@0 quarantined: not_json" in m for m in logged)
    assert any("gcn[0]@1 quarantined: invalid_skymap: LVK alert S9: sky map is not a FITS file" in m for m in logged)
    assert any("gcn[0]@2 quarantined: no_localisation: LVK alert S8 has no event.skymap" in m for m in logged)
    rows = read_lake(f"{settings.lake_path('quarantine')}/gcn").to_pylist()
    assert sorted((r["offset"], r["value"]) for r in rows) == [(i, notices[i]) for i in range(3)]


def test_replay_usage_error(config, capsys):
    assert main(["--config", config, "gcn", "replay", "/no/such/notice.json"]) == 2
    assert "no such notice file" in capsys.readouterr().err


@pytest.mark.kafka
def test_listen_from_kafka(settings, kafka_bootstrap, shared_data, capsys, tmp_path):
    from confluent_kafka import Producer

    from fink_like.kafka.admin import ensure_topics

    topic = f"gcn-test-{tmp_path.name}"
    conf = {"bootstrap.servers": kafka_bootstrap}
    ensure_topics(conf, [topic])
    files = sorted((shared_data / "gcn" / "notices" / "maxi").glob("*.json"))
    producer = Producer(conf)
    for path in files:
        producer.produce(topic, path.read_bytes(), key=path.name.encode())
    assert producer.flush(30) == 0
    path = tmp_path / "listen.yaml"
    path.write_text(yaml.safe_dump({
        "archive": {"path": settings.archive.path}, "lake": {"root": settings.lake.root},
        "mm": {"store": {"path": settings.mm.store.path}},
        "gcn": {"bootstrap_servers": kafka_bootstrap, "security_protocol": "PLAINTEXT", "group_id": "t"}}))
    argv = ["--config", str(path), "gcn", "listen", "--topic", topic, "--from-beginning",
            "--max", str(len(files)), "--no-publish"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    maxi = {k: v for k, v in EXPECTED.items() if k.startswith("notices/maxi/")}
    assert report["notices"] == len(files) == len(maxi)
    assert report["quarantined"] == sum(isinstance(v, str) for v in maxi.values())
    # the group's offsets are committed: listening again finds nothing new
    assert main(argv[:-3] + ["--idle-timeout", "2", "--no-publish"]) == 0
    assert json.loads(capsys.readouterr().out)["notices"] == 0


def test_gcn_credentials_come_from_settings():
    from fink_like.config import load_settings
    from fink_like.errors import ConfigError
    from fink_like.kafka.conf import gcn_conf

    with pytest.raises(ConfigError, match="FINK_LIKE__GCN__CLIENT_SECRET"):
        gcn_conf(load_settings(None, env={}).gcn)
    s = load_settings(None, env={"FINK_LIKE__GCN__CLIENT_ID": "me", "FINK_LIKE__GCN__CLIENT_SECRET": "s3cret"})
    conf = gcn_conf(s.gcn)
    assert conf["sasl.oauthbearer.client.secret"] == "s3cret" and conf["sasl.mechanisms"] == "OAUTHBEARER"
    assert "s3cret" not in json.dumps(s.redacted())


def test_api_event_and_sso_routes(settings, shared_data, lvk_notice):
    import numpy as np

    from fink_like.api import create_app
    from fink_like.archive.writer import ArchiveWriter
    from fink_like.surveys import read_alert_files

    alerts = read_alert_files([shared_data / "lsst" / "alerts-9.0", shared_data / "ztf" / "alerts-4.02"])
    ArchiveWriter(settings).write(alerts)
    ingestor = NoticeIngestor(settings, retro=True, publish=False)
    ingestor.ingest(lvk_notice(4 * 4 + np.arange(12 * 4), np.ones(48), superevent="S250101zz",
                               time="2025-09-05T00:00:00Z"), {"topic": "t"})
    with TestClient(create_app(settings)) as client:
        body = client.get("/events/lvk-S250101zz").json()
        # a flat all-sky map: 90% of the sky, every Rubin alert of that night (in its window) can match
        assert body["event"]["status"] == "active" and body["event"]["region_kind"] == "skymap"
        assert body["count"] == len(ingestor.store.matches("lvk-S250101zz")) > 0
        assert client.get("/events/nope").status_code == 404
        sso = client.get("/sso/K13L24L").json()
        assert [r["alert_id"] for r in sso["results"]] == [169298432645136561, 169298433340342300]
        assert client.get("/sso/2009 PB15").json()["results"][0]["object_id"] == "ZTF23ablgreu"
        assert client.get("/sso/nothing").json()["count"] == 0
