"""Shared pieces for training modules on labelled real objects: split, augment, calibrate.

* :func:`split_objects`: train / validation / test by *object*, stratified by source and
  class, fixed seed. The validation split is never trained on (it calibrates); the test
  split only ever gives the held-out figures.
* :func:`training_alerts`: alerts of each object at many ages, with the whole history
  and with ZTF's 30 days, so a model sees what the stream sends at every phase.
* :class:`Isotonic` and :func:`fit_temperature`: calibration on the validation split,
  stored as plain arrays (no scikit-learn object needed to apply them).

Examples
--------
>>> import numpy as np
>>> cal = Isotonic.fit(np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 0, 1, 1]))
>>> cal(np.array([0.2, 0.8])).tolist()
[0.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fink_like.science.labelled import AlertSet, LabelledSet, build_alerts

SPLIT_SEED = 20261201
FRACTIONS = (0.6, 0.2, 0.2)
TRAIN_AGES = (2, 4, 6, 9, 12, 16, 20, 25, 30, 40, 60, 90, "all")
"""Ages (days after the first detection) of the training alerts of every object."""


def split_objects(objects: pd.DataFrame, seed: int = SPLIT_SEED, fractions=FRACTIONS) -> pd.Series:
    """``object_id -> "train" | "val" | "test"``, stratified by (source, class).

    One split for every module, so the objects held out from one are held out from all.
    A stratum too small to give a test object goes to training.
    """
    rng = np.random.default_rng(seed)
    strata = objects["source"].astype(str) + "|" + objects["class"].astype(str)
    out = pd.Series("train", index=objects["object_id"].to_numpy(), dtype=object)
    for _, rows in objects.groupby(strata, sort=True):
        ids = rows["object_id"].to_numpy()[rng.permutation(len(rows))]
        n_test = int(round(fractions[2] * len(ids)))
        n_val = int(round(fractions[1] * len(ids)))
        out[ids[:n_test]] = "test"
        out[ids[n_test:n_test + n_val]] = "val"
    return out


def subset(lset: LabelledSet, ids) -> LabelledSet:
    """The objects ``ids`` of ``lset`` (and their points)."""
    ids = set(ids)
    return LabelledSet(lset.objects[lset.objects["object_id"].isin(ids)].reset_index(drop=True),
                       lset.points[lset.points["object_id"].isin(ids)])


def training_alerts(lset: LabelledSet, ages=TRAIN_AGES, history_days: float | None = 30.0) -> AlertSet:
    """Alerts at every age, with the whole history and (if given) with ``history_days`` only."""
    whole = build_alerts(lset, ages)
    if history_days is None:
        return whole
    import pyarrow as pa

    short = build_alerts(lset, ages, history_days)
    return AlertSet(pa.concat_tables([whole.table, short.table]),
                    pd.concat([whole.meta, short.meta], ignore_index=True))


def balanced_weights(y: np.ndarray, objects: np.ndarray) -> np.ndarray:
    """Each class weighs the same in total, and each object the same within its class."""
    y, objects = np.asarray(y), np.asarray(objects)
    per_object = pd.Series(objects).map(pd.Series(objects).value_counts()).to_numpy(float)
    w = 1.0 / per_object
    for cls in np.unique(y):
        sel = y == cls
        w[sel] *= len(y) / (2.0 * w[sel].sum())
    return w


@dataclass(frozen=True)
class Isotonic:
    """Monotone map of a raw score to a calibrated probability (piecewise linear)."""

    x: np.ndarray
    y: np.ndarray

    @classmethod
    def fit(cls, score: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> "Isotonic":
        from sklearn.isotonic import IsotonicRegression

        reg = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, y, sample_weight=weight)
        return cls(np.asarray(reg.X_thresholds_, float), np.asarray(reg.y_thresholds_, float))

    def __call__(self, score: np.ndarray) -> np.ndarray:
        score = np.asarray(score, float)
        return np.where(np.isfinite(score), np.interp(score, self.x, self.y), np.nan)

    def to_dict(self) -> dict:
        return {"x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_dict(cls, value: dict) -> "Isotonic":
        return cls(np.asarray(value["x"], float), np.asarray(value["y"], float))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature T minimising the log-loss of ``sigmoid(logits / T)`` on a validation set."""
    from scipy.optimize import minimize_scalar

    logits, y = np.asarray(logits, float), np.asarray(y, float)

    def loss(log_t):
        z = logits / np.exp(log_t)
        return float(np.mean(np.logaddexp(0.0, z) - y * z))
    return float(np.exp(minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded").x))


def confound_weights(y: np.ndarray, objects: np.ndarray, sources: np.ndarray,
                     anchor: str = "yse_dr1_ztf_ps1") -> np.ndarray:
    """:func:`balanced_weights`, then the positives of ``anchor`` weigh as much as all others.

    In the labelled set only YSE measured SNe Ia and their confusers the same way; giving
    its positives half the positive weight keeps the model from learning "which survey"
    (every Bright Transient Survey object is an SN Ia) instead of "which class".
    """
    w = balanced_weights(y, objects)
    y, sources = np.asarray(y), np.asarray(sources)
    pos, here = y == 1, sources == anchor
    if (pos & here).any() and (pos & ~here).any():
        total = w[pos].sum()
        w[pos & here] *= 0.5 * total / w[pos & here].sum()
        w[pos & ~here] *= 0.5 * total / w[pos & ~here].sum()
    return w


class Calibrated:
    """A fitted binary classifier whose ``predict_proba`` goes through an :class:`Isotonic` map.

    Picklable and a drop-in for the forest (``classes_``, ``predict_proba``,
    ``set_params``), so a module loads it like the bare model.
    """

    def __init__(self, model, calibration: Isotonic):
        self.model, self.calibration = model, calibration
        self.classes_ = np.array([0, 1])

    def raw(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(X)[:, list(self.model.classes_).index(1)]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.calibration(self.raw(X))
        return np.column_stack([1.0 - p, p])

    def set_params(self, **params):
        self.model.set_params(**params)
        return self

    @property
    def feature_importances_(self):
        return self.model.feature_importances_


def hash_split(ids, fractions=FRACTIONS) -> np.ndarray:
    """train / val / test from a hash of each id: stable whatever else is in the set."""
    import hashlib

    h = np.array([int(hashlib.sha256(str(i).encode()).hexdigest()[:8], 16) % 100 for i in ids])
    cut1, cut2 = 100 * fractions[0], 100 * (fractions[0] + fractions[1])
    return np.where(h < cut1, "train", np.where(h < cut2, "val", "test"))


STREAM_CLASS = "unclassified ZTF alert"
"""Class of a real alert whose object no label table knows: the stream's background
(variable stars, AGN, artefacts; spectroscopically classified transients are a few per cent)."""


def stream_alerts(folder, tables, part: str):
    """Real alerts of ``folder`` in split ``part`` (by object) and their class from the label tables.

    Returns ``(table, classes)``; objects no table knows get :data:`STREAM_CLASS`.
    """
    import pyarrow as pa

    from fink_like.science.label_tables import LabelOracle
    from fink_like.science.samples import read_input

    table = read_input([str(folder)])
    ids = table["object_id"].to_pylist()
    table = table.filter(pa.array(hash_split(ids) == part))
    oracle = LabelOracle.from_paths(tables)
    classes = np.array([oracle.label(o) or STREAM_CLASS for o in table["object_id"].to_pylist()], dtype=object)
    return table, classes
