"""Train the shipped SN Ia model (v1) on simulated ZTF and Rubin light curves.

Run ``python -m fink_like_snia.train`` (about a minute on two cores); it rewrites
``models/snia-v1.joblib`` and ``models/metrics-v1.json``. Seeds are fixed, so the
result is reproducible for given library versions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from fink_like_snia import model

MODELS_DIR = Path(__file__).resolve().parent / "models"
ARTIFACT = MODELS_DIR / "snia-v1.joblib"
METRICS = MODELS_DIR / "metrics-v1.json"
N_TRAIN, N_TEST = 8000, 3000


def train(n_train: int = N_TRAIN, seed: int = model.TRAIN_SEED, extra=None) -> dict:
    """An artifact with one forest per survey on ``n_train`` simulated alerts each.

    ``extra`` maps a survey to ``(features, y, weight)`` appended to its training set
    (labelled real alerts, for active learning).
    """
    import numpy as np

    from fink_like_snia.features import extract

    forests, trained_on = {}, {}
    for i, survey in enumerate(model.SURVEYS):
        table = model.simulated_set(survey, n_train, seed + i)
        x, y = extract(table), model.labels_of(table)
        w = np.ones(len(y))
        n_real = 0
        if extra and survey in extra:
            ex, ey, ew = extra[survey]
            x, y, w = np.vstack([x, ex]), np.concatenate([y, ey]), np.concatenate([w, ew])
            n_real = len(ey)
        forests[survey] = model.fit_forest(x, y, w, seed=seed + i)
        trained_on[survey] = {"simulated": n_train, "seed": seed + i, "labelled_real": n_real}
    return model.build_artifact(forests, trained_on)


def held_out_metrics(artifact: dict, n_test: int = N_TEST, seed: int = model.TEST_SEED) -> dict:
    """Accuracy and ROC AUC per survey on a simulated set drawn with another seed."""
    out = {}
    for i, survey in enumerate(model.SURVEYS):
        table = model.simulated_set(survey, n_test, seed + i)
        out[survey] = model.metrics(model.labels_of(table), model.predict(artifact, table))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=N_TRAIN, help="simulated alerts per survey")
    parser.add_argument("--n-test", type=int, default=N_TEST, help="held-out alerts per survey")
    parser.add_argument("--output", type=Path, default=ARTIFACT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    artifact = train(args.n_train)
    metrics = {"version": "v1", "held_out": held_out_metrics(artifact, args.n_test),
               "trained_on": artifact["trained_on"], "n_test": args.n_test}
    model.save_artifact(artifact, args.output)
    metrics_path = args.output.with_name(args.output.name.replace("snia-", "metrics-").replace(".joblib", ".json"))
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
