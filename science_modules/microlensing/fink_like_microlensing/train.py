"""Train the microlensing random forest on simulated light curves and write the artifact.

Microlensing events are the positives; the negatives are the look-alikes a survey
sees: pulsators, eclipsing binaries, cataclysmic variables, AGN and constant sources.
Both cadences (ZTF and Rubin) are mixed. Every random draw is seeded.

Usage::

    python -m fink_like_microlensing.train [--n-per-class 1500] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from fink_like_microlensing.features import FEATURES, extract_with_counts
from fink_like_microlensing.module import ARTIFACT, DEFAULT_MIN_POINTS

POSITIVE = "microlensing"
NEGATIVES = ("RR Lyrae", "Cepheid", "eclipsing binary", "CV", "AGN", "constant")
SURVEYS = ("ztf", "lsst")
METRICS = ARTIFACT.with_name("metrics.json")


def build_dataset(n_per_class: int, seed: int, surveys=SURVEYS, min_points: int = DEFAULT_MIN_POINTS):
    """Simulated feature matrix, binary target and class names of both cadences.

    Curves with fewer than ``min_points`` detections, or without a band of
    ``features.MIN_BAND_POINTS``, are dropped: the module does not score them.

    Returns
    -------
    X : ndarray ``(n, len(FEATURES))``
    y : ndarray of 0/1 (1 = microlensing)
    labels : ndarray of class names
    """
    from fink_like.science.lcsim import simulate

    counts = {name: n_per_class for name in (POSITIVE, *NEGATIVES)}
    parts = []
    for k, survey in enumerate(surveys):
        table = simulate(counts, survey=survey, seed=seed * 100 + k)
        X, n = extract_with_counts(table)
        labels = np.asarray(table.column("label").to_pylist())
        keep = (n >= min_points) & (X[:, FEATURES.index("n_valid_bands")] > 0)
        parts.append((X[keep], labels[keep]))
    X = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return X, (labels == POSITIVE).astype(np.int64), labels


def make_forest(seed: int):
    """The classifier: small and deterministic.

    Classes keep their simulated proportions (one positive class in seven), so an
    ambiguous curve scores near that prior rather than near 0.5.
    """
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=120, max_depth=14, min_samples_leaf=3,
        random_state=seed, n_jobs=1,
    )


def score(model, X: np.ndarray, y: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy at 0.5, ROC AUC and the mean score of each simulated class."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    prob = model.predict_proba(X)[:, list(model.classes_).index(1)]
    per_class = {name: round(float(prob[labels == name].mean()), 4) for name in sorted(set(labels))}
    return {
        "n": int(len(y)),
        "accuracy": round(float(accuracy_score(y, prob >= 0.5)), 4),
        "roc_auc": round(float(roc_auc_score(y, prob)), 4),
        "mean_prob_by_class": per_class,
    }


def train(n_per_class: int, seed: int, out: Path) -> dict:
    """Fit on seed ``seed``, evaluate on an independent simulation, write model and metrics."""
    import joblib

    X, y, labels = build_dataset(n_per_class, seed)
    model = make_forest(seed).fit(X, y)
    Xt, yt, lt = build_dataset(max(n_per_class // 3, 50), seed + 1)
    metrics = {
        "seed": seed, "n_per_class": n_per_class, "surveys": list(SURVEYS),
        "classes": [POSITIVE, *NEGATIVES], "train": score(model, X, y, labels),
        "held_out": score(model, Xt, yt, lt),
        "feature_importance": dict(zip(FEATURES, np.round(model.feature_importances_, 4).tolist())),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"model": model, "features": FEATURES, "metrics": metrics}, out, compress=3)
    out.with_name("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fink_like_microlensing.train", description=__doc__.split("\n")[0])
    parser.add_argument("--n-per-class", type=int, default=1500, help="simulated curves per class and survey")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulation and the forest")
    parser.add_argument("--out", type=Path, default=ARTIFACT, help="where to write the joblib bundle")
    args = parser.parse_args(argv)
    if args.n_per_class < 10:
        parser.error("--n-per-class must be at least 10")
    metrics = train(args.n_per_class, args.seed, args.out)
    print(json.dumps({"train": metrics["train"], "held_out": metrics["held_out"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
