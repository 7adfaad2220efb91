"""Train the microlensing forest on real events and real look-alikes; calibrate; write the artifact.

Positives: the OGLE-II events of the labelled folder, turned into what a ZTF-like
difference-imaging survey detects (:func:`fink_like.science.labelled.ogle_to_ztf`), each
resampled :data:`RESAMPLINGS` times (other cadence, colours and noise draws). Negatives:
everything else the stream is full of: the labelled SNe (Ia, II, Ibc, IIn), SLSNe, TDEs
and OGLE variables; the real ZTF alerts of ``../shared/data/ztf`` (variable stars, AGN,
transients; microlensing is ~1e-4 of a real stream, so they are taken as negatives); and
simulated pulsators, eclipsing binaries, CVs and AGN (:mod:`fink_like.science.lcsim`), the
variability classes the labelled set lacks at ZTF depth.

Split by object (``fink_like.science.training.split_objects``; real alerts by a hash of
their ``object_id``): the forest sees the training objects, is calibrated (isotonic) on
the validation objects, where the operating threshold is also chosen (false-positive
rate <= 1 %); figures are from the test objects.

Usage::

    python -m fink_like_microlensing.train [--labels ../shared/data/labelled] [--alerts ../shared/data/ztf]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from fink_like.science.evaluate import is_positive
from fink_like.science.labelled import build_alerts, read_labelled
from fink_like.science.training import (Calibrated, Isotonic, TRAIN_AGES, balanced_weights, split_objects, subset,
                                        training_alerts, hash_split)
from fink_like_microlensing.features import FEATURES, extract_with_counts
from fink_like_microlensing.module import ARTIFACT, DEFAULT_MIN_POINTS

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
POSITIVE = ("microlensing",)
SIM_NEGATIVES = ("RR Lyrae", "Cepheid", "eclipsing binary", "CV", "AGN")
RESAMPLINGS = 10
TARGET_FPR = 0.01
EVAL_AGES = (20.0, 40.0, "all")
METRICS = ARTIFACT.with_name("metrics.json")


def scored(X: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Rows the module scores (enough points and a band with a shape); the rest get 0."""
    return (n >= DEFAULT_MIN_POINTS) & (X[:, FEATURES.index("n_valid_bands")] > 0)


def real_alerts(folder: Path) -> tuple[pa.Table, np.ndarray]:
    """The real ZTF alerts and their split part."""
    from fink_like.surveys import read_alert_files

    table = read_alert_files(folder)
    return table, hash_split(table["object_id"].to_pylist())


def labelled_part(labels: Path, part: str, ages, history_days=None):
    """Alerts of one split part: (table, y, class, object id); OGLE events resampled for training."""
    lset = read_labelled(labels)
    split = split_objects(lset.objects)
    ids = split.index[split == part]
    if part == "train":
        sets = [training_alerts(subset(lset, ids), ages)]
        for seed in range(1, RESAMPLINGS):
            again = read_labelled(labels, seed=seed)
            events = again.objects.loc[is_positive(again.objects["class"], POSITIVE) == 1, "object_id"]
            sets.append(training_alerts(subset(again, set(ids) & set(events)), ages))
    else:
        sets = [build_alerts(subset(lset, ids), ages, history_days)]
    table = pa.concat_tables([s.table for s in sets])
    meta = pd.concat([s.meta for s in sets], ignore_index=True)
    return table, is_positive(meta["class"], POSITIVE), meta["class"].to_numpy(), meta["object_id"].to_numpy()


def simulated(n_per_class: int, seed: int):
    from fink_like.science.lcsim import simulate

    table = simulate({c: n_per_class for c in SIM_NEGATIVES}, survey="ztf", seed=seed, history_days=30.0)
    labels = np.asarray(table.column("label").to_pylist())
    return table, np.zeros(len(labels), int), labels, np.array([f"sim{i}" for i in range(len(labels))])


def dataset(parts) -> tuple:
    """Stack (table, y, class, id) parts into features, keeping the rows the module scores."""
    X, y, cls, ids = [], [], [], []
    for table, yy, cc, ii in parts:
        xx, n = extract_with_counts(table)
        keep = scored(xx, n)
        X.append(xx[keep]), y.append(np.asarray(yy)[keep]), cls.append(np.asarray(cc)[keep]), ids.append(np.asarray(ii)[keep])
    return np.vstack(X), np.concatenate(y), np.concatenate(cls), np.concatenate(ids)


def make_forest(seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=120, max_depth=14, min_samples_leaf=2, max_features="sqrt",
                                  random_state=seed, n_jobs=1)


def eval_part(model, cal, labels, alerts, part: str, threshold: float) -> dict:
    """Recall of real events and false-positive rate per class of real look-alikes, per age."""
    table, alert_part = alerts
    ztf = table.filter(pa.array(alert_part == part))
    x_real, n_real = extract_with_counts(ztf)
    p_real = np.where(scored(x_real, n_real), cal(model.predict_proba(x_real)[:, 1]), 0.0)
    out = {"real_ztf_alerts": {"n": int(ztf.num_rows), "fpr": float((p_real >= threshold).mean())}}
    for age in EVAL_AGES:
        tab, y, cls, _ = labelled_part(labels, part, (age,))
        x, n = extract_with_counts(tab)
        p = np.where(scored(x, n), cal(model.predict_proba(x)[:, 1]), 0.0)
        sel = p >= threshold
        per_class = {c: {"n": int((cls == c).sum()), "fpr": float(sel[cls == c].mean())}
                     for c in sorted(set(cls[y == 0]))}
        neg = np.r_[sel[y == 0], p_real >= threshold]
        from sklearn.metrics import roc_auc_score

        out[str(age)] = {"events": int(y.sum()), "recall": float(sel[y == 1].mean()),
                         "negatives": int(len(neg)), "fpr": float(neg.mean()),
                         "auc": float(roc_auc_score(np.r_[y, np.zeros(len(p_real))], np.r_[p, p_real])),
                         "fpr_per_class": per_class}
    return out


def train(labels: Path, alerts_dir: Path, seed: int = 0, n_sim: int = 300) -> dict:
    import joblib

    alerts = real_alerts(alerts_dir)
    real_train = alerts[0].filter(pa.array(alerts[1] == "train"))
    n = real_train.num_rows
    parts = [labelled_part(labels, "train", TRAIN_AGES),
             (real_train, np.zeros(n, int), np.array(["real ZTF alert"] * n), np.asarray(real_train["object_id"])),
             simulated(n_sim, seed + 7)]
    X, y, cls, ids = dataset(parts)
    model = make_forest(seed).fit(X, y, sample_weight=balanced_weights(y, ids))
    real_val = alerts[0].filter(pa.array(alerts[1] == "val"))
    Xv, yv, _, _ = dataset([labelled_part(labels, "val", EVAL_AGES),
                            (real_val, np.zeros(real_val.num_rows, int), np.array(["real ZTF alert"] * real_val.num_rows),
                             np.asarray(real_val["object_id"]))])
    raw_v = model.predict_proba(Xv)[:, 1]
    cal = Isotonic.fit(raw_v, yv)
    threshold = operating_threshold(cal(raw_v), yv)
    metrics = {"seed": seed, "features": list(FEATURES), "threshold": threshold, "target_fpr": TARGET_FPR,
               "trained_on": {"rows": int(len(y)), "events_rows": int(y.sum()),
                              "classes": pd.Series(cls).value_counts().to_dict()},
               "validation": eval_part(model, cal, labels, alerts, "val", threshold),
               "test": eval_part(model, cal, labels, alerts, "test", threshold)}
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"model": Calibrated(model, cal), "features": FEATURES, "threshold": threshold,
                 "metrics": {k: metrics[k] for k in ("seed", "threshold")}}, ARTIFACT, compress=3)
    METRICS.write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    return metrics


def operating_threshold(p: np.ndarray, y: np.ndarray, target: float = TARGET_FPR) -> float:
    """The lowest threshold whose false-positive rate on (validation) negatives is <= ``target``."""
    neg = np.sort(p[y == 0])[::-1]
    allowed = int(np.floor(target * len(neg)))
    above = neg[allowed] if allowed < len(neg) else 0.0
    return float(min(max(np.nextafter(above, 1.0), 0.05), 1.0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fink_like_microlensing.train", description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=DATA / "labelled")
    parser.add_argument("--alerts", type=Path, default=DATA / "ztf", help="real ZTF alerts (negatives)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    metrics = train(args.labels, args.alerts, args.seed)
    print(json.dumps({k: metrics[k] for k in ("threshold", "validation", "test")}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
