"""The light-curve accessor on real alerts of both surveys, against an independent read."""

from __future__ import annotations

import math

import astropy.units as u
import numpy as np
import pyarrow as pa
import pytest
from astropy.time import Time

from fink_like.errors import AlertError, PluginError
from fink_like.science.lightcurve import BANDS, columns, read_points
from fink_like.surveys import read_alert_files

FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")


def _by_row(points, n_rows, names):
    """{row: sorted list of (mjd, band name, *fields)} from the accessor's flat arrays."""
    out = {i: [] for i in range(n_rows)}
    for j in range(len(points)):
        out[int(points.row[j])].append((points.mjd[j], BANDS[points.band[j]],
                                        *(getattr(points, n)[j] for n in names)))
    return {i: sorted(v) for i, v in out.items()}


def _ztf_expected(alert):
    """Detections and limits of a raw ZTF record, converted with astropy."""
    cand, prv = alert["candidate"], alert["prv_candidates"] or []
    det, lim = [], []
    for p in [q for q in prv if q["candid"] != cand["candid"]] + [cand]:
        mjd, band = Time(p["jd"], format="jd").mjd, "gri"[p["fid"] - 1]
        if p["magpsf"] is None:
            lim.append((mjd, band, p["diffmaglim"]))
            continue
        sign = -1.0 if p["isdiffpos"] in ("f", "0") else 1.0
        det.append((mjd, band, sign * (p["magpsf"] * u.ABmag).to_value(u.nJy), p["magpsf"], p["sigmapsf"]))
    return sorted(det), sorted(lim)


def _rubin_expected(alert):
    """Detections and forced photometry of a raw Rubin record; magnitudes from astropy."""
    src = alert["diaSource"]
    prv = [p for p in alert["prvDiaSources"] or [] if p["diaSourceId"] != src["diaSourceId"]]
    det = sorted((p["midpointMjdTai"], p["band"], p["psfFlux"], p["psfFluxErr"]) for p in prv + [src])
    forced = []
    for f in alert["prvDiaForcedSources"] or []:
        flux, err = f["psfFlux"], f["psfFluxErr"]
        if flux is None or math.isnan(flux):
            continue
        mag = (flux * u.nJy).to_value(u.ABmag) if flux > 0 else math.nan
        magerr = 2.5 / math.log(10) * err / flux if flux > 0 and err is not None else math.nan
        forced.append((f["midpointMjdTai"], f["band"], flux, err, mag, magerr))
    return det, sorted(forced)


def _close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g[1] == e[1]
        np.testing.assert_allclose(np.array(g[:1] + g[2:], float), np.array(e[:1] + e[2:], float),
                                   rtol=1e-9, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("folder", FOLDERS)
def test_points_match_an_independent_read_of_real_alerts(shared_data, read_avro_independently, folder):
    paths = sorted((shared_data / folder).glob("*.avro"))
    table = read_alert_files([shared_data / folder])
    assert table.num_rows == len(paths) > 0
    row_of = {aid: i for i, aid in enumerate(table["alert_id"].to_pylist())}
    ztf = folder.startswith("ztf")
    det = _by_row(read_points(table, "lc", ("flux", "mag", "magerr") if ztf else ("flux", "fluxerr")),
                  table.num_rows, ("flux", "mag", "magerr") if ztf else ("flux", "fluxerr"))
    if ztf:
        other = _by_row(read_points(table, "ul", ("maglim",)), table.num_rows, ("maglim",))
    else:
        names = ("flux", "fluxerr", "mag", "magerr")
        other = _by_row(read_points(table, "fp", names), table.num_rows, names)
    checked = 0
    for path in paths:
        alert = read_avro_independently(path)
        row = row_of[alert["candid"] if ztf else alert.get("alertId", alert["diaSource"]["diaSourceId"])]
        expected_det, expected_other = _ztf_expected(alert) if ztf else _rubin_expected(alert)
        _close(det[row], expected_det)
        _close(other[row], expected_other)
        checked += len(expected_det) + len(expected_other)
    assert checked > table.num_rows  # histories were exercised, not only the current detection


def test_nulls_become_nan_and_null_lists_are_empty():
    table = pa.table({"lc_mjd": [[1.0, 2.0], None, [], [4.0]],
                      "lc_band": [["g", None], None, [], ["r"]],
                      "lc_flux": [[None, 3.0], None, [], [5.0]],
                      "lc_fluxerr": [[1.0, 0.0], None, [], [float("nan")]]})
    points = read_points(table, "lc", ("flux", "fluxerr"))
    assert points.row.tolist() == [0, 0, 3]
    assert points.band.tolist() == [1, -1, 2]
    assert np.isnan(points.flux[0]) and points.counts().tolist() == [2, 0, 0, 1]
    assert points.usable("flux").tolist() == [False, True, True]
    assert points.usable("flux", "fluxerr").tolist() == [False, False, False]  # error 0 and NaN
    assert points.usable("mjd", known_band=True).tolist() == [True, False, True]


def test_mismatched_lengths_name_the_row_and_the_column():
    table = pa.table({"lc_mjd": [[1.0], [1.0, 2.0]], "lc_band": [["g"], ["g", "r"]],
                      "lc_flux": [[1.0], [1.0]]})
    with pytest.raises(AlertError, match=r"ragged_history: row 1: lc_flux has 1 values but lc_mjd has 2"):
        read_points(table, "lc", ("flux",))


def test_unknown_bands_raise_or_are_kept_as_minus_one():
    table = pa.table({"ul_mjd": [[1.0, 2.0]], "ul_band": [["g", "w"]], "ul_maglim": [[20.0, 21.0]]})
    with pytest.raises(AlertError, match=r"unknown_band: ul_band holds \['w'\]"):
        read_points(table, "ul", ("maglim",))
    assert read_points(table, "ul", ("maglim",), unknown_band="keep").band.tolist() == [1, -1]


def test_missing_column_and_unknown_fields_are_named():
    with pytest.raises(AlertError, match="missing_column: the batch has no column 'lc_flux'"):
        read_points(pa.table({"lc_mjd": [[1.0]], "lc_band": [["g"]]}), "lc", ("flux",))
    with pytest.raises(PluginError, match="ul points have no field 'flux'"):
        columns("ul", ("flux",))
    with pytest.raises(PluginError, match="unknown light-curve kind 'xx'"):
        columns("xx")
    assert columns("fp", ("mag",)) == ("fp_mjd", "fp_band", "fp_flux")


def test_sorting_groups_and_per_row_access():
    table = pa.table({"lc_mjd": [[3.0, 1.0, 2.0], [], [7.0, 6.0]],
                      "lc_band": [["r", "g", "r"], [], ["g", "g"]],
                      "lc_flux": [[30.0, 10.0, 20.0], [], [70.0, 60.0]]})
    points = read_points(table, "lc", ("flux",)).sorted("band", "mjd")
    assert points.flux.tolist() == [10.0, 20.0, 30.0, 60.0, 70.0]
    group, group_row = points.groups()
    assert group.tolist() == [0, 1, 1, 2, 2] and group_row.tolist() == [0, 0, 2]
    rows = [r.flux.tolist() for r in points.rows()]
    assert rows == [[10.0, 20.0, 30.0], [], [60.0, 70.0]]
    assert points.of_row(2).mjd.tolist() == [6.0, 7.0]
    assert points.in_band("r").flux.tolist() == [20.0, 30.0]
    assert points.starts().tolist() == [0, 3, 3, 5]


def test_empty_batch():
    table = pa.table({"lc_mjd": pa.array([], pa.list_(pa.float64())),
                      "lc_band": pa.array([], pa.list_(pa.string()))})
    points = read_points(table)
    assert len(points) == 0 and points.counts().tolist() == [] and points.groups()[0].size == 0


def test_times_only_without_the_band():
    table = pa.table({"ul_mjd": [[1.0, 2.0], [3.0]]})
    assert columns("ul", band=False) == ("ul_mjd",)
    points = read_points(table, "ul", band=False)
    assert points.mjd.tolist() == [1.0, 2.0, 3.0] and points.band.tolist() == [-1, -1, -1]
