"""SN Ia features against values worked out by hand on small light curves."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from fink_like.errors import AlertError, PluginError
from fink_like_snia.features import FEATURES, MISSING, extract


def mag(flux):
    return 31.4 - 2.5 * math.log10(flux)


def _table(rows):
    cols = {k: [r[k] for r in rows] for k in ("lc_mjd", "lc_band", "lc_flux", "lc_fluxerr", "ul_mjd")}
    types = {"lc_band": pa.list_(pa.string())}
    return pa.table({k: pa.array(v, types.get(k, pa.list_(pa.float64()))) for k, v in cols.items()})


ROWS = [
    {   # a rising-then-fading transient in g and r, with non-detections before
        "lc_mjd": [10.0, 11.0, 14.0, 20.0, 21.0],
        "lc_band": ["g", "r", "g", "r", "g"],
        "lc_flux": [1000.0, 1500.0, 4000.0, 3000.0, 2000.0],
        "lc_fluxerr": [100.0, 100.0, 100.0, 100.0, 100.0],
        "ul_mjd": [2.0, 7.0, 12.5],
    },
    {   # a single detection, no upper limit
        "lc_mjd": [50.0], "lc_band": ["i"], "lc_flux": [-800.0], "lc_fluxerr": [100.0], "ul_mjd": [],
    },
]


def test_features_match_hand_computation():
    x = dict(zip(FEATURES, extract(_table(ROWS))[0]))
    assert x["n_all"] == 5 and x["n_g"] == 3 and x["n_r"] == 2
    assert x["peak_mag_g"] == pytest.approx(mag(4000.0))
    assert x["rise_g"] == pytest.approx((mag(1000.0) - mag(4000.0)) / (14.0 - 10.0 + 1.0))
    assert x["fall_g"] == pytest.approx((mag(2000.0) - mag(4000.0)) / (21.0 - 14.0 + 1.0))
    assert x["to_peak_all"] == 4.0 and x["since_peak_all"] == 7.0
    assert x["colour_peak"] == pytest.approx(mag(4000.0) - mag(3000.0))
    assert x["colour_last"] == pytest.approx(mag(2000.0) - mag(3000.0))
    assert x["duration"] == 11.0
    assert x["dt_nondet"] == 3.0           # last upper limit before the first detection: 7.0
    assert x["det_frac"] == pytest.approx(5 / 8)
    fluxes = np.array([1500.0, 3000.0])
    chi2 = np.sum((fluxes - fluxes.mean()) ** 2 / 100.0**2) / 1
    assert x["log_chi2_r"] == pytest.approx(np.log10(1 + chi2))
    assert x["neg_frac_all"] == 0.0


def test_single_detection_gives_defined_values():
    x = dict(zip(FEATURES, extract(_table(ROWS))[1]))
    assert x["n_all"] == 1 and x["n_g"] == 0
    assert x["neg_frac_all"] == 1.0
    assert x["peak_mag_all"] == MISSING          # negative flux: no magnitude
    assert x["to_peak_all"] == 0.0 and x["duration"] == 0.0 and x["log_chi2_all"] == 0.0
    assert x["peak_mag_g"] == MISSING and x["colour_peak"] == MISSING and x["dt_nondet"] == MISSING
    assert x["det_frac"] == 1.0


def test_empty_batch_and_bad_lists():
    assert extract(_table([])).shape == (0, len(FEATURES))
    bad = dict(ROWS[0], lc_flux=[1.0, 2.0])
    with pytest.raises(AlertError, match="ragged_history: row 0: lc_flux"):
        extract(_table([bad]))
    with pytest.raises(PluginError, match="missing"):
        extract(_table(ROWS).drop_columns(["ul_mjd"]))
