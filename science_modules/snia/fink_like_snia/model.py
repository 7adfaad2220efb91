"""The SN Ia classifier: one random forest per survey, calibrated, and its metrics.

The artifact is a joblib file holding ``{"format", "features", "models": {survey: rf},
"calibration": {survey: {"x", "y"}}, "trained_on"}``. ZTF and Rubin get separate forests
because their cadences and depths differ; an alert from another survey scores NaN. The
ZTF forest is trained on real labelled light curves and calibrated (isotonic) on a
validation split; the Rubin forest on simulated ones (no labelled Rubin data exists yet).

The forests read :data:`USED`: every feature of :mod:`fink_like_snia.features` except the
peak magnitudes. Absolute brightness tells the *sources* of the labelled set apart (the
Bright Transient Survey, all SNe Ia, is brighter than everything else) more than it
tells the classes apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from fink_like.errors import PluginError
from fink_like.science.lcsim import CLASSES, simulate
from fink_like.science.training import Isotonic
from fink_like_snia.features import FEATURES, extract

USED = tuple(f for f in FEATURES if not f.startswith("peak_mag"))
"""Features the forests read, in order."""
_USED_IDX = [FEATURES.index(f) for f in USED]

FORMAT = "fink_like_snia/2"
SURVEYS = ("ztf", "lsst")
HISTORY_DAYS = {"ztf": 30.0, "lsst": None}  # ZTF alerts carry 30 days of history
TRAIN_SEED, TEST_SEED = 20261121, 20261200
FOREST = {"n_estimators": 100, "max_depth": 12, "min_samples_leaf": 4, "max_features": "sqrt"}

TNS_LABELS = (
    "SN Ia-91T-like", "SN Ia-91bg-like", "SN Ia-pec", "SN Ia-CSM", "SN Iax[02cx-like]",
    "SN IIP", "SN IIL", "SN IIn", "SN IIb", "SN Ib", "SN Ic", "SN Ic-BL", "SN Ib/c", "SN",
    "TDE", "Nova", "Varstar", "QSO", "Galaxy", "Other",
)
KNOWN_LABELS = frozenset(CLASSES) | frozenset(TNS_LABELS)
"""Labels accepted from spectroscopy/TNS: the simulator's classes and common TNS types."""


def is_snia(label: str) -> bool:
    """Positive class: "SN Ia" and its TNS subtypes ("SN Ia-91T-like", "SN Iax[02cx-like]", ...)."""
    return label.startswith("SN Ia")


def _survey_key(survey: str) -> str:
    return "lsst" if survey == "rubin" else survey


def simulated_set(survey: str, n: int, seed: int) -> pa.Table:
    """Half SN Ia, half the nine other classes, truncated at random phases."""
    others = [c for c in CLASSES if c != "SN Ia"]
    counts = {"SN Ia": n // 2}
    base, extra = divmod(n - n // 2, len(others))
    counts |= {c: base + (i < extra) for i, c in enumerate(others)}
    key = _survey_key(survey)
    return simulate(counts, survey=key, seed=seed, history_days=HISTORY_DAYS[key])


def labels_of(table: pa.Table) -> np.ndarray:
    return np.array([is_snia(x) for x in table.column("label").to_pylist()], dtype=int)


def fit_forest(features: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, seed: int = 0):
    """A random forest on the features (fixed seed, single-threaded for reproducibility)."""
    from sklearn.ensemble import RandomForestClassifier

    if len(np.unique(y)) < 2:
        raise PluginError("snia: the training set needs both SN Ia and non-SN Ia examples")
    forest = RandomForestClassifier(random_state=seed, n_jobs=1, **FOREST)
    forest.fit(features, y, sample_weight=weight)
    forest.n_jobs = 1
    return forest


def features_of(table: pa.Table) -> np.ndarray:
    """The :data:`USED` feature matrix of a canonical table."""
    return extract(table)[:, _USED_IDX]


def build_artifact(models: dict, trained_on: dict, calibration: dict | None = None) -> dict:
    """``calibration`` maps a survey to an :class:`~fink_like.science.training.Isotonic`."""
    return {"format": FORMAT, "features": list(USED), "models": models, "trained_on": trained_on,
            "calibration": {s: c.to_dict() for s, c in (calibration or {}).items()}}


def raw_scores(artifact: dict, features: np.ndarray, survey: str) -> np.ndarray:
    forest = artifact["models"][survey]
    return forest.predict_proba(features)[:, list(forest.classes_).index(1)]


def predict(artifact: dict, table: pa.Table) -> np.ndarray:
    """P(SN Ia) per row; NaN for surveys the artifact has no forest for."""
    out = np.full(table.num_rows, np.nan)
    if table.num_rows == 0:
        return out
    surveys = np.asarray(table.column("survey").to_pylist(), dtype=object)
    features = features_of(table)
    for survey in artifact["models"]:
        rows = surveys == survey
        if rows.any():
            raw = raw_scores(artifact, features[rows], survey)
            cal = artifact["calibration"].get(survey)
            out[rows] = Isotonic.from_dict(cal)(raw) if cal else raw
    return out


def metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """Accuracy at 0.5 and ROC AUC."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    ok = np.isfinite(p)
    y, p = np.asarray(y)[ok], np.asarray(p)[ok]
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")
    return {"n": int(y.size), "accuracy": float(accuracy_score(y, p >= 0.5)), "roc_auc": auc}


def save_artifact(artifact: dict, path: str | Path) -> Path:
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(artifact, path, compress=3)
    return path


def load_artifact(path: str | Path) -> dict:
    """Read and check an artifact; PluginError naming the file if it is missing or foreign."""
    import joblib

    try:
        artifact = joblib.load(path)
    except FileNotFoundError as exc:
        raise PluginError(f"snia model artifact not found: {path}") from exc
    except Exception as exc:  # unpickling failures have many types
        raise PluginError(f"snia model artifact {path} cannot be read: {exc}") from exc
    if not isinstance(artifact, dict) or artifact.get("format") != FORMAT:
        raise PluginError(f"{path} is not a {FORMAT} artifact")
    if tuple(artifact["features"]) != USED:
        raise PluginError(f"{path} was trained on other features than this version computes")
    return artifact
