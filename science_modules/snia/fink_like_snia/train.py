"""Train the shipped SN Ia model (v1): ZTF on real labelled light curves, Rubin on simulations.

Run ``python -m fink_like_snia.train [--labels ../shared/data/labelled]`` (about a minute
on two cores); it rewrites ``models/snia-v1.joblib`` and ``models/metrics-v1.json``.

ZTF: the objects of the labelled folder are split by object (``fink_like.science.training``:
60 % train, 20 % validation, 20 % test, stratified by source and class, fixed seed).
The forest learns from alerts of the training objects at many ages (whole history and
ZTF's 30 days), weighted against the source/class confound
(:func:`~fink_like.science.training.confound_weights`); it is calibrated (isotonic) on
the validation objects; the held-out figures come from the test objects only. Rubin: the
simulator (:mod:`fink_like.science.lcsim`), as no labelled Rubin light curves exist yet.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from fink_like.science.evaluate import evaluate, is_positive
from fink_like.science.labelled import build_alerts, read_labelled
from fink_like.science.training import (Isotonic, confound_weights, split_objects, stream_alerts, subset,
                                        training_alerts)
from fink_like_snia import model

MODELS_DIR = Path(__file__).resolve().parent / "models"
ARTIFACT = MODELS_DIR / "snia-v1.joblib"
METRICS = MODELS_DIR / "metrics-v1.json"
LABELS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "labelled"
STREAM = LABELS.parent / "ztf"
"""Real ZTF alerts: the stream's background, labelled through the label tables where they can be."""
N_TRAIN = 8000
POSITIVE = ("SN Ia",)
VAL_AGES = (5.0, 10.0, 20.0, 40.0, "all")
TEST_AGES = (10.0, 20.0, 40.0, "all")
YSE = "yse_dr1_ztf_ps1"


def real_parts(labels: str | Path = LABELS):
    """The labelled set and its standard split (train / val / test by object)."""
    lset = read_labelled(labels)
    return lset, split_objects(lset.objects)


def stream_part(labels: Path, part: str):
    """Features and 0/1 target of the real ZTF alerts of one split part (by object)."""
    folder = Path(labels).parent / "ztf"
    if not folder.is_dir():
        return np.zeros((0, len(model.USED))), np.zeros(0, int)
    table, classes = stream_alerts(folder, sorted((Path(labels) / "label_tables").glob("*.csv")), part)
    return model.features_of(table), is_positive(classes, POSITIVE)


def train_ztf(lset, split, seed: int = model.TRAIN_SEED, extra=None, labels: Path = LABELS):
    """Forest on the training objects and stream alerts (+ ``extra = (features, y, weight)``), isotonic on validation.

    The real ZTF alerts of the training part (``<labels>/../ztf``) weigh, in total, as much
    as the labelled negatives: what the stream is mostly made of must score low.
    """
    alerts = training_alerts(subset(lset, split.index[split == "train"]))
    x, y = model.features_of(alerts.table), is_positive(alerts.meta["class"], POSITIVE)
    w = confound_weights(y, alerts.meta["object_id"], alerts.meta["source"])
    n_real = len(y)
    xs, ys = stream_part(labels, "train")
    ws = np.full(len(ys), w[y == 0].sum() / max(len(ys), 1))
    x, y, w = np.vstack([x, xs]), np.concatenate([y, ys]), np.concatenate([w, ws])
    if extra is not None:
        x, y, w = np.vstack([x, extra[0]]), np.concatenate([y, extra[1]]), np.concatenate([w, extra[2]])
    forest = model.fit_forest(x, y, w, seed=seed)
    val = build_alerts(subset(lset, split.index[split == "val"]), VAL_AGES)
    xv, yv = stream_part(labels, "val")
    raw = forest.predict_proba(np.vstack([model.features_of(val.table), xv]))[:, list(forest.classes_).index(1)]
    calibration = Isotonic.fit(raw, np.concatenate([is_positive(val.meta["class"], POSITIVE), yv]))
    info = {"labelled_objects": int((split == "train").sum()), "training_alerts": n_real,
            "stream_alerts": int(len(ys)), "stream_positives": int(ys.sum()),
            "calibration_objects": int((split == "val").sum()), "seed": seed,
            "extra_labelled": 0 if extra is None else int(len(extra[1]))}
    return forest, calibration, info


def train_rubin(n_train: int = N_TRAIN, seed: int = model.TRAIN_SEED + 1):
    table = model.simulated_set("lsst", n_train, seed)
    forest = model.fit_forest(model.features_of(table), model.labels_of(table), seed=seed)
    return forest, {"simulated": n_train, "seed": seed}


def train(labels: str | Path = LABELS, n_train: int = N_TRAIN, extra=None) -> dict:
    """The full artifact; ``extra`` adds labelled real ZTF alerts (active learning)."""
    lset, split = real_parts(labels)
    ztf, calibration, ztf_info = train_ztf(lset, split, extra=extra, labels=Path(labels))
    rubin, rubin_info = train_rubin(n_train)
    return model.build_artifact({"ztf": ztf, "lsst": rubin}, {"ztf": ztf_info, "lsst": rubin_info},
                                {"ztf": calibration})


def held_out_metrics(artifact: dict, labels: str | Path = LABELS, ages=TEST_AGES) -> dict:
    """Per age, on the test objects only: all of them, and YSE alone (one photometry for all classes)."""
    lset, split = real_parts(labels)
    test = subset(lset, split.index[split == "test"])
    out = {}
    for name, part in (("test", test), ("test_yse", subset(test, test.objects.loc[test.objects["source"] == YSE,
                                                                                    "object_id"]))):
        result = evaluate(lambda t: model.predict(artifact, t), build_alerts(part, ages), POSITIVE)
        out[name] = {age: {k: m[k] for k in ("n", "n_positive", "auc", "ece")} | {
            "purity_0.5": m["thresholds"][0]["purity"], "completeness_0.5": m["thresholds"][0]["completeness"]}
            for age, m in result["ages"].items()}
    xs, ys = stream_part(labels, "test")
    if len(ys):
        p = Isotonic.from_dict(artifact["calibration"]["ztf"])(model.raw_scores(artifact, xs, "ztf"))
        out["test_stream"] = {"alerts": int(len(ys)), "sn_ia": int(ys.sum()),
                              "above": {str(t): float((p >= t).mean()) for t in (0.5, 0.65, 0.85)}}
    return out


def test_metrics(artifact: dict, labels: str | Path = LABELS, ages=(20.0, "all")) -> dict:
    """Accuracy and AUC on the test objects per age (``{"ztf 20 d": {...}, "ztf all": {...}}``)."""
    lset, split = real_parts(labels)
    alerts = build_alerts(subset(lset, split.index[split == "test"]), ages)
    p, y = model.predict(artifact, alerts.table), is_positive(alerts.meta["class"], POSITIVE)
    age = alerts.meta["age"].astype(str).to_numpy()
    return {f"ztf {a}" + (" d" if a != "all" else ""): model.metrics(y[age == str(a)], p[age == str(a)])
            for a in ages}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS, help="labelled folder (objects.csv + lightcurves.parquet)")
    parser.add_argument("--n-train", type=int, default=N_TRAIN, help="simulated Rubin alerts")
    parser.add_argument("--output", type=Path, default=ARTIFACT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    artifact = train(args.labels, args.n_train)
    metrics = {"version": "v1", "labels": str(args.labels), "held_out": held_out_metrics(artifact, args.labels),
               "trained_on": artifact["trained_on"]}
    model.save_artifact(artifact, args.output)
    metrics_path = args.output.with_name(args.output.name.replace("snia-", "metrics-").replace(".joblib", ".json"))
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
