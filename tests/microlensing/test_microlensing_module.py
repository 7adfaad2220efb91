"""The microlensing module as the broker sees it: entry point, contract, scores, real alerts."""

from __future__ import annotations

import hashlib

import astropy.units as u
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord
from sklearn.metrics import roc_auc_score

from fink_like.errors import PluginError
from fink_like.science.base import canonical_json
from fink_like.science.lcsim import simulate
from fink_like_microlensing.module import ARTIFACT, MicrolensingModule

CLASSES = ("microlensing", "RR Lyrae", "Cepheid", "eclipsing binary", "CV", "AGN", "constant")


@pytest.fixture(scope="module")
def held_out():
    """A small simulation with a seed that training (0, 1) and evaluate.py (11) never use."""
    parts = [simulate({c: 40 for c in CLASSES}, survey=s, seed=23) for s in ("ztf", "rubin")]
    return pa.concat_tables(parts)


def test_entry_point_resolves_to_the_module():
    from fink_like.science.registry import available, load_module

    assert "microlensing" in available()
    module = load_module("microlensing", {})
    assert isinstance(module, MicrolensingModule)
    assert module.outputs == {"mulens_prob": pa.float64()}
    assert set(module.inputs) == {"lc_mjd", "lc_band", "lc_flux", "lc_fluxerr"}


def test_model_hash_is_the_artifact_sha256_and_min_points(mulens):
    model = hashlib.sha256(ARTIFACT.read_bytes()).hexdigest()
    assert mulens.artifact_hash() == model
    hashed = canonical_json({"min_points": mulens.params.min_points})
    assert mulens.model_hash == hashlib.sha256((model + hashed).encode()).hexdigest()


def test_scores_are_probabilities_and_deterministic(mulens, held_out):
    batch = held_out.select(list(mulens.inputs))
    first = mulens.process(batch)["mulens_prob"]
    again = mulens.process(batch)["mulens_prob"]
    assert first.dtype == np.float64 and len(first) == held_out.num_rows
    assert np.isfinite(first).all() and (first >= 0).all() and (first <= 1).all()
    np.testing.assert_array_equal(first, again)
    # Scores do not depend on batch composition.
    np.testing.assert_array_equal(mulens.process(batch.slice(7, 13))["mulens_prob"], first[7:20])


def test_held_out_real_events_rank_above_real_look_alikes(mulens, shared_data):
    """Test objects of the standard split: OGLE events (resampled) against SNe, TDEs, SLSNe."""
    from fink_like.science.evaluate import is_positive
    from fink_like.science.labelled import build_alerts, read_labelled
    from fink_like.science.training import split_objects, subset

    lset = read_labelled(shared_data / "labelled")
    split = split_objects(lset.objects)
    alerts = build_alerts(subset(lset, split.index[split == "test"]), ("all",))
    truth = is_positive(alerts.meta["class"], ["microlensing"])
    prob = mulens.process(alerts.table.select(list(mulens.inputs)))["mulens_prob"]
    assert truth.sum() >= 15
    assert roc_auc_score(truth, prob) > 0.85


def test_short_histories_score_zero_and_empty_batch_is_fine(mulens):
    one = pa.table({"lc_mjd": [[60000.0]], "lc_band": [["r"]], "lc_flux": [[1e4]], "lc_fluxerr": [[1e2]]})
    assert mulens.process(one)["mulens_prob"].tolist() == [0.0]
    empty = one.slice(0, 0)
    assert len(mulens.process(empty)["mulens_prob"]) == 0


def test_min_points_one_scores_single_detections():
    module = MicrolensingModule()
    module.load({"min_points": 1})
    three = pa.table({"lc_mjd": [[1.0, 2.0, 3.0]], "lc_band": [["r"] * 3],
                      "lc_flux": [[1e4, 2e4, 1e4]], "lc_fluxerr": [[1e2] * 3]})
    prob = module.process(three)["mulens_prob"]
    assert 0 < prob[0] < 1


@pytest.mark.parametrize("params, match", [
    ({"min_points": "many"}, "parameter 'min_points': Input should be a valid integer"),
    ({"min_points": 0}, "parameter 'min_points': Input should be greater than or equal to 1"),
    ({"minpoints": 3}, "science module 'microlensing': unknown parameter 'minpoints'; known: min_points"),
    ({"artifact": "/nonexistent/model.joblib"}, "cannot load model artifact /nonexistent/model.joblib"),
])
def test_bad_params_are_plugin_errors(params, match):
    with pytest.raises(PluginError, match=match):
        MicrolensingModule().load(params)


def test_real_alerts_of_both_surveys_score_cleanly(mulens, all_real_alerts):
    prob = mulens.process(all_real_alerts.select(list(mulens.inputs)))["mulens_prob"]
    assert len(prob) == all_real_alerts.num_rows == 922
    assert np.isfinite(prob).all() and (prob >= 0).all() and (prob <= 1).all()
    # Alerts with fewer than 4 detections are never scored.
    n = pc.list_value_length(all_real_alerts.column("lc_mjd")).to_numpy()
    assert (prob[n < 4] == 0).all()


def test_known_vsx_variables_are_not_flagged(mulens, all_real_alerts, shared_data):
    vsx = pq.read_table(shared_data / "catalogs" / "vsx.parquet", columns=["RAJ2000", "DEJ2000"])
    ra, dec = vsx.column("RAJ2000").to_numpy(), vsx.column("DEJ2000").to_numpy()
    a_ra, a_dec = all_real_alerts.column("ra").to_numpy(), all_real_alerts.column("dec").to_numpy()
    # Keep the stars within 0.01 deg in declination of some alert (1.9 million -> ~20k).
    sorted_dec = np.sort(a_dec)
    i = np.clip(np.searchsorted(sorted_dec, dec), 1, len(sorted_dec) - 1)
    box = np.minimum(np.abs(dec - sorted_dec[i]), np.abs(dec - sorted_dec[i - 1])) < 0.01
    stars = SkyCoord(ra[box] * u.deg, dec[box] * u.deg)
    _, sep, _ = SkyCoord(a_ra * u.deg, a_dec * u.deg).match_to_catalog_sky(stars)
    variables = sep.arcsec < 1.5
    assert variables.sum() >= 40  # the sample holds ~55 alerts of known variable stars
    prob = mulens.process(all_real_alerts.select(list(mulens.inputs)))["mulens_prob"][variables]
    assert np.median(prob) < 0.15
    assert (prob > 0.5).mean() < 0.2


def test_a_corrupt_alert_fails_alone_in_the_runner(all_real_alerts):
    from fink_like.config import ModuleSpec
    from fink_like.science.runner import ScienceRunner

    batch = all_real_alerts.slice(0, 64)
    flux = batch["lc_flux"].to_pylist()
    bad = next(i for i, f in enumerate(flux) if len(f) > 1)
    flux[bad] = flux[bad][:-1]  # one value fewer than lc_mjd: the accessor refuses this alert
    corrupt = batch.set_column(batch.schema.get_field_index("lc_flux"), "lc_flux",
                               pa.array(flux, batch.schema.field("lc_flux").type))
    runner = ScienceRunner([ModuleSpec(name="microlensing")])
    clean, out = runner.process(batch), runner.process(corrupt)
    status = [row[0]["status"] for row in out["provenance"].to_pylist()]
    assert status == ["error" if i == bad else "ok" for i in range(64)]
    assert out["provenance"][bad].as_py()[0]["error"].startswith("AlertError: ragged_history: row 0: lc_flux has")
    expected = clean["mulens_prob"].to_pylist()
    expected[bad] = None
    assert out["mulens_prob"].to_pylist() == expected
