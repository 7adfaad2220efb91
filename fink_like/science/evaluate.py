"""Evaluate a science module's probability on labelled real objects, per age.

:func:`evaluate` scores the canonical alerts of :func:`fink_like.science.labelled.build_alerts`
with any module that declares a ``probability`` output (:class:`~fink_like.science.base.ScienceModule`)
and reports, per age: objects, positives, ROC AUC, the expected calibration error (10
equal-width bins), and at each operating threshold the purity, completeness and
false-positive rate, with the false-positive rate per true class. :func:`plot` draws the
reliability diagram and the ROC curves (PNG).

A row the module leaves undefined (NaN) counts as probability 0: it would not reach a
topic. Their number is reported (``unscored``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule
from fink_like.science.labelled import AlertSet, LabelledDataError

N_BINS = 10


def _norm(name: str) -> str:
    return re.sub(r"[\s\-_]", "", str(name)).lower()


def is_positive(classes: Sequence[str], positive: Sequence[str]) -> np.ndarray:
    """1 where a class starts with one of ``positive`` (without case, spaces, dashes)."""
    prefixes = [_norm(p) for p in positive]
    return np.array([any(_norm(c).startswith(p) for p in prefixes) for c in classes], dtype=int)


def module_scorer(module: ScienceModule) -> Callable[[pa.Table], np.ndarray]:
    """``table -> probability`` of a loaded module; PluginError if it declares none."""
    column = type(module).probability
    if column is None:
        raise PluginError(f"science module {module.name!r} declares no probability output "
                          "(class attribute `probability`), so it cannot be evaluated")

    def score(table: pa.Table) -> np.ndarray:
        out = module.process(table.select(list(type(module).inputs)))
        return np.asarray(pa.array(out[column]).cast(pa.float64()).to_numpy(zero_copy_only=False), float)
    return score


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half); NaN without both classes."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def ece(y: np.ndarray, p: np.ndarray, bins: int = N_BINS) -> float:
    """Expected calibration error: sum over equal-width bins of |mean p - positive rate| weighted."""
    if len(y) == 0:
        return float("nan")
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.sum() / len(y) * abs(p[sel].mean() - y[sel].mean())
    return float(total)


def reliability(y: np.ndarray, p: np.ndarray, bins: int = N_BINS) -> list[dict]:
    """Per bin: mean probability, positive fraction and count."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return [{"bin": b, "mean_p": float(p[idx == b].mean()), "frac_pos": float(y[idx == b].mean()),
             "n": int((idx == b).sum())} for b in range(bins) if (idx == b).any()]


def at_threshold(y: np.ndarray, p: np.ndarray, classes: np.ndarray, threshold: float) -> dict:
    """Purity, completeness, false-positive rate (overall and per true negative class)."""
    sel = p >= threshold
    tp, fp = int((sel & (y == 1)).sum()), int((sel & (y == 0)).sum())
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    per_class = {}
    for cls in sorted(set(classes[y == 0])):
        rows = (classes == cls) & (y == 0)
        per_class[cls] = {"n": int(rows.sum()), "fpr": float(sel[rows].mean())}
    return {"threshold": threshold, "selected": int(sel.sum()),
            "purity": tp / (tp + fp) if tp + fp else float("nan"),
            "completeness": tp / n_pos if n_pos else float("nan"),
            "fpr": fp / n_neg if n_neg else float("nan"), "fpr_per_class": per_class}


def threshold_for_purity(y: np.ndarray, p: np.ndarray, target: float) -> float:
    """The lowest threshold whose purity (on these objects) is at least ``target``; NaN if none."""
    order = np.argsort(-p, kind="stable")
    tp = np.cumsum(y[order] == 1)
    purity = tp / np.arange(1, len(y) + 1)
    # only cut between distinct values: a threshold selects every row at or above it
    distinct = np.r_[p[order][1:] < p[order][:-1], True] if len(p) else np.zeros(0, bool)
    ok = np.flatnonzero((purity >= target) & distinct & (tp > 0))
    return float(p[order][ok[-1]]) if len(ok) else float("nan")


def metrics(y, p, classes, thresholds: Sequence[float]) -> dict:
    """Every figure of one age."""
    y, p, classes = np.asarray(y, int), np.asarray(p, float), np.asarray(classes, object)
    unscored = ~np.isfinite(p)
    p = np.where(unscored, 0.0, np.clip(p, 0.0, 1.0))
    return {"n": int(len(y)), "n_positive": int(y.sum()), "unscored": int(unscored.sum()),
            "auc": roc_auc(y, p), "ece": ece(y, p),
            "thresholds": [at_threshold(y, p, classes, float(t)) for t in thresholds],
            "reliability": reliability(y, p)}


def evaluate(scorer: Callable[[pa.Table], np.ndarray], alerts: AlertSet, positive: Sequence[str],
             thresholds: Sequence[float] = (0.5,), purity: float | None = None) -> dict:
    """Score ``alerts`` once and compute :func:`metrics` per age.

    Returns ``{"positive", "ages": {age: metrics}, "scores": DataFrame}`` (``scores``:
    the alerts' meta with ``y`` and ``p``, for plots and further analysis). With
    ``purity``, each age also gives ``threshold_for_purity``: the lowest threshold reaching
    that purity on these objects (choose it on a validation split, not the test one).

    Raises
    ------
    LabelledDataError
        When no object belongs to the positive class or none to the others.
    """
    if not positive:
        raise LabelledDataError("no positive class given (--positive CLASS)")
    frame = alerts.meta.copy()
    frame["y"] = is_positive(frame["class"], positive)
    if frame["y"].sum() == 0 or frame["y"].sum() == len(frame):
        which = "positive" if frame["y"].sum() == 0 else "negative"
        raise LabelledDataError(f"no {which} object for positive class(es) {list(positive)}; "
                                f"classes present: {sorted(frame['class'].unique())}")
    p = np.asarray(scorer(alerts.table), float)
    if p.shape != (len(frame),):
        raise PluginError(f"the scorer returned {p.shape} values for {len(frame)} alerts")
    frame["p"] = p
    ages = {}
    for age, rows in frame.groupby(frame["age"].astype(str), sort=False):
        ages[age] = metrics(rows["y"], rows["p"], rows["class"].astype(str), thresholds)
        if purity is not None:
            p_age = np.nan_to_num(rows["p"].to_numpy(float), nan=0.0)
            ages[age]["threshold_for_purity"] = {"purity": purity, "threshold": threshold_for_purity(
                rows["y"].to_numpy(), p_age, purity)}
    return {"positive": list(positive), "ages": ages, "scores": frame}


def format_table(result: dict) -> str:
    """A plain-text table: one line per age and threshold."""
    lines = [f"{'age':>5} {'n':>5} {'pos':>5} {'AUC':>6} {'ECE':>6} {'thr':>5} {'purity':>7} {'compl.':>7} {'FPR':>6}"]
    for age, m in result["ages"].items():
        for t in m["thresholds"] or [{"threshold": float("nan"), "purity": float("nan"),
                                      "completeness": float("nan"), "fpr": float("nan")}]:
            lines.append(f"{age:>5} {m['n']:>5} {m['n_positive']:>5} {m['auc']:>6.3f} {m['ece']:>6.3f} "
                         f"{t['threshold']:>5.2f} {t['purity']:>7.3f} {t['completeness']:>7.3f} {t['fpr']:>6.3f}")
    return "\n".join(lines)


def plot(result: dict, folder: str | Path, name: str) -> list[Path]:
    """``<name>-reliability.png`` and ``<name>-roc.png`` in ``folder``, one curve per age."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scores = result["scores"]
    paths = [folder / f"{name}-reliability.png", folder / f"{name}-roc.png"]
    for path, draw in zip(paths, (_draw_reliability, _draw_roc)):
        fig, ax = plt.subplots(figsize=(4.2, 3.6), dpi=80)
        for age, rows in scores.groupby(scores["age"].astype(str), sort=False):
            y, p = rows["y"].to_numpy(), np.nan_to_num(rows["p"].to_numpy(), nan=0.0)
            draw(ax, y, p, f"{age} d" if age != "all" else "all", roc_curve)
        ax.plot([0, 1], [0, 1], ls=":", color="grey")
        ax.legend(fontsize=7)
        ax.set_title(f"{name}: {'reliability' if 'reliab' in path.name else 'ROC'} ({', '.join(result['positive'])})",
                     fontsize=8)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return paths


def _draw_reliability(ax, y, p, label, _roc):
    bins = reliability(y, np.clip(p, 0, 1))
    ax.plot([b["mean_p"] for b in bins], [b["frac_pos"] for b in bins], marker="o", label=label)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("fraction positive")


def _draw_roc(ax, y, p, label, roc_curve):
    if len(np.unique(y)) < 2:
        return
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc(y, p):.2f})")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")


def to_json(result: dict) -> dict:
    """The result without the per-alert scores (JSON-ready)."""
    return {k: v for k, v in result.items() if k != "scores"} | {
        "n_objects": int(result["scores"]["object_id"].nunique())}


def class_table(result: dict) -> pd.DataFrame:
    """Median probability per true class and age (a quick look at the confusers)."""
    s = result["scores"]
    return s.groupby(["age", "class"])["p"].median().unstack(0)
