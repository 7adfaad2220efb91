"""End to end: notices replayed, real alerts streamed, the ``mm`` topic read with the client.

1. a neutrino notice (a 1-degree circle on the densest field of the real ZTF alerts,
   half a day before them) is replayed with ``fink-like gcn replay``; the archive is
   still empty, so the retroactive search finds nothing;
2. the real ZTF 4.02 and Rubin 9.0 alerts are streamed through the pipeline (sso and mm
   modules): the alerts inside the circle reach the ``mm`` topic live;
3. an LVK notice whose sky map (generated with healpy) covers the Rubin field, a day
   before those alerts, is replayed: the retroactive search finds them in the archive
   and publishes them to the same topic.

Expected alerts are computed independently (astropy separations, the flat map).
"""

from __future__ import annotations

import json

import pytest
import yaml
from astropy import units as u
from astropy.coordinates import SkyCoord

from fink_like.cli import main
from fink_like.client import consume
from fink_like.jobs import lake
from fink_like.jobs.driver import run_job
from fink_like.kafka.conf import client_conf
from fink_like.simulator import load_messages, replay
from test_matching import brute_force, gaussian_map

pytestmark = [pytest.mark.spark, pytest.mark.kafka]


def test_notices_then_alerts_then_notice(spark, make_settings, kafka_bootstrap, shared_data, tmp_path,
                                         lvk_notice, capsys):
    topic = f"mm-e2e-{tmp_path.name}"
    prefix = topic + "."
    store = str(tmp_path / "events.sqlite")
    settings = make_settings(
        kafka={"embedded": False, "bootstrap_servers": kafka_bootstrap},
        input={"topics": [topic]},
        science={"quality_cuts": {}, "modules": [{"name": "sso"}, {"name": "mm", "params": {"store": {"path": store}}}]},
        distribution={"schema_topic": prefix + "schemas", "filters": [
            {"name": "mm", "topic": prefix + "mm", "expression": "mm_event_id is not null"}]},
        mm={"topic": prefix + "mm", "store": {"path": store}},
    )
    config = tmp_path / "conf.yaml"
    config.write_text(yaml.safe_dump(json.loads(settings.model_dump_json())))

    neutrino = tmp_path / "icecube.json"
    neutrino.write_text(json.dumps({
        "$schema": "https://gcn.nasa.gov/schema/main/gcn/notices/icecube/single_neutrino_alerts.schema.json",
        "mission": "IceCube", "messenger": "Neutrino", "id": ["e2e_1"], "alert_type": "initial",
        "trigger_time": "2023-10-17T00:00:00Z", "ra": 3.38, "dec": 52.69, "ra_dec_error": 1.0}))
    assert main(["--config", str(config), "gcn", "replay", str(neutrino)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["events"] == {"new": 1} and report["retro_matches"] == {"icecube-e2e-1": 0}

    messages = load_messages([shared_data / "ztf" / "alerts-4.02", shared_data / "lsst" / "alerts-9.0"])
    replay(messages, topic, client_conf(settings.kafka))
    stats = run_job(settings, source="kafka", stages=("raw", "science", "archive", "distribute"),
                    name="mm-e2e", available_now=True)
    assert stats.raw == len(messages) and not stats.module_errors
    alerts = lake.read_lake(settings.lake_path("science"), columns=["alert_id", "ra", "dec", "mjd"]).to_pandas()
    sep = SkyCoord(3.38 * u.deg, 52.69 * u.deg).separation(SkyCoord(alerts.ra.values * u.deg,
                                                                    alerts.dec.values * u.deg)).deg
    live = set(alerts.alert_id[sep <= 1.0].astype(str))
    assert 10 < len(live) < 200

    uniq, density, flat = gaussian_map(9.7, -44.6, 1.5)
    t0 = 60923.5
    gw = tmp_path / "lvk.json"
    gw.write_bytes(lvk_notice(uniq, density, superevent="S250904e2e", time="2025-09-04T12:00:00Z"))
    assert main(["--config", str(config), "gcn", "replay", str(gw)]) == 0
    report = json.loads(capsys.readouterr().out)
    ra, dec, mjd = (alerts[c].to_numpy() for c in ("ra", "dec", "mjd"))
    window = settings.mm.windows["GW"]
    retro = {str(alerts.alert_id[i]) for i in brute_force(flat, ra, dec, mjd, window.before_days,
                                                           window.after_days, t0=t0)}
    assert 10 < len(retro) <= 100
    assert report["retro_matches"] == {"lvk-S250904e2e": len(retro)} and report["published"] == len(retro)

    received = list(consume([prefix + "mm"], client_conf(settings.kafka), from_beginning=True, idle_timeout=3.0,
                            schema_topic=prefix + "schemas"))
    by_event: dict[str, set] = {}
    for alert in received:
        by_event.setdefault(alert["mm_event_id"], set()).add(alert.key)
    assert by_event == {"icecube-e2e-1": live, "lvk-S250904e2e": retro}
    densities = [a["mm_prob_density"] for a in received if a["mm_event_id"] == "lvk-S250904e2e"]
    assert all(d is not None and d > 0 for d in densities)
    assert all(a["mm_prob_density"] is None and a["mm_messenger"] == "Neutrino"
               for a in received if a["mm_event_id"] == "icecube-e2e-1")

    assert main(["--config", str(config), "query", "event", "icecube-e2e-1", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {str(m["alert_id"]) for m in shown["matches"]} == live
    assert {m["kind"] for m in shown["matches"]} == {"live"}
