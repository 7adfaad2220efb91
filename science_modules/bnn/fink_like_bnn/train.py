"""Train the MC-dropout GRU on real ZTF light curves (and simulated Rubin ones); calibrate; write weights.

The target is SN Ia against everything else. ZTF: the labelled real objects, split by
object (``fink_like.science.training``: train / validation / test, stratified by source
and class, fixed seed), alerts at many ages, weighted against the source/class confound,
with every training light curve shown at a random brightness (x 10^(-0.4 U(-1.5, 1.5)):
the brightness input must not tell the surveys apart). Rubin: simulated light curves
(:mod:`fink_like.science.lcsim`), as no labelled Rubin data exist. A temperature fitted on
the validation objects' Monte-Carlo mean is folded into the last layer. CPU only, seeded.

Usage::

    python -m fink_like_bnn.train [--labels ../shared/data/labelled] [--epochs 6] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.science.evaluate import ece, is_positive, roc_auc
from fink_like.science.labelled import build_alerts, read_labelled
from fink_like.science.training import confound_weights, split_objects, subset, training_alerts
from fink_like_bnn.module import ARTIFACT
from fink_like_bnn.sequences import encode

LABELS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "labelled"
POSITIVE = ("SN Ia",)
N_RUBIN_IA = 1000
PASSES = 16
VAL_AGES = (5.0, 10.0, 20.0, 40.0, "all")
TEST_AGES = (10.0, 20.0, 40.0, "all")


def rubin_counts(n_ia: int) -> dict[str, int]:
    """Half SN Ia; other supernovae, then the other simulated classes, share the other half."""
    from fink_like.science.lcsim import CLASSES

    others = [c for c in CLASSES if c != "SN Ia"]
    sne = [c for c in others if c.startswith("SN")]
    rest = [c for c in others if c not in sne]
    return {"SN Ia": n_ia} | {c: max(n_ia // (2 * len(sne)), 1) for c in sne} | {
        c: max(n_ia // (2 * len(rest)), 1) for c in rest}


def rescaled(table: pa.Table, factor: np.ndarray) -> pa.Table:
    """``table`` with each row's lc_flux and lc_fluxerr multiplied by ``factor[row]``."""
    for name in ("lc_flux", "lc_fluxerr"):
        col = table.column(name).combine_chunks()
        scale = np.repeat(factor, pc.list_value_length(col).fill_null(0).to_numpy())
        values = pc.multiply(pc.list_flatten(col), pa.array(scale))
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pa.ListArray.from_arrays(col.offsets, values))
    return table


def padded(parts):
    """Concatenate (steps, lengths) parts of different widths."""
    width = max(s.shape[1] for s, _ in parts)
    return (np.concatenate([np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0))) for s, _ in parts]),
            np.concatenate([n for _, n in parts]))


def build_training(lset, split, seed: int, n_rubin_ia: int = N_RUBIN_IA):
    """Steps, lengths, target and weights: real ZTF (as measured and rescaled) + simulated Rubin."""
    from fink_like.science.lcsim import simulate

    alerts = training_alerts(subset(lset, split.index[split == "train"]))
    y = is_positive(alerts.meta["class"], POSITIVE).astype(np.float32)
    w = confound_weights(y, alerts.meta["object_id"], alerts.meta["source"]).astype(np.float32)
    rng = np.random.default_rng(seed)
    dim = 10.0 ** (-0.4 * rng.uniform(-1.5, 1.5, alerts.table.num_rows))
    rubin = simulate(rubin_counts(n_rubin_ia), survey="lsst", seed=seed + 11)
    y_r = np.array([lab == "SN Ia" for lab in rubin.column("label").to_pylist()], np.float32)
    w_r = np.full(len(y_r), 0.5 * w.mean(), np.float32)
    steps, lengths = padded([encode(rescaled(alerts.table, dim)), encode(rubin)])
    y_all, w_all = np.concatenate([y, y_r]), np.concatenate([w, w_r])
    keep = lengths > 0
    return steps[keep], lengths[keep], y_all[keep], w_all[keep]


def fit(steps, lengths, y, epochs: int, seed: int, weight=None, batch_size: int = 256, lr: float = 3e-3):
    """Train a fresh :class:`BayesianGRU` with per-sequence dropout masks; returns it in eval mode.

    ``weight``: per-sequence loss weights (default all 1)."""
    import torch

    from fink_like_bnn.net import BayesianGRU

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = BayesianGRU()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    X, L, Y = torch.from_numpy(steps), torch.from_numpy(lengths), torch.from_numpy(y)
    W = torch.from_numpy(np.ones(len(y), np.float32) if weight is None else np.asarray(weight, np.float32))
    model.train()
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(len(Y)), max(len(Y) // batch_size, 1)):
            idx = torch.from_numpy(idx)
            width = int(L[idx].max())
            masks = model.sample_masks((len(idx),))
            loss = (loss_fn(model.logits(X[idx, :width], L[idx], masks), Y[idx]) * W[idx]).sum() / W[idx].sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


def mc_passes(model, table: pa.Table, passes: int = PASSES, seed: int = 0) -> np.ndarray:
    """Logits of every Monte-Carlo pass, shape ``(passes, rows)`` (the module's masks and seed)."""
    import torch

    steps, lengths = encode(table)
    lengths = np.maximum(lengths, 1)
    generator = torch.Generator().manual_seed(seed)
    masks = model.sample_masks((passes,), generator)
    n = steps.shape[0]
    x, lens = torch.from_numpy(steps).repeat(passes, 1, 1), torch.from_numpy(lengths).repeat(passes)
    with torch.inference_mode():
        logits = model.logits(x, lens, tuple(m.repeat_interleave(n, dim=0) for m in masks))
    return logits.view(passes, n).double().numpy()


def fit_temperature_mc(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature T minimising the log-loss of the MC mean of ``sigmoid(logits / T)``."""
    from scipy.optimize import minimize_scalar

    def loss(log_t):
        p = np.clip((1.0 / (1.0 + np.exp(-logits / np.exp(log_t)))).mean(axis=0), 1e-6, 1 - 1e-6)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return float(np.exp(minimize_scalar(loss, bounds=(-2.0, 3.0), method="bounded").x))


def fold_temperature(model, temperature: float) -> None:
    """Divide the last layer by ``temperature``: logits / T with no change to the network's code."""
    import torch

    with torch.no_grad():
        model.fc2.weight /= temperature
        model.fc2.bias /= temperature


def held_out(model, lset, split, ages=TEST_AGES) -> dict:
    """Per age on the test objects: AUC, ECE, and the MC spread by number of detections."""
    test = build_alerts(subset(lset, split.index[split == "test"]), ages)
    p_all = 1.0 / (1.0 + np.exp(-mc_passes(model, test.table)))
    mean, std = p_all.mean(axis=0), p_all.std(axis=0)
    if getattr(model, "calibration", None):
        from fink_like.science.training import Isotonic

        mean = Isotonic.from_dict(model.calibration)(mean)
    y = is_positive(test.meta["class"], POSITIVE)
    n_det = np.asarray(test.table["ndethist"])
    out = {}
    for age in map(str, ages):
        s = (test.meta["age"].astype(str) == age).to_numpy()
        yse = s & (test.meta["source"] == "yse_dr1_ztf_ps1").to_numpy()
        out[age] = {"n": int(s.sum()), "auc": roc_auc(y[s], mean[s]), "ece": ece(y[s], mean[s]),
                    "auc_yse": roc_auc(y[yse], mean[yse]), "n_yse": int(yse.sum())}
    bins = [(1, 2), (3, 5), (6, 10), (11, 20), (21, 10**6)]
    out["std_by_detections"] = {f"{lo}-{hi if hi < 10**6 else 'more'}": {
        "n": int(((n_det >= lo) & (n_det <= hi)).sum()),
        "mean_std": float(std[(n_det >= lo) & (n_det <= hi)].mean())} for lo, hi in bins
        if ((n_det >= lo) & (n_det <= hi)).any()}
    return out


def train(labels: Path, epochs: int, seed: int, out: Path) -> dict:
    """Fit on the training objects, fold the validation temperature, write weights and test metrics."""
    import torch

    start = time.perf_counter()
    lset = read_labelled(labels)
    split = split_objects(lset.objects)
    steps, lengths, y, w = build_training(lset, split, seed)
    model = fit(steps, lengths, y, epochs, seed, weight=w)
    val = build_alerts(subset(lset, split.index[split == "val"]), VAL_AGES)
    temperature = fit_temperature_mc(mc_passes(model, val.table), is_positive(val.meta["class"], POSITIVE))
    fold_temperature(model, temperature)
    metrics = {"seed": seed, "epochs": epochs, "labels": str(labels), "n_train_sequences": int(len(y)),
               "temperature": temperature, "train_seconds": round(time.perf_counter() - start, 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.config(), "state_dict": model.state_dict()}, out)
    return calibrate(labels, out, metrics)


def calibrate(labels: Path, out: Path, metrics: dict | None = None) -> dict:
    """Fit the isotonic map of the MC mean on the validation objects; store it; test metrics.

    The temperature already evens out the scale; the isotonic map fixes what one
    temperature cannot (young alerts over-confident, old ones under-confident).
    """
    import torch

    from fink_like.science.training import Isotonic
    from fink_like_bnn.module import load_model

    lset = read_labelled(labels)
    split = split_objects(lset.objects)
    model = load_model(out)
    model.calibration = None
    val = build_alerts(subset(lset, split.index[split == "val"]), VAL_AGES)
    mean = (1.0 / (1.0 + np.exp(-mc_passes(model, val.table)))).mean(axis=0)
    calibration = Isotonic.fit(mean, is_positive(val.meta["class"], POSITIVE))
    torch.save({"config": model.config(), "state_dict": model.state_dict(), "calibration": calibration.to_dict()}, out)
    model.calibration = calibration.to_dict()
    metrics = dict(metrics or json.loads(out.with_name("metrics.json").read_text()))
    metrics["calibration"] = "temperature + isotonic on the validation objects' MC mean"
    metrics["held_out_test"] = held_out(model, lset, split)
    out.with_name("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fink_like_bnn.train", description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=LABELS, help="labelled folder")
    parser.add_argument("--epochs", type=int, default=6, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights, batch order and augmentation")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--out", type=Path, default=ARTIFACT, help="where to write the weights")
    parser.add_argument("--calibrate-only", action="store_true",
                        help="keep the weights of --out, refit only the isotonic calibration and the test metrics")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")
    import torch

    torch.set_num_threads(args.threads)
    if args.calibrate_only:
        print(json.dumps(calibrate(args.labels, args.out), indent=2))
        return 0
    print(json.dumps(train(args.labels, args.epochs, args.seed, args.out), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
