"""Every example notice of ../shared/data/gcn parses to exactly the expected events or reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fink_like.mm.notices import NoticeError, parse_notice
from fink_like.mm.regions import Circle, Ellipse, SkyMap

C, E = "circle", "ellipse"
# file -> list of (event_id, messenger, alert_type, region kind, region parameters), or the quarantine reason
EXPECTED = {
    "gcn/circulars.example.json": "unknown_format",
    "notices/boom/alert.example.json": "no_id",
    "notices/burstcube/alert.example.json": [("burstcube-240601000", "EM", "initial", C, (232.0, -53.1, 10.0))],
    "notices/burstcube/test.example.json": [("burstcube-240601000", "EM", "initial", C, (232.0, -53.1, 10.0))],
    "notices/chime/frb.detection.example.json": [
        ("chime-427325191", "EM", "initial", E, (346.77850859547, 12.632485229956252, 0.598921231135782,
                                                 0.503806986334273, 90.0))],
    "notices/chime/frb.retraction.example.json": [("chime-427325191", "EM", "retraction", None, None)],
    "notices/chime/frb.subsequent.example.json": [
        ("chime-427325192", "EM", "subsequent", E, (346.77850859547, 12.632485229956252, 0.598921231135782,
                                                    0.503806986334273, 90.0))],
    "notices/chime/frb.update.example.json": "no_localisation",
    "notices/core/Localization.example.json": "no_id",
    "notices/core/Pointing.example.json": "no_id",
    "notices/core/Reporter.example.json": "no_id",
    "notices/core/Spectral.example.json": "no_id",
    "notices/core/Statistics.example.json": "no_id",
    "notices/dsa110/frb.detection.example.json": [
        ("dsa110-240918aaaa", "EM", "initial", E, (346.77850859547, 12.632485229956252, 0.02, 0.016, 0.0))],
    "notices/dsa110/frb.retraction.example.json": [("dsa110-240918aaaa", "EM", "retraction", None, None)],
    "notices/dsa110/frb.subsequent.example.json": [
        ("dsa110-240918aaaa", "EM", "subsequent", E, (346.77850859547, 12.632485229956252, 0.02, 0.016, 0.0))],
    "notices/dsa110/frb.update.example.json": "no_localisation",
    "notices/einstein_probe/wxt/alert.example.json": [
        ("einstein-probe-wxt-01708973486", "EM", "initial", C, (120.0, 40.0, 0.02))],
    "notices/fermi/gbm/trigger.alert.example.json": "no_localisation",
    "notices/fermi/gbm/trigger.final.example.json": [("fermi-gbm-745121685", "EM", "update", C, (29.24, -63.62, 1.0))],
    "notices/fermi/gbm/trigger.flight1.example.json": [
        ("fermi-gbm-745121685", "EM", "update", C, (136.917, -78.117, 8.32))],
    "notices/fermi/gbm/trigger.flight2.example.json": [
        ("fermi-gbm-745121685", "EM", "update", C, (236.783, 66.633, 9.23))],
    "notices/fermi/gbm/trigger.flight3.example.json": [
        ("fermi-gbm-745121685", "EM", "update", C, (235.883, 68.683, 7.15))],
    "notices/fermi/gbm/trigger.ground1.example.json": [
        ("fermi-gbm-745121685", "EM", "update", C, (92.17, -66.98, 1.34))],
    "notices/fermi/gbm/trigger.ground2.example.json": [
        ("fermi-gbm-745121685", "EM", "update", C, (90.56, -67.87, 1.08))],
    "notices/fermi/lat/flare.example.json": "no_localisation",
    "notices/glowbug/Alert.example.json": "no_localisation",
    "notices/heasarc/archive_alert.example.json": "no_id",
    "notices/icecube/lvk_nu_track_search.example.json": [
        ("icecube-138590-39138551", "Neutrino", "initial", C, (17.48, 16.15, 0.5)),
        ("icecube-138590-39164579", "Neutrino", "initial", C, (13.82, 18.66, 0.5))],
    "notices/icecube/single_neutrino_alerts.gold_bronze_track_alerts.example.json": [
        ("icecube-137840-57034692", "Neutrino", "initial", C, (345.82, 9.01, 0.5))],
    "notices/km3net/alert.example.json": [("km3net-1", "Neutrino", "initial", C, (10.82, 20.01, 0.9))],
    "notices/km3net/alert.multiplet.example.json": [("km3net-2", "Neutrino", "initial", C, (13.81, 18.85, 0.41))],
    "notices/maxi/gsc.known.example.json": "no_localisation",
    "notices/maxi/gsc.known.retraction.example.json": [("maxi-0858800020", "EM", "retraction", None, None)],
    "notices/maxi/gsc.unknown.circle.example.json": [("maxi-9995289617", "EM", "update", C, (346.56, 18.61, 1.5))],
    "notices/maxi/gsc.unknown.ellipse.example.json": [
        ("maxi-9995289617", "EM", "update", E, (346.56, 18.61, 0.22, 0.19, 153.0))],
    "notices/maxi/gsc.unknown.noerror.example.json": "no_localisation",
    "notices/maxi/gsc.unknown.rectangle.example.json": [
        ("maxi-9995289617", "EM", "update", C, (346.56, 18.61, 1.2397248423205605))],
    "notices/maxi/gsc.unknown.retraction.example.json": [("maxi-9995289617", "EM", "retraction", None, None)],
    "notices/superk/sn_alert.real.example.json": [
        ("superk-SN.095001.000001", "Neutrino", "initial", C, (270.82, 31.46, 0.91))],
    "notices/superk/sn_alert.test.example.json": [
        ("superk-SN.095001.000001", "Neutrino", "initial", C, (270.82, 31.46, 0.91))],
    "notices/svom/eclairs/trigger.catalog.example.json": [
        ("svom-sb24022203", "EM", "initial", C, (143.2478, -68.0289, 0.1))],
    "notices/svom/eclairs/trigger.not-slewing.example.json": [
        ("svom-sb24022203", "EM", "update", C, (143.2478, -68.0289, 0.1))],
    "notices/svom/eclairs/trigger.slewing.example.json": [
        ("svom-sb24022203", "EM", "update", C, (143.2478, -68.0289, 0.1))],
    "notices/svom/eclairs/trigger.wakeup.example.json": [
        ("svom-sb24022203", "EM", "initial", C, (143.2478, -68.0289, 0.1))],
    "notices/svom/grm/trigger.example.json": [("svom-sb24022203", "EM", "initial", C, (143.2478, -68.0289, 0.1))],
    "notices/swift/bat/Guano.Retraction.example.json": [("swift-bat-694215995", "EM", "retraction", None, None)],
    "notices/swift/bat/Guano.example.json": "no_localisation",
    "notices/swift/bat/guano.loc_arc_min.example.json": [
        ("swift-bat-694215995", "EM", "update", C, (336.26, 25.139, 0.5))],
    "notices/swift/bat/guano.loc_map.example.json": "invalid_skymap",
}


def _params(region):
    if isinstance(region, Circle):
        return "circle", (region.ra, region.dec, region.radius)
    if isinstance(region, Ellipse):
        return "ellipse", (region.ra, region.dec, region.a, region.b, region.pa)
    return None, None


def test_every_example_notice(shared_data):
    folder = shared_data / "gcn"
    files = {str(p.relative_to(folder)): p for p in folder.rglob("*.json")}
    assert sorted(files) == sorted(EXPECTED), "a notice example was added or removed: extend EXPECTED"
    for name, path in sorted(files.items()):
        expected = EXPECTED[name]
        if isinstance(expected, str):
            with pytest.raises(NoticeError) as info:
                parse_notice(path.read_bytes())
            assert info.value.reason == expected, name
            continue
        events = parse_notice(path.read_bytes())
        got = [(e.event_id, e.messenger, e.alert_type, *_params(e.region)) for e in events]
        assert got == expected, name


def test_trigger_times_are_utc_mjd(shared_data):
    event = parse_notice((shared_data / "gcn/notices/icecube/single_neutrino_alerts."
                                        "gold_bronze_track_alerts.example.json").read_bytes())[0]
    # 2023-04-16T05:22:26.150574Z
    assert event.t0 == pytest.approx(60050 + (5 * 3600 + 22 * 60 + 26.150574) / 86400, abs=1e-9)
    coincident = parse_notice((shared_data / "gcn/notices/icecube/lvk_nu_track_search.example.json").read_bytes())
    # 2023-09-14T11:14:01Z plus each neutrino's event_dt (12.91 s, 222.46 s)
    t0 = 60201 + (11 * 3600 + 14 * 60 + 1) / 86400
    assert [e.t0 for e in coincident] == pytest.approx([t0 + 12.91 / 86400, t0 + 222.46 / 86400], abs=1e-9)


def test_sky_map_that_is_invalid_next_to_a_circle_keeps_the_circle(shared_data):
    event = parse_notice((shared_data / "gcn/notices/burstcube/alert.example.json").read_bytes())[0]
    assert isinstance(event.region, Circle)
    assert len(event.warnings) == 1 and "healpix_file ignored" in event.warnings[0]


@pytest.mark.parametrize("gzipped", [False, True])
def test_lvk_alert_with_multi_order_sky_map(gzipped, lvk_notice):
    order = 3
    uniq = 4 * 4 ** order + np.arange(12 * 4 ** order)
    density = np.ones(len(uniq))
    density[:10] = 100.0
    event = parse_notice(lvk_notice(uniq, density, gzipped=gzipped))[0]
    assert (event.event_id, event.messenger, event.alert_type) == ("lvk-S250101ab", "GW", "preliminary")
    assert event.t0 == pytest.approx(60676.125)
    assert isinstance(event.region, SkyMap)
    total = (event.region.probdensity * 4 * np.pi / len(uniq)).sum()
    assert total == pytest.approx(1.0)


@pytest.mark.parametrize("notice, reason", [
    (b"{not json", "not_json"),
    (b"[1, 2]", "not_json"),
    (b"\xff\xfe", "not_json"),
    (json.dumps({"superevent_id": "S1", "alert_type": "INITIAL", "event": {"time": "2025-01-01T00:00:00Z",
                                                                          "skymap": "bm90IGZpdHM="}}).encode(),
     "invalid_skymap"),
    (json.dumps({"superevent_id": "S1", "alert_type": "INITIAL", "event": {"time": "2025-01-01T00:00:00Z"}}).encode(),
     "no_localisation"),
    (json.dumps({"superevent_id": "S1", "alert_type": "INITIAL", "event": None}).encode(), "no_localisation"),
    (json.dumps({"$schema": "https://gcn.nasa.gov/schema/main/gcn/notices/x/a.schema.json", "id": ["1"],
                 "trigger_time": "yesterday", "ra": 1, "dec": 2, "ra_dec_error": 1}).encode(), "invalid_time"),
    (json.dumps({"$schema": "https://gcn.nasa.gov/schema/main/gcn/notices/x/a.schema.json", "id": ["1"],
                 "trigger_time": "2025-01-01T00:00:00Z", "ra": 1, "dec": 95, "ra_dec_error": 1}).encode(),
     "invalid_region"),
    (json.dumps({"$schema": "https://gcn.nasa.gov/schema/main/gcn/notices/x/a.schema.json", "id": ["1"],
                 "trigger_time": "2025-01-01T00:00:00Z", "ra": 1, "dec": 5, "ra_dec_error": -1}).encode(),
     "invalid_region"),
    (json.dumps({"$schema": "https://gcn.nasa.gov/schema/main/gcn/notices/x/a.schema.json", "id": ["1"],
                 "ra": 1, "dec": 5, "ra_dec_error": 1}).encode(), "no_time"),
])
def test_bad_notices_have_a_reason(notice, reason):
    with pytest.raises(NoticeError) as info:
        parse_notice(notice)
    assert info.value.reason == reason
    assert info.value.detail
