"""The ``sso`` module on real alerts with known objects, and on synthetic moving objects."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fink_like.errors import PluginError
from fink_like.science.runner import ScienceRunner
from fink_like.surveys import read_alert_files
from fink_like_sso.linking import fit_motion
from fink_like_sso.module import CANDIDATE, KNOWN, NONE, SsoModule

HOUR = 1.0 / 24.0


@pytest.fixture(scope="module")
def real(shared_data):
    return read_alert_files([shared_data / "ztf" / "alerts-4.02", shared_data / "ztf" / "alerts-3.3",
                             shared_data / "lsst" / "alerts-9.0", shared_data / "lsst" / "alerts-7.4"])


def run(table: pa.Table, **params) -> pa.Table:
    module = SsoModule()
    module.load(params)
    return pa.table(module.process(table.select(list(SsoModule.inputs))))


def test_real_known_objects_are_the_surveys_associations(real):
    out = run(real)
    names = real["ssnamenr"].to_pylist()
    dist = real["ssdistnr"].to_pylist()
    expected = [(n is not None and (d is None or d <= 5.0)) or oid is not None
                for n, d, oid in zip(names, dist, real["ss_object_id"].to_pylist())]
    assert [c == KNOWN for c in out["sso_class"].to_pylist()] == expected
    assert sum(expected) == 98  # 94 ZTF (ssdistnr 0), 4 Rubin 9.0; 6 ZTF ones are 60" away
    known = [i for i, k in enumerate(expected) if k]
    assert [out["sso_name"][i].as_py() for i in known] == [names[i] for i in known]
    assert [out["sso_distance_arcsec"][i].as_py() for i in known] == [dist[i] for i in known]


def test_real_rubin_object_seen_twice_in_one_night_has_its_motion(real):
    out = run(real)
    rows = [i for i, n in enumerate(real["ssnamenr"].to_pylist()) if n == "K13L24L"]
    assert len(rows) == 2
    ra, dec, mjd = (np.array([real[c][i].as_py() for i in rows]) for c in ("ra", "dec", "mjd"))
    sep = math.degrees(math.acos(np.sin(np.radians(dec[0])) * np.sin(np.radians(dec[1])) + np.cos(
        np.radians(dec[0])) * np.cos(np.radians(dec[1])) * np.cos(np.radians(ra[1] - ra[0])))) * 3600
    rate = sep / (abs(mjd[1] - mjd[0]) * 24)
    for i in rows:
        assert out["sso_ndet_night"][i].as_py() == 2
        assert out["sso_rate_arcsec_h"][i].as_py() == pytest.approx(rate, rel=1e-6)
        assert 180 < out["sso_pa_deg"][i].as_py() < 270  # moving south-west
    single = real["ssnamenr"].to_pylist().index("K12J69D")
    assert out["sso_rate_arcsec_h"][single].as_py() is None and out["sso_ndet_night"][single].as_py() == 1


def test_known_objects_reach_the_solar_system_class_through_the_runner(real):
    from fink_like.archive.model import classify

    enriched = ScienceRunner([_loaded()]).process(real)
    rows = enriched.select(["sso_class"]).to_pylist()
    classes = [classify(r) for r in rows]
    assert [c == "Solar System object" for c in classes] == [r["sso_class"] == KNOWN for r in rows]


def _loaded():
    module = SsoModule()
    module.load({})
    return module


# ---- synthetic detections --------------------------------------------------------------

def detections(points) -> pa.Table:
    """Fresh detections: (ra, dec, mjd[, extra columns]) with no history and no counterpart."""
    rows = []
    for k, p in enumerate(points):
        ra, dec, mjd = p[:3]
        extra = p[3] if len(p) > 3 else {}
        rows.append({"alert_id": 1000 + k, "mjd": mjd, "ra": ra % 360.0, "dec": dec, "night": "20250101",
                     "isdiffpos": True, "ndethist": 1, "lc_mjd": [mjd], "sgscore1": None, "distpsnr1": None,
                     "ssnamenr": None, "ssdistnr": None, "ss_object_id": None, **extra})
    schema = pa.schema([("alert_id", pa.int64()), ("mjd", pa.float64()), ("ra", pa.float64()),
                        ("dec", pa.float64()), ("night", pa.string()), ("isdiffpos", pa.bool_()),
                        ("ndethist", pa.int32()), ("lc_mjd", pa.list_(pa.float64())), ("sgscore1", pa.float64()),
                        ("distpsnr1", pa.float64()), ("ssnamenr", pa.string()), ("ssdistnr", pa.float64()),
                        ("ss_object_id", pa.int64())])
    return pa.Table.from_pylist(rows, schema=schema)


def track(ra0, dec0, rate_arcsec_h, pa_deg, hours, t0=60000.1, noise=0.0, rng=None):
    """Positions along a great circle from (ra0, dec0) at a constant rate and position angle."""
    out = []
    for h in hours:
        d = math.radians(rate_arcsec_h * h / 3600.0)
        th, d0, a0 = math.radians(pa_deg), math.radians(dec0), math.radians(ra0)
        dec = math.asin(math.sin(d0) * math.cos(d) + math.cos(d0) * math.sin(d) * math.cos(th))
        ra = a0 + math.atan2(math.sin(th) * math.sin(d) * math.cos(d0), math.cos(d) - math.sin(d0) * math.sin(dec))
        jitter = rng.normal(0, noise, 2) / 3600.0 if rng is not None else (0.0, 0.0)
        out.append((math.degrees(ra) + jitter[0] / max(math.cos(dec), 1e-3), math.degrees(dec) + jitter[1],
                    t0 + h * HOUR))
    return out


def test_synthetic_moving_objects_are_candidates_with_their_motion():
    rng = np.random.default_rng(1)
    main_belt = track(150.0, 10.0, 30.0, 60.0, [0.0, 0.5, 1.0], noise=0.1, rng=rng)
    across_ra0 = track(359.999, -5.0, 40.0, 90.0, [0.0, 0.6, 1.2], t0=60000.2)   # crosses RA = 0
    near_pole = track(45.0, 89.99, 25.0, 180.0, [0.0, 0.75], t0=60000.25)
    neo = track(210.0, -30.0, 600.0, 300.0, [0.0, 0.4], t0=60000.3)
    table = detections(main_belt + across_ra0 + near_pole + neo)
    out = run(table)
    assert out["sso_class"].to_pylist() == [CANDIDATE] * 10
    assert out["sso_ndet_night"].to_pylist() == [3, 3, 3, 3, 3, 3, 2, 2, 2, 2]
    tracklets = out["sso_tracklet"].to_pylist()
    assert tracklets == ["20250101-1000"] * 3 + ["20250101-1003"] * 3 + ["20250101-1006"] * 2 + ["20250101-1008"] * 2
    rates = out["sso_rate_arcsec_h"].to_pylist()
    assert rates[0] == pytest.approx(30.0, rel=0.02)
    assert rates[3] == pytest.approx(40.0, rel=1e-3)
    assert rates[6] == pytest.approx(25.0, rel=1e-3)
    assert rates[8] == pytest.approx(600.0, rel=1e-3)
    assert out["sso_pa_deg"][3].as_py() == pytest.approx(90.0, abs=0.1)
    assert out["sso_pa_deg"][8].as_py() == pytest.approx(300.0, abs=0.1)
    assert out["sso_name"].null_count == 10


def test_stationary_sources_are_not_moving_objects():
    # the same position twice (0.3" apart: astrometric noise), and a source with history
    pair = [(100.0, 20.0, 60000.1), (100.0 + 0.3 / 3600 / math.cos(math.radians(20)), 20.0, 60000.12)]
    with_history = track(30.0, 0.0, 30.0, 0.0, [0.0, 0.5])
    with_history[1] = (*with_history[1], {"ndethist": 5, "lc_mjd": [59990.0, with_history[1][2]]})
    table = detections(pair + with_history)
    assert run(table)["sso_class"].to_pylist() == [NONE] * 4


def test_stellar_counterpart_and_same_exposure_are_not_linked():
    star = track(80.0, 40.0, 30.0, 0.0, [0.0, 0.5])
    star[0] = (*star[0], {"distpsnr1": 0.4, "sgscore1": 0.98})
    same_exposure = [(120.0, 5.0, 60000.1), (120.0 + 5 / 3600, 5.0, 60000.1)]
    too_fast = track(200.0, 10.0, 5000.0, 45.0, [0.0, 0.5])     # 5000"/h: beyond max_rate
    table = detections(star + same_exposure + too_fast)
    assert run(table)["sso_class"].to_pylist() == [NONE] * 6


def test_random_detections_give_no_candidates():
    # 200 new sources over 20 x 20 deg in one night, no two closer than the fastest allowed
    # motion could bridge: every pair is at least 2 deg apart or within one exposure.
    rng = np.random.default_rng(7)
    grid = [(ra, dec) for ra in np.arange(100.0, 120.0, 2.0) for dec in np.arange(-10.0, 10.0, 1.0)]
    points = [(ra + rng.uniform(-0.2, 0.2), dec + rng.uniform(-0.2, 0.2), 60000.0 + rng.uniform(0, 0.3))
              for ra, dec in grid[:200]]
    out = run(detections(points), max_rate_arcsec_h=720.0, max_span_h=0.5)  # 720"/h * 0.5 h = 0.1 deg
    assert out["sso_class"].to_pylist() == [NONE] * len(points)


def test_a_line_explains_three_detections_but_not_a_fourth_off_track():
    line = track(10.0, 10.0, 60.0, 0.0, [0.0, 0.5, 1.0])
    off = [(10.0 + 20 / 3600, 10.0 + 30 / 3600, 60000.1 + 0.5 * HOUR)]   # 20" off the line at mid time
    out = run(detections(line + off))
    # the off-track detection pairs with the line's ends, but one line cannot hold all four:
    # the three-point line is kept and the fourth, left alone, is no candidate
    assert out["sso_class"].to_pylist() == [CANDIDATE, CANDIDATE, CANDIDATE, NONE]
    assert out["sso_tracklet"].to_pylist() == ["20250101-1000"] * 3 + [None]
    assert out["sso_rate_arcsec_h"][0].as_py() == pytest.approx(60.0, rel=1e-6)


def test_fit_motion_is_exact_on_a_great_circle():
    pts = track(0.0, 0.0, 36.0, 90.0, [0.0, 1.0, 2.0])
    motion = fit_motion(*zip(*pts))
    assert motion.rate_arcsec_h == pytest.approx(36.0, rel=1e-6)
    assert motion.pa_deg == pytest.approx(90.0, abs=1e-6)
    assert motion.max_residual_arcsec < 1e-6


def test_unknown_parameter_fails_at_load():
    with pytest.raises(PluginError, match="unknown parameter"):
        SsoModule().load({"max_rate": 3})


def test_empty_batch():
    out = run(detections([]))
    assert all(len(v) == 0 for v in out.columns)


def test_rubin_known_objects_are_the_9_0_alerts_with_an_ss_object_id(real):
    rubin7 = real.filter(pc.equal(real["survey"], "lsst"))
    assert run(rubin7)["sso_class"].to_pylist().count(KNOWN) == 4


def test_real_rubin_pair_of_new_sources_is_a_candidate_tracklet(real):
    out = run(real)
    rows = [i for i, c in enumerate(out["sso_class"].to_pylist()) if c == CANDIDATE]
    assert [real["alert_id"][i].as_py() for i in rows] == [169298432627310934, 169298433322516820]
    assert {out["sso_tracklet"][i].as_py() for i in rows} == {"20250905-169298432627310934"}
    assert out["sso_pa_deg"][rows[0]].as_py() == pytest.approx(1.05, abs=0.01)   # due north


def test_archive_solar_system_class_and_sso_query(real, make_settings):
    from fink_like.archive.query import Archive
    from fink_like.archive.writer import ArchiveWriter

    settings = make_settings()
    enriched = ScienceRunner([_loaded()]).process(real)
    ArchiveWriter(settings).write(enriched)
    archive = Archive(settings)
    try:
        in_class = archive.by_class("solar system object", limit=500).table["alert_id"].to_pylist()
        known = [a for a, c in zip(enriched["alert_id"].to_pylist(), enriched["sso_class"].to_pylist())
                 if c == KNOWN]
        assert sorted(in_class) == sorted(known) and len(known) == 98
        track = archive.sso("K13L24L").table
        assert track["alert_id"].to_pylist() == [169298432645136561, 169298433340342300]   # time order
        assert archive.sso(" 2009 PB15").table["object_id"].to_pylist() == ["ZTF23ablgreu"]
    finally:
        archive.close()


def test_query_sso_command(real, make_settings, tmp_path, capsys):
    import json

    import yaml

    from fink_like.archive.writer import ArchiveWriter
    from fink_like.cli import main

    settings = make_settings()
    ArchiveWriter(settings).write(ScienceRunner([_loaded()]).process(real))
    config = tmp_path / "conf.yaml"
    config.write_text(yaml.safe_dump({"archive": {"path": settings.archive.path}}))
    assert main(["--config", str(config), "query", "sso", "K13L24L", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["alert_id"], r["sso_class"], r["class"]) for r in rows] == [
        (169298432645136561, KNOWN, "Solar System object"), (169298433340342300, KNOWN, "Solar System object")]
    assert main(["--config", str(config), "query", "sso", "K13L24L"]) == 0
    assert "169298433340342300" in capsys.readouterr().out
