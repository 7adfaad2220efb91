"""Train the MC-dropout GRU on simulated ZTF and Rubin light curves; write weights and metrics.

The target is "SN Ia" against every other simulated class. Seeds fix the simulation
(``seed``), the weights and the mini-batch order (``torch.manual_seed``, numpy). CPU
only: a few minutes on two cores.

Usage::

    python -m fink_like_bnn.train [--n-ia 4000] [--epochs 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from fink_like_bnn.module import ARTIFACT
from fink_like_bnn.sequences import encode

POSITIVE = "SN Ia"
SURVEYS = ("ztf", "lsst")


def class_counts(n_ia: int) -> dict[str, int]:
    """Half the curves are SN Ia; other supernovae are the next most common; then the rest."""
    from fink_like.science.lcsim import CLASSES

    others = [c for c in CLASSES if c != POSITIVE]
    sne = [c for c in others if c.startswith("SN")]
    rest = [c for c in others if c not in sne]
    counts = {POSITIVE: n_ia}
    counts.update({c: max(n_ia // (2 * len(sne)), 1) for c in sne})
    counts.update({c: max(n_ia // (2 * len(rest)), 1) for c in rest})
    return counts


def build_dataset(n_ia: int, seed: int, surveys=SURVEYS):
    """Padded steps, lengths, 0/1 target and class names, both cadences together."""
    from fink_like.science.lcsim import simulate

    steps, lengths, labels = [], [], []
    for k, survey in enumerate(surveys):
        table = simulate(class_counts(n_ia), survey=survey, seed=seed * 100 + k)
        s, n = encode(table)
        keep = n > 0
        steps.append(s[keep])
        lengths.append(n[keep])
        labels.append(np.asarray(table.column("label").to_pylist())[keep])
    width = max(s.shape[1] for s in steps)
    steps = np.concatenate([np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0))) for s in steps])
    labels = np.concatenate(labels)
    return steps, np.concatenate(lengths), (labels == POSITIVE).astype(np.float32), labels


def fit(steps, lengths, y, epochs: int, seed: int, batch_size: int = 256, lr: float = 3e-3):
    """Train a fresh :class:`BayesianGRU` with per-sequence dropout masks; returns it in eval mode."""
    import torch

    from fink_like_bnn.net import BayesianGRU

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = BayesianGRU()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    X, L, Y = torch.from_numpy(steps), torch.from_numpy(lengths), torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(len(Y)), max(len(Y) // batch_size, 1)):
            idx = torch.from_numpy(idx)
            width = int(L[idx].max())
            masks = model.sample_masks((len(idx),))
            loss = loss_fn(model.logits(X[idx, :width], L[idx], masks), Y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


def score(model, steps, lengths, y, labels, passes: int = 16, seed: int = 0) -> dict:
    """Accuracy, ROC AUC, expected calibration error and the spread of right and wrong answers."""
    import torch
    from sklearn.metrics import accuracy_score, roc_auc_score

    from fink_like_bnn.net import mc_predict

    with torch.inference_mode():
        mean, std = mc_predict(model, torch.from_numpy(steps), torch.from_numpy(lengths), passes, seed)
    mean, std = mean.numpy().astype(float), std.numpy().astype(float)
    right = (mean >= 0.5) == (y == 1)
    return {
        "n": int(len(y)),
        "accuracy": round(float(accuracy_score(y, mean >= 0.5)), 4),
        "roc_auc": round(float(roc_auc_score(y, mean)), 4),
        "ece_10_bins": round(expected_calibration_error(mean, y), 4),
        "mean_std_right": round(float(std[right].mean()), 4),
        "mean_std_wrong": round(float(std[~right].mean()), 4) if (~right).any() else None,
        "mean_prob_by_class": {c: round(float(mean[labels == c].mean()), 4) for c in sorted(set(labels))},
    }


def expected_calibration_error(prob: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean |observed frequency - mean predicted probability| over equal-width bins, by count."""
    which = np.minimum((prob * bins).astype(int), bins - 1)
    n = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, weights=y, minlength=bins) - np.bincount(which, weights=prob, minlength=bins))
    return float(gap.sum() / max(n.sum(), 1))


def train(n_ia: int, epochs: int, seed: int, out: Path) -> dict:
    """Simulate, fit, evaluate on an independent simulation, write the artifact and metrics."""
    import torch

    start = time.perf_counter()
    steps, lengths, y, labels = build_dataset(n_ia, seed)
    model = fit(steps, lengths, y, epochs, seed)
    held = build_dataset(max(n_ia // 3, 50), seed + 1)
    metrics = {
        "seed": seed, "n_ia": n_ia, "epochs": epochs, "surveys": list(SURVEYS), "n_train": int(len(y)),
        "held_out": score(model, *held), "train_seconds": round(time.perf_counter() - start, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.config(), "state_dict": model.state_dict()}, out)
    out.with_name("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fink_like_bnn.train", description=__doc__.split("\n")[0])
    parser.add_argument("--n-ia", type=int, default=4000, help="simulated SN Ia per survey")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=0, help="seed of simulation, weights and batch order")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out", type=Path, default=ARTIFACT, help="where to write the weights")
    args = parser.parse_args(argv)
    if args.n_ia < 10 or args.epochs < 1:
        parser.error("--n-ia must be >= 10 and --epochs >= 1")
    import torch

    torch.set_num_threads(args.threads)
    print(json.dumps(train(args.n_ia, args.epochs, args.seed, args.out), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
