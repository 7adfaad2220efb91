"""Evaluate the packaged BNN: simulated hold-out (accuracy, AUC, calibration) and real alerts.

Written to ``data/evaluation.json`` and printed:

1. on a simulation drawn with a seed the model never saw: accuracy, ROC AUC, expected
   calibration error, and the reliability table (mean prediction vs observed SN Ia
   fraction per probability bin);
2. on the real ZTF and Rubin alerts in ``--data``: the distribution of
   ``bnn_snia_mean`` and ``bnn_snia_std`` per survey.

Usage::

    python -m fink_like_bnn.evaluate [--data ../shared/data] [--seed 11]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from fink_like_bnn.module import ARTIFACT, BnnModule

ALERT_FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")


def reliability(prob: np.ndarray, y: np.ndarray, bins: int = 5) -> list[dict]:
    """Per equal-width bin: count, mean predicted P(SN Ia), observed SN Ia fraction."""
    which = np.minimum((prob * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            rows.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "n": int(sel.sum()),
                         "mean_pred": round(float(prob[sel].mean()), 3),
                         "observed": round(float(y[sel].mean()), 3)})
    return rows


def summary(values: np.ndarray) -> dict:
    """Median, 90th percentile and mean of ``values``."""
    if len(values) == 0:
        return {"n": 0}
    return {"n": int(len(values)), "median": round(float(np.median(values)), 4),
            "p90": round(float(np.percentile(values, 90)), 4), "mean": round(float(values.mean()), 4)}


def evaluate(data: Path, seed: int, n_ia: int) -> dict:
    """Run both checks with the packaged weights and return the report."""
    import torch

    from fink_like.surveys import read_alert_files
    from fink_like_bnn.net import mc_predict
    from fink_like_bnn.train import build_dataset, score

    module = BnnModule()
    module.load({})
    steps, lengths, y, labels = build_dataset(n_ia, seed)
    report = {"artifact_sha256": module.model_hash, "held_out": score(module.network, steps, lengths, y, labels)}
    with torch.inference_mode():
        mean, _ = mc_predict(module.network, torch.from_numpy(steps), torch.from_numpy(lengths), 16, 0)
    report["held_out"]["reliability"] = reliability(mean.numpy().astype(float), y)
    alerts = read_alert_files([data / folder for folder in ALERT_FOLDERS])
    out = module.process(alerts.select(list(module.inputs)))
    survey = np.asarray(alerts.column("survey").to_pylist())
    report["real_alerts"] = {
        s: {"snia_mean": summary(out["bnn_snia_mean"][survey == s]),
            "snia_std": summary(out["bnn_snia_std"][survey == s])} for s in sorted(set(survey))
    }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fink_like_bnn.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared real-data folder")
    parser.add_argument("--seed", type=int, default=11, help="seed of the held-out simulation (training uses 0, 1)")
    parser.add_argument("--n-ia", type=int, default=1500, help="held-out SN Ia per survey")
    parser.add_argument("--out", type=Path, default=ARTIFACT.with_name("evaluation.json"), help="report file")
    args = parser.parse_args(argv)
    if not (args.data / "ztf").is_dir():
        parser.error(f"--data {args.data}: no ztf/ alert folder there")
    report = evaluate(args.data, args.seed, args.n_ia)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
