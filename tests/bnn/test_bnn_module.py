"""The BNN module as the broker sees it: contract, MC dropout, held-out AUC, real alerts."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pytest
import torch
from sklearn.metrics import roc_auc_score

from fink_like.errors import PluginError
from fink_like.science.base import canonical_json
from fink_like.science.lcsim import simulate
from fink_like_bnn.module import ARTIFACT, BnnModule
from fink_like_bnn.net import mc_predict
from fink_like_bnn.sequences import encode

ALERT_FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")


@pytest.fixture(scope="module")
def bnn():
    module = BnnModule()
    module.load({})
    return module


@pytest.fixture(scope="module")
def held_out():
    """SN Ia against the other classes, both cadences, a seed training never used."""
    parts = [simulate({"SN Ia": 120, "SN II": 40, "SN Ibc": 40, "RR Lyrae": 20, "AGN": 20, "constant": 20},
                      survey=s, seed=29, truncate=False) for s in ("ztf", "rubin")]
    return pa.concat_tables(parts)


def test_entry_point_resolves_to_the_module():
    from fink_like.science.registry import available, load_module

    assert "bnn" in available()
    module = load_module("bnn", {"passes": 4})
    assert isinstance(module, BnnModule)
    assert module.outputs == {"bnn_snia_mean": pa.float64(), "bnn_snia_std": pa.float64()}


def test_model_hash_is_the_artifact_sha256_and_the_output_parameters(bnn):
    weights = hashlib.sha256(ARTIFACT.read_bytes()).hexdigest()
    assert bnn.artifact_hash() == weights
    hashed = {"max_steps": bnn.params.max_steps, "passes": bnn.params.passes, "seed": bnn.params.seed}
    assert bnn.model_hash == hashlib.sha256((weights + canonical_json(hashed)).encode()).hexdigest()
    other = BnnModule()
    other.load({"passes": bnn.params.passes + 1})
    same = BnnModule()
    same.load({"passes": bnn.params.passes, "threads": 2})  # threads do not change outputs
    assert other.model_hash != bnn.model_hash == same.model_hash


def test_outputs_are_probabilities_with_non_negative_spread(bnn, held_out):
    out = bnn.process(held_out.select(list(bnn.inputs)))
    mean, std = out["bnn_snia_mean"], out["bnn_snia_std"]
    assert mean.dtype == np.float64 and len(mean) == len(std) == held_out.num_rows
    assert np.isfinite(mean).all() and np.isfinite(std).all()
    assert (mean >= 0).all() and (mean <= 1).all() and (std >= 0).all()
    assert std.max() > 0  # dropout is on: the passes differ


def test_seeded_passes_are_reproducible_and_independent_of_the_batch(bnn, held_out):
    batch = held_out.select(list(bnn.inputs))
    first, again = bnn.process(batch), bnn.process(batch)
    np.testing.assert_array_equal(first["bnn_snia_mean"], again["bnn_snia_mean"])
    np.testing.assert_array_equal(first["bnn_snia_std"], again["bnn_snia_std"])
    part = bnn.process(batch.slice(11, 9))
    np.testing.assert_allclose(part["bnn_snia_mean"], first["bnn_snia_mean"][11:20], atol=1e-6)
    np.testing.assert_allclose(part["bnn_snia_std"], first["bnn_snia_std"][11:20], atol=1e-6)
    other = BnnModule()
    other.load({"seed": 5})
    assert not np.array_equal(other.process(batch)["bnn_snia_std"], first["bnn_snia_std"])


def test_batched_passes_equal_passes_run_one_by_one(bnn, held_out):
    steps, lengths = encode(held_out.slice(0, 30))
    x, n = torch.from_numpy(steps), torch.from_numpy(lengths)
    model = bnn.network
    with torch.inference_mode():
        mean, std = mc_predict(model, x, n, passes=6, seed=3)
        masks = model.sample_masks((6,), torch.Generator().manual_seed(3))
        one_by_one = torch.stack([
            torch.sigmoid(model.logits(x, n, tuple(m[k:k + 1] for m in masks))) for k in range(6)
        ]).numpy()
    np.testing.assert_allclose(mean.numpy(), one_by_one.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(std.numpy(), one_by_one.std(axis=0), atol=1e-6)


def test_held_out_real_objects_auc_and_spread(bnn, shared_data):
    """Test objects of the standard split: AUC >= 0.90 whole; the spread is larger on short curves."""
    from fink_like.science.evaluate import is_positive
    from fink_like.science.labelled import build_alerts, read_labelled
    from fink_like.science.training import split_objects, subset

    lset = read_labelled(shared_data / "labelled")
    split = split_objects(lset.objects)
    alerts = build_alerts(subset(lset, split.index[split == "test"]), (10.0, "all"))
    out = bnn.process(alerts.table.select(list(bnn.inputs)))
    truth = is_positive(alerts.meta["class"], ["SN Ia"])
    whole = (alerts.meta["age"] == "all").to_numpy()
    assert roc_auc_score(truth[whole], out["bnn_snia_mean"][whole]) >= 0.90
    n = alerts.table["ndethist"].to_numpy()
    assert out["bnn_snia_std"][n <= 5].mean() > 1.5 * out["bnn_snia_std"][n > 10].mean()


def test_single_detection_empty_batch_and_one_pass(bnn):
    one = pa.table({"lc_mjd": [[60000.0]], "lc_band": [["r"]], "lc_flux": [[1e4]], "lc_fluxerr": [[1e2]]})
    out = bnn.process(one)
    assert 0 <= out["bnn_snia_mean"][0] <= 1 and out["bnn_snia_std"][0] >= 0
    empty = bnn.process(one.slice(0, 0))
    assert len(empty["bnn_snia_mean"]) == len(empty["bnn_snia_std"]) == 0
    single = BnnModule()
    single.load({"passes": 1})
    assert single.process(one)["bnn_snia_std"].tolist() == [0.0]


@pytest.mark.parametrize("params, match", [
    ({"passes": 0}, "science module 'bnn': parameter 'passes': Input should be greater than or equal to 1"),
    ({"threads": "all"}, "parameter 'threads': Input should be a valid integer"),
    ({"pases": 8}, "science module 'bnn': unknown parameter 'pases'; known: passes, seed"),
    ({"artifact": "/nonexistent/w.pt"}, "cannot load model artifact /nonexistent/w.pt"),
])
def test_bad_params_are_plugin_errors(params, match):
    with pytest.raises(PluginError, match=match):
        BnnModule().load(params)


def test_real_alerts_of_both_surveys(bnn, shared_data):
    from fink_like.surveys import read_alert_files

    alerts = read_alert_files([shared_data / f for f in ALERT_FOLDERS])
    out = bnn.process(alerts.select(list(bnn.inputs)))
    assert len(out["bnn_snia_mean"]) == alerts.num_rows == 922
    assert np.isfinite(out["bnn_snia_mean"]).all() and np.isfinite(out["bnn_snia_std"]).all()
    assert (out["bnn_snia_mean"] >= 0).all() and (out["bnn_snia_mean"] <= 1).all()
    assert (out["bnn_snia_std"] >= 0).all()
