"""Canonical columns agree with an independent fastavro read and astropy conversions."""

from __future__ import annotations

import astropy.units as u
import fastavro
import numpy as np
import pytest
from astropy.time import Time

from fink_like.surveys import CANONICAL_SCHEMA, read_alert_files
from fink_like.surveys.rubin import FLAG_BITS


@pytest.fixture(scope="module")
def ztf_rows(shared_data):
    table = read_alert_files([shared_data / "ztf/alerts-3.3", shared_data / "ztf/alerts-4.02"])
    return table


@pytest.fixture(scope="module")
def rubin_rows(shared_data):
    return read_alert_files([shared_data / "lsst/alerts-7.4", shared_data / "lsst/alerts-9.0"])


def test_ztf_fields_match_fastavro_and_astropy(shared_data, ztf_rows, read_avro_independently):
    assert ztf_rows.schema == CANONICAL_SCHEMA
    paths = sorted((shared_data / "ztf/alerts-3.3").glob("*.avro")) + sorted((shared_data / "ztf/alerts-4.02").glob("*.avro"))
    rows = {r["alert_id"]: r for r in ztf_rows.select(
        ["alert_id", "object_id", "mjd", "ra", "dec", "band", "mag", "flux", "isdiffpos", "lc_mjd",
         "ul_maglim", "fp_flux", "night", "topic", "offset"]).to_pylist()}
    assert len(rows) == len(paths)
    for path in paths:
        alert = read_avro_independently(path)
        cand = alert["candidate"]
        row = rows[alert["candid"]]
        assert row["object_id"] == alert["objectId"]
        mjd = Time(cand["jd"], format="jd").mjd
        assert row["mjd"] == pytest.approx(mjd, abs=1e-9)
        assert (row["ra"], row["dec"]) == (cand["ra"], cand["dec"])
        assert row["band"] == "gri"[cand["fid"] - 1]
        assert row["mag"] == cand["magpsf"]
        sign = 1 if cand["isdiffpos"] in ("t", "1") else -1
        assert row["flux"] == pytest.approx(sign * (cand["magpsf"] * u.ABmag).to_value(u.nJy), rel=1e-9)
        prv = alert["prv_candidates"] or []
        detections = sorted([p["jd"] for p in prv if p["magpsf"] is not None] + [cand["jd"]])
        assert row["lc_mjd"] == pytest.approx([Time(jd, format="jd").mjd for jd in detections], abs=1e-9)
        assert len(row["ul_maglim"]) == sum(1 for p in prv if p["magpsf"] is None)
        forced = [f for f in alert.get("fp_hists") or []
                  if f["forcediffimflux"] not in (None, -99999.0) and f["magzpsci"] is not None]
        expected = sorted(forced, key=lambda f: f["jd"])
        assert row["fp_flux"] == pytest.approx(
            [f["forcediffimflux"] * 10 ** (-0.4 * (f["magzpsci"] - 31.4)) for f in expected], rel=1e-9)
        assert row["night"] == Time(cand["jd"], format="jd").datetime.strftime("%Y%m%d")
        assert row["topic"] == "file"
    assert sorted(r["offset"] for r in rows.values()) == list(range(len(paths)))


def test_rubin_fields_match_fastavro_and_astropy(shared_data, rubin_rows):
    paths = sorted((shared_data / "lsst/alerts-7.4").glob("*.avro")) + sorted((shared_data / "lsst/alerts-9.0").glob("*.avro"))
    rows = {r["alert_id"]: r for r in rubin_rows.to_pylist()}
    assert len(rows) == len(paths)
    solar_system = 0
    for path in paths:
        alert = next(iter(fastavro.reader(path.open("rb"))))
        src = alert["diaSource"]
        row = rows[alert.get("alertId", alert.get("diaSourceId"))]
        assert row["survey"] == "lsst"
        assert row["schema_version"] == path.parent.name.split("-")[1]
        assert row["source_id"] == src["diaSourceId"]
        assert row["object_id"] == str(src["diaObjectId"] or src["ssObjectId"])
        solar_system += not src["diaObjectId"]
        assert (row["mjd"], row["ra"], row["dec"], row["band"]) == (
            src["midpointMjdTai"], src["ra"], src["dec"], src["band"])
        assert row["flux"] == src["psfFlux"] and row["reliability"] == src["reliability"]
        assert row["mag"] == pytest.approx((abs(src["psfFlux"]) * u.nJy).to_value(u.ABmag), rel=1e-12)
        assert row["flags"] == sum(1 << i for i, name in enumerate(FLAG_BITS) if src.get(name))
        prv = alert["prvDiaSources"] or []
        assert row["lc_mjd"] == sorted([p["midpointMjdTai"] for p in prv] + [src["midpointMjdTai"]])
        assert sorted(row["fp_mjd"]) == row["fp_mjd"]
        assert len(row["fp_flux"]) == len(alert["prvDiaForcedSources"] or [])
        day_obs = (Time(src["midpointMjdTai"], format="mjd", scale="tai").utc - 12 * u.hour).datetime
        assert row["night"] == day_obs.strftime("%Y%m%d")
    assert solar_system > 0  # the ssObjectId branch was exercised


def test_ztf_forced_photometry_in_njy_skipping_missing(file_messages):
    """Shared 4.02 alerts carry no fp_hists: add some to a real alert, with ZTF's sentinels."""
    from fink_like.surveys import adapter_for, decode_batch
    from fink_like.surveys.files import AlertMessage, messages_table

    ztf = adapter_for("ztf")
    message = file_messages["ztf/alerts-4.02"][0]
    record = ztf.decode(message.value)
    base = {"field": 1, "rcid": 2, "pid": 3, "rfid": 4, "programid": 1, "fid": 2, "ranr": 1.0, "decnr": 2.0}
    optional = ("sciinpseeing", "scibckgnd", "scisigpix", "magzpsciunc", "magzpscirms", "clrcoeff",
                "clrcounc", "exptime", "adpctdif1", "adpctdif2", "diffmaglim", "procstatus",
                "distnr", "magnr", "sigmagnr", "chinr", "sharpnr")
    base.update({name: None for name in optional})
    points = [(2460001.5, 120.0, 4.0, 26.0), (2460000.5, -30.0, 5.0, 25.5),
              (2460002.5, -99999.0, 1.0, 26.0), (2460003.5, None, None, 26.0), (2460004.5, 10.0, 1.0, None)]
    record["fp_hists"] = [{**base, "jd": jd, "forcediffimflux": f, "forcediffimfluxunc": e, "magzpsci": zp}
                          for jd, f, e, zp in points]
    value = ztf.encode(record, "4.02")
    canonical, quarantine = decode_batch(messages_table([AlertMessage("ztf", "4.02", b"k", value, "test")]))
    assert len(quarantine) == 0
    row = canonical.to_pylist()[0]
    kept = sorted(points[:2])
    to_njy = [(f * u.Unit("nJy") * 10 ** (-0.4 * (zp - 31.4))).value for _, f, _, zp in kept]
    assert row["fp_mjd"] == pytest.approx([Time(jd, format="jd").mjd for jd, *_ in kept], abs=1e-9)
    assert row["fp_flux"] == pytest.approx(to_njy, rel=1e-6)
    assert row["fp_band"] == ["r", "r"]


def test_night_column_is_never_empty(ztf_rows, rubin_rows):
    for table in (ztf_rows, rubin_rows):
        nights = np.array(table.column("night").to_pylist())
        assert all(len(n) == 8 and n.isdigit() for n in nights)
