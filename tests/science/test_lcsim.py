"""The labelled light-curve simulator: schema, determinism, classes, detections, physics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from fink_like.errors import FinkLikeError
from fink_like.science.lcsim import CLASSES, LCSIM_SCHEMA, TRUTH_COLUMNS, SimulationError, simulate
from fink_like.surveys.canonical import CANONICAL_COLUMNS, CANONICAL_SCHEMA

SURVEY_BANDS = {"ztf": {"g", "r", "i"}, "rubin": {"u", "g", "r", "i", "z", "y"}}


@pytest.fixture(scope="module", params=["ztf", "rubin"])
def sim(request):
    return request.param, simulate(300, survey=request.param, seed=11)


def test_canonical_schema_then_label_and_truth(sim):
    _, table = sim
    assert table.schema.equals(LCSIM_SCHEMA)
    assert table.select(list(CANONICAL_COLUMNS)).schema.equals(CANONICAL_SCHEMA)
    assert table.schema.names[len(CANONICAL_COLUMNS):] == ["label", *TRUTH_COLUMNS]
    for field in CANONICAL_SCHEMA:
        if not field.nullable:
            assert table.column(field.name).null_count == 0, field.name


def test_every_class_with_even_split(sim):
    _, table = sim
    counts = pd.Series(table.column("label").to_pylist()).value_counts()
    assert counts.to_dict() == {label: 30 for label in CLASSES}


def test_detections_have_snr_at_least_five_and_alert_is_last_detection(sim):
    survey, table = sim
    df = table.to_pandas()
    for row in df.itertuples():
        flux, err = np.asarray(row.lc_flux), np.asarray(row.lc_fluxerr)
        assert len(flux) >= 1 and len(flux) == row.ndethist
        assert np.all(np.abs(flux) / err >= 5.0)
        assert np.all(np.diff(row.lc_mjd) >= 0)
        assert row.lc_mjd[-1] == row.mjd and row.lc_flux[-1] == row.flux and row.lc_band[-1] == row.band
        assert row.first_mjd == row.lc_mjd[0]
        assert row.isdiffpos == (row.flux > 0)
        assert row.mag == pytest.approx(31.4 - 2.5 * np.log10(abs(row.flux)))
        assert np.all(np.asarray(row.ul_mjd) < row.mjd)
        assert set(row.lc_band) | set(row.ul_band) <= SURVEY_BANDS[survey]
        assert len(row.fp_mjd) == 0
    assert set(df.survey) == {"ztf" if survey == "ztf" else "lsst"}
    assert df.alert_id.is_unique and df.object_id.is_unique
    assert set(df.packet) == {b""}


def test_deterministic_for_a_seed_and_different_across_seeds():
    a = simulate(40, survey="ztf", seed=5)
    b = simulate(40, survey="ztf", seed=5)
    c = simulate(40, survey="ztf", seed=6)
    assert a.equals(b)
    assert not a.column("lc_flux").equals(c.column("lc_flux"))


def test_class_streams_do_not_depend_on_other_classes():
    alone = simulate({"SN Ia": 12}, survey="rubin", seed=2, truncate=False).to_pandas()
    mixed = simulate({"SN Ia": 12, "AGN": 7}, survey="rubin", seed=2, truncate=False).to_pandas()
    key = ["truth_z", "truth_t0", "truth_x1"]
    a = alone[key].sort_values("truth_t0").reset_index(drop=True)
    b = mixed[mixed.label == "SN Ia"][key].sort_values("truth_t0").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_truncation_cuts_at_every_phase():
    full = simulate({"SN Ia": 80}, survey="ztf", seed=4, truncate=False).to_pandas()
    cut = simulate({"SN Ia": 80}, survey="ztf", seed=4, truncate=True).to_pandas()
    # Same objects (same class stream) with shorter or equal light curves.
    assert (cut.ndethist.sort_values().values <= full.ndethist.max()).all()
    before_peak = (cut.mjd < cut.truth_t0).mean()
    assert 0.1 < before_peak < 0.9
    assert (full.mjd > full.truth_t0).mean() > 0.8


def test_forced_photometry_holds_every_epoch():
    df = simulate({"RR Lyrae": 5, "SN II": 5}, survey="rubin", seed=1, forced_photometry=True).to_pandas()
    for row in df.itertuples():
        assert len(row.fp_mjd) == len(row.lc_mjd) + len(row.ul_mjd)
        assert sorted(row.fp_mjd) == sorted([*row.lc_mjd, *row.ul_mjd])


def test_truth_columns_match_the_class():
    df = simulate(100, survey="ztf", seed=9).to_pandas()
    sn = df[df.label.isin(["SN Ia", "SN II", "SN Ibc"])]
    assert sn.truth_z.notna().all() and sn.truth_u0.isna().all()
    ml = df[df.label == "microlensing"]
    assert ml.truth_u0.between(0.01, 1.0).all() and ml.truth_te.between(3, 300).all()
    periodic = df[df.label.isin(["RR Lyrae", "Cepheid", "eclipsing binary"])]
    assert periodic.truth_period.notna().all()
    rrl = df[df.label == "RR Lyrae"]
    assert rrl.truth_period.between(0.45, 0.75).all()
    # Transients are new sources: positive differences only. Variables go both ways.
    transients = df[df.label.isin(["SN Ia", "SN II", "SN Ibc", "microlensing", "CV"])]
    assert all(min(f) > 0 for f in transients.lc_flux)
    variables = df[df.label.isin(["RR Lyrae", "Cepheid", "eclipsing binary", "AGN", "constant"])]
    assert any(min(f) < 0 for f in variables.lc_flux) and any(max(f) > 0 for f in variables.lc_flux)


def test_snia_peak_is_standard_candle():
    """Near-peak g magnitude, corrected with an independent Planck18 distance modulus,
    recovers the drawn Tripp absolute magnitude; that one is centred on -19.3 +- 0.15."""
    from astropy.cosmology import Planck18

    df = simulate({"SN Ia": 400}, survey="ztf", seed=3, truncate=False).to_pandas()
    tripp = df.truth_abs_mag + 0.14 * df.truth_x1
    assert tripp.median() == pytest.approx(-19.3, abs=0.05)
    assert tripp.std() == pytest.approx(0.15, abs=0.03)
    residuals = []
    for row in df[df.truth_z < 0.08].itertuples():
        near = (np.asarray(row.lc_band) == "g") & (np.abs(np.asarray(row.lc_mjd) - row.truth_t0) < 1.5)
        if near.any():
            m = np.min(np.asarray(row.lc_mag)[near])
            colour = 3.1 * row.truth_c * 440.0 / (480.0 / (1 + row.truth_z))
            absolute = m - Planck18.distmod(row.truth_z).value + 2.5 * np.log10(1 + row.truth_z)
            residuals.append(absolute - row.truth_abs_mag - colour)
    assert len(residuals) >= 10
    assert np.median(residuals) == pytest.approx(0.0, abs=0.08)


def test_physics_building_blocks():
    from fink_like.science.lcsim.events import paczynski
    from fink_like.science.lcsim.supernovae import bazin, distance_modulus
    from astropy.cosmology import Planck18

    assert paczynski(10.0, 10.0, 1.0, 20.0) == pytest.approx(3 / np.sqrt(5))
    t = np.linspace(-30, 80, 2201)
    shape = bazin(t, 0.0, 3.0, 20.0)
    assert t[np.argmax(shape)] == pytest.approx(0.0, abs=0.06) and shape.max() == pytest.approx(1.0)
    z = np.array([0.01, 0.1, 0.5, 1.5])
    assert distance_modulus(z) == pytest.approx(Planck18.distmod(z).value, abs=2e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 5, "survey": "pan-starrs"}, "unknown survey"),
        ({"n": {"kilonova": 3}}, "unknown class"),
        ({"n": {"SN Ia": -1}}, "non-negative"),
        ({"n": 5, "classes": []}, "empty"),
        ({"n": 2.5}, "must be an int"),
        ({"n": 5, "seed": -1}, "seed"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(SimulationError, match=message) as info:
        simulate(**kwargs)
    assert isinstance(info.value, FinkLikeError)


def test_zero_rows_keep_the_schema():
    table = simulate({"SN Ia": 0}, survey="ztf")
    assert table.num_rows == 0 and table.schema.equals(LCSIM_SCHEMA)
    assert isinstance(table, pa.Table)


def test_history_window_like_ztf_prv_candidates():
    full = simulate({"Cepheid": 20, "SN II": 20}, survey="ztf", seed=8).to_pandas()
    cut = simulate({"Cepheid": 20, "SN II": 20}, survey="ztf", seed=8, history_days=30.0).to_pandas()
    pd.testing.assert_series_equal(full.mjd, cut.mjd)
    pd.testing.assert_series_equal(full.ndethist, cut.ndethist)
    pd.testing.assert_series_equal(full.first_mjd, cut.first_mjd)
    for f, c in zip(full.itertuples(), cut.itertuples()):
        window = np.asarray(f.lc_mjd) >= f.mjd - 30.0
        assert list(c.lc_mjd) == list(np.asarray(f.lc_mjd)[window])
        assert np.all(np.asarray(c.ul_mjd) >= c.mjd - 30.0)
    with pytest.raises(SimulationError, match="history_days"):
        simulate(3, history_days=0)


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counted half (Mann-Whitney)."""
    diff = positive[:, None] - negative[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def test_ps1_neighbour_fields_carry_no_class_information():
    # They used to be drawn from the label (stars close to a star-like PS1 source), which
    # let any classifier trained on them learn the simulator instead of the sky.
    df = simulate(1200, survey="ztf", seed=3).to_pandas()
    stars = df.label.isin(["RR Lyrae", "Cepheid", "eclipsing binary", "constant", "CV", "microlensing"])
    for column in ("sgscore1", "distpsnr1"):
        values = df[column].to_numpy()
        assert np.isfinite(values).all()
        assert 0.42 < _auc(values[stars.to_numpy()], values[~stars.to_numpy()]) < 0.58, column
    assert df.sgscore1.between(0.0, 1.0).all() and df.distpsnr1.between(0.0, 3.0).all()
