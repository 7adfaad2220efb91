"""The snia module on real alerts, held-out real labelled objects and simulated Rubin alerts."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pytest

from fink_like.errors import ConfigError, PluginError
from fink_like.science.lcsim import simulate
from fink_like.surveys import read_alert_files
from fink_like_snia.module import SHIPPED, SniaModule

FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-9.0", "lsst/alerts-7.4")


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    m = SniaModule()
    m.params = {"model_dir": str(tmp_path_factory.mktemp("models"))}
    m.load(m.params)
    return m


@pytest.fixture(scope="module")
def real_alerts(shared_data):
    return pa.concat_tables([read_alert_files(shared_data / f) for f in FOLDERS])


def test_real_alerts_get_probabilities(module, real_alerts):
    out = module.process(real_alerts.select(list(module.inputs)))
    p = np.asarray(out["snia_prob"])
    assert p.shape == (real_alerts.num_rows,) and p.dtype == np.float64
    assert not np.isnan(p).any()
    assert ((p >= 0) & (p <= 1)).all()
    single = np.array([len(x) == 1 for x in real_alerts["lc_mjd"].to_pylist()])
    assert single.sum() > 50                     # many alerts are first detections
    assert np.isfinite(p[single]).all()


def test_one_alert_alone_scores_as_in_a_batch(module, real_alerts):
    batch = real_alerts.slice(0, 40)
    whole = np.asarray(module.process(batch)["snia_prob"])
    alone = [module.process(batch.slice(i, 1))["snia_prob"][0] for i in (0, 17, 39)]
    assert alone == pytest.approx(whole[[0, 17, 39]])


def _auc(y, p):
    """ROC AUC as the Mann-Whitney probability that a positive outranks a negative."""
    pos, neg = p[y == 1], p[y == 0]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return greater / (pos.size * neg.size)


def test_held_out_real_objects_reach_the_targets(module, shared_data):
    """ZTF: the test objects of the standard split, never trained or calibrated on."""
    from fink_like.science.evaluate import is_positive, roc_auc
    from fink_like.science.labelled import build_alerts, read_labelled
    from fink_like.science.training import split_objects, subset

    lset = read_labelled(shared_data / "labelled")
    split = split_objects(lset.objects)
    alerts = build_alerts(subset(lset, split.index[split == "test"]), (20.0, "all"))
    y = is_positive(alerts.meta["class"], ["SN Ia"])
    p = np.asarray(module.process(alerts.table.select(list(module.inputs)))["snia_prob"])
    whole = (alerts.meta["age"] == "all").to_numpy()
    assert roc_auc(y[whole], p[whole]) >= 0.92
    assert roc_auc(y[~whole], p[~whole]) >= 0.85


@pytest.mark.parametrize("survey, history", [("rubin", None)])
def test_held_out_simulated_auc_well_above_chance(module, survey, history):
    others = {c: 25 for c in ("SN II", "SN Ibc", "microlensing", "RR Lyrae", "Cepheid",
                              "eclipsing binary", "CV", "AGN", "constant")}
    table = simulate({"SN Ia": 200, **others}, survey=survey, seed=777, history_days=history)
    y = np.array([lab == "SN Ia" for lab in table["label"].to_pylist()], dtype=int)
    p = np.asarray(module.process(table)["snia_prob"])
    assert _auc(y, p) > 0.85
    assert ((p >= 0.5) == y).mean() > 0.75


def test_model_hash_is_the_artifact_sha256(module):
    assert module.model_version == "v1"
    artifact = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert module.artifact_hash() == artifact
    # no snia parameter changes scores except through the artifact: nothing else is folded in
    assert module.model_hash == hashlib.sha256((artifact + "{}").encode()).hexdigest()


def test_unknown_survey_scores_nan(module, real_alerts):
    batch = real_alerts.slice(0, 3)
    batch = batch.set_column(batch.schema.get_field_index("survey"), "survey", pa.array(["atlas"] * 3))
    assert np.isnan(module.process(batch)["snia_prob"]).all()


def test_bad_parameters_are_named(tmp_path):
    m = SniaModule()
    with pytest.raises(PluginError, match="science module 'snia': unknown parameter 'modelversion'"):
        m.load({"modelversion": "v2"})
    with pytest.raises(ConfigError, match="v7"):
        m.load({"model_dir": str(tmp_path), "model_version": "v7"})
