"""Features checked against plain numpy/scipy computed one light curve at a time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from fink_like.errors import AlertError
from fink_like_microlensing import paczynski
from fink_like_microlensing.features import FEATURES, extract, extract_with_counts
from fink_like_microlensing.lightcurves import flatten


def table(curves):
    """Canonical lc_* columns from a list of (mjd, band, flux, fluxerr) lists."""
    names = ("lc_mjd", "lc_band", "lc_flux", "lc_fluxerr")
    return pa.table({n: [list(c[k]) for c in curves] for k, n in enumerate(names)})


def expected_band_stats(f, e):
    """The band statistics, written out directly from their definitions."""
    n = len(f)
    sd = np.std(f, ddof=1)
    d = np.sqrt(n / (n - 1)) * (f - f.mean()) / e
    w = 1 / e**2
    wmean = np.sum(w * f) / np.sum(w)
    return {
        "skew": stats.skew(f),
        "kurtosis": stats.kurtosis(f),
        "von_neumann": np.sum(np.diff(f) ** 2) / (n - 1) / sd**2,
        "beyond_1std": np.mean(np.abs(f - f.mean()) > sd),
        "stetson_j": np.sum(np.sign(d[:-1] * d[1:]) * np.sqrt(np.abs(d[:-1] * d[1:]))) / (n - 1),
        "log_redchi2": np.log10(1 + np.sum(w * (f - wmean) ** 2) / (n - 1)),
        "log_amp_snr": np.log10(1 + np.ptp(f) / e.mean()),
        "geary": np.mean(np.abs(f - f.mean())) / np.std(f),
        "rel_amp": np.ptp(f) / (sd + e.mean()),
    }


def test_single_band_statistics_match_their_definitions():
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 50, 12))
    f = rng.normal(100, 30, 12)
    e = rng.uniform(5, 15, 12)
    X = extract(table([(t, ["r"] * 12, f, e)]))
    for name, value in expected_band_stats(f, e).items():
        assert X[0, FEATURES.index(name)] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    peak = (t[np.argmax(f)] - t[0]) / (t[-1] - t[0])
    assert X[0, FEATURES.index("peak_phase")] == pytest.approx(peak)
    assert X[0, FEATURES.index("log_span")] == pytest.approx(np.log10(1 + t[-1] - t[0]))


def test_bands_are_averaged_by_point_count_and_short_bands_ignored():
    rng = np.random.default_rng(2)
    tg, tr, ti = (np.sort(rng.uniform(0, 30, k)) for k in (5, 8, 2))
    fg, fr, fi = (rng.normal(0, 50, k) for k in (5, 8, 2))
    mjd = np.concatenate([tg, tr, ti])
    order = np.argsort(mjd)
    bands = np.array(["g"] * 5 + ["r"] * 8 + ["i"] * 2)[order]
    flux = np.concatenate([fg, fr, fi])[order]
    X = extract(table([(mjd[order], bands, flux, np.full(15, 10.0))]))
    sg, sr = expected_band_stats(fg, np.full(5, 10.0)), expected_band_stats(fr, np.full(8, 10.0))
    for name in sg:
        assert X[0, FEATURES.index(name)] == pytest.approx((5 * sg[name] + 8 * sr[name]) / 13, rel=1e-9), name
    assert X[0, FEATURES.index("n_bands")] == 3
    assert X[0, FEATURES.index("n_valid_bands")] == 2


def test_shape_features_ignore_a_constant_flux_offset():
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 40, 15))
    f = rng.normal(0, 40, 15)
    bands = rng.choice(["g", "r"], 15)
    X = extract(table([(t, bands, f, np.full(15, 8.0)), (t, bands, f + 5000.0, np.full(15, 8.0))]))
    np.testing.assert_allclose(X[0], X[1], rtol=1e-6, atol=1e-9)


def test_noiseless_paczynski_event_on_the_grid_is_fitted_exactly():
    te, u0 = paczynski.TE_GRID[4], paczynski.U0_GRID[1]
    t = np.linspace(-2 * te, 2 * te, 41)  # t=0 (the peak) is sampled, so the template is exact
    a = paczynski.magnification(np.sqrt(u0**2 + (t / te) ** 2))
    curves = [(t, ["g"] * 41, 300 * (a - 1) + 20, np.full(41, 1.0))]
    X = extract(table(curves))
    assert X[0, FEATURES.index("pac_gain")] == pytest.approx(1.0, abs=1e-9)
    assert X[0, FEATURES.index("pac_logchi2")] == pytest.approx(0.0, abs=1e-9)
    assert X[0, FEATURES.index("pac_logte")] == pytest.approx(np.log10(te))
    assert X[0, FEATURES.index("pac_u0")] == pytest.approx(u0)


def test_rows_do_not_influence_each_other():
    rng = np.random.default_rng(4)
    curves = []
    for n in (1, 3, 9, 20):
        t = np.sort(rng.uniform(0, 60, n))
        curves.append((t, rng.choice(["g", "r", "i"], n), rng.normal(50, 20, n), np.full(n, 5.0)))
    together = extract(table(curves))
    alone = np.vstack([extract(table([c])) for c in curves])
    np.testing.assert_allclose(together, alone, rtol=1e-12)


def test_invalid_points_are_dropped_and_empty_histories_give_finite_zeros():
    t = [1.0, 2.0, 3.0, 4.0, 5.0]
    good = ([1.0, 2.0, 4.0], ["g"] * 3, [5.0, 9.0, 6.0], [1.0, 1.0, 1.0])
    dirty = (t, ["g"] * 5, [5.0, 9.0, float("nan"), 6.0, 7.0], [1.0, 1.0, 1.0, 1.0, 0.0])
    X, n = extract_with_counts(table([good, dirty, ([], [], [], [])]))
    np.testing.assert_array_equal(n, [3, 3, 0])
    # The same three points survive in row 1 (at t = 1, 2, 4): identical features.
    np.testing.assert_allclose(X[1], X[0])
    fit_shape = [FEATURES.index("pac_logte"), FEATURES.index("pac_u0")]
    assert np.all(np.delete(X[2], fit_shape) == 0)
    # Without points the fit reports the middle of its template grid.
    assert X[2, fit_shape[0]] == pytest.approx(np.log10(paczynski.TE_GRID[4]))
    assert X[2, fit_shape[1]] == paczynski.U0_GRID[2]
    assert np.isfinite(X).all()


def test_null_history_counts_as_empty():
    t = pa.table({name: pa.array([None], pa.list_(pa.string() if name == "lc_band" else pa.float64()))
                  for name in ("lc_mjd", "lc_band", "lc_flux", "lc_fluxerr")})
    assert flatten(t).n_groups == 0
    assert extract(t).shape == (1, len(FEATURES))


@pytest.mark.parametrize("curves, reason", [
    ([([1.0], ["q"], [1.0], [1.0])], "unknown_band"),
    ([([1.0, 2.0], ["g"], [1.0, 2.0], [1.0, 1.0])], "ragged_history"),
])
def test_bad_histories_raise_alert_errors_naming_the_problem(curves, reason):
    with pytest.raises(AlertError) as info:
        extract(table(curves))
    assert info.value.reason == reason


def test_missing_column_is_named():
    with pytest.raises(AlertError, match="lc_fluxerr"):
        extract(pa.table({"lc_mjd": [[1.0]], "lc_band": [["g"]], "lc_flux": [[1.0]]}))
