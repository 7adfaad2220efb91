"""Labelled real objects -> canonical alerts: the real folder, the OGLE recipe, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fink_like.science.labelled import (MIN_SNR, LabelledDataError, alert_like, build_alerts, ogle_to_ztf,
                                        parse_ages, read_labelled)
from fink_like.science.training import split_objects
from fink_like.surveys.canonical import CANONICAL_SCHEMA


@pytest.fixture(scope="module")
def labelled(shared_data):
    return read_labelled(shared_data / "labelled")


def test_real_folder_gives_canonical_alert_like_points(labelled):
    points = labelled.points
    assert set(points["band"]) == {"g", "r"}
    assert (points["flux"].abs() / points["fluxerr"] >= MIN_SNR).all()
    assert not points.assign(night=np.floor(points["mjd"] - 0.3)).duplicated(["object_id", "band", "night"]).any()
    alerts = build_alerts(labelled, (20.0, "all"), history_days=30.0)
    assert alerts.table.schema == CANONICAL_SCHEMA
    first = alerts.table["first_mjd"].to_numpy()
    lc = alerts.table["lc_mjd"].to_pylist()
    young = (alerts.meta["age"] == 20.0).to_numpy()
    assert all(max(t) <= f + 20.0 + 1e-9 for t, f in zip(np.array(lc, dtype=object)[young], first[young]))
    assert all(max(t) - min(t) <= 30.0 + 1e-9 for t in lc)


def test_ogle_recipe_subtracts_the_baseline_and_thins_the_cadence():
    t = 50000.0 + np.arange(400.0)
    base, peak = 18.0, 50000.0 + 200
    u = np.hypot(0.1, (t - peak) / 20.0)
    magnification = (u**2 + 2) / (u * np.sqrt(u**2 + 4))
    mag = base - 2.5 * np.log10(magnification)
    curve = pd.DataFrame({"object_id": "OGLE_X", "mjd": t, "band": "I", "mag": mag, "magerr": 0.01,
                          "flux_njy": np.nan, "fluxerr_njy": np.nan, "kind": "ogle"})
    det = ogle_to_ztf(curve, seed=1)
    assert set(det["band"]) <= {"g", "r"} and len(det)
    # only the event is detected: the baseline is subtracted
    assert det["mjd"].between(peak - 60, peak + 60).all()
    # about one OGLE night in two (r) or three (g) is visited
    assert (det["band"] == "r").sum() < 0.7 * 60 * 2
    assert (det["flux"].abs() / det["fluxerr"] >= MIN_SNR).all()
    again = ogle_to_ztf(curve, seed=1)
    pd.testing.assert_frame_equal(det, again)


def test_split_is_by_object_stratified_and_fixed(labelled):
    split = split_objects(labelled.objects)
    assert split.index.is_unique and set(split) == {"train", "val", "test"}
    assert split.equals(split_objects(labelled.objects))
    frac = split.value_counts(normalize=True)
    assert 0.15 < frac["test"] < 0.25 and 0.15 < frac["val"] < 0.25


def test_unknown_kind_and_orphans(tmp_path, labelled):
    objects = pd.DataFrame({"object_id": ["a"], "class": ["SN Ia"]})
    objects.to_csv(tmp_path / "objects.csv", index=False)
    points = pd.DataFrame({"object_id": ["a", "b"], "mjd": [1.0, 2.0], "band": ["g", "g"], "mag": [18.0, 18.0],
                           "magerr": [0.1, 0.1], "flux_njy": [1e5, 1e5], "fluxerr_njy": [1e3, 1e3],
                           "kind": ["alert", "alert"]})
    points.to_parquet(tmp_path / "lightcurves.parquet")
    with pytest.raises(LabelledDataError, match="1 object\\(s\\) in lightcurves.parquet are not in objects.csv, e.g. b"):
        read_labelled(tmp_path)
    points.assign(kind="spectrum").to_parquet(tmp_path / "lightcurves.parquet")
    with pytest.raises(LabelledDataError, match="unknown kind\\(s\\) \\['spectrum'\\]"):
        read_labelled(tmp_path)
    with pytest.raises(LabelledDataError, match="does not exist"):
        read_labelled(tmp_path / "nope")


def test_faint_only_points_leave_an_empty_set():
    points = pd.DataFrame({"object_id": ["a"], "mjd": [1.0], "band": ["g"], "mag": [21.0], "magerr": [0.5],
                           "flux_njy": [1e3], "fluxerr_njy": [1e3], "kind": ["forced"]})
    assert alert_like(points).empty


def test_parse_ages():
    assert parse_ages("10, 20,all") == (10.0, 20.0, "all")
    with pytest.raises(LabelledDataError, match="non-negative"):
        parse_ages("-3")
