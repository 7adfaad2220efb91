"""Learning curves of active learning on real labels: uncertainty against random sampling.

Fink's SN Ia loop (Ishida et al. 2019), replayed on labelled real objects: start from a
few labels, then repeatedly fit, ask the oracle for the ``batch`` pool objects the model
is least sure of (P closest to 0.5) or for ``batch`` random ones, and record the AUC on a
held-out test set that is never queried. Only held-out figures are reported.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(300, 2)); y = (X[:, 0] > 0).astype(int)
>>> def fit(X, y):
...     return LogisticRegression().fit(X, y).predict_proba
>>> curve = learning_curve(fit, X[:200], y[:200], X[200:], y[200:], "random", start=10, batch=10, budget=30)
>>> [step["labels"] for step in curve]
[10, 20, 30]
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from fink_like.science.evaluate import roc_auc

Fit = Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]


def _start(y: np.ndarray, n: int, rng) -> list[int]:
    """``n`` random pool rows holding both classes (one of each first)."""
    first = [int(rng.choice(np.flatnonzero(y == c))) for c in (0, 1)]
    rest = [int(i) for i in rng.permutation(len(y)) if i not in first]
    return first + rest[: max(n - 2, 0)]


def learning_curve(fit: Fit, X_pool, y_pool, X_test, y_test, strategy: str, start: int = 10,
                   batch: int = 10, budget: int = 200, seed: int = 0) -> list[dict]:
    """AUC on the test set after each round, for ``strategy`` ``"uncertainty"`` or ``"random"``.

    ``fit(X, y)`` returns a function giving ``(n, 2)`` class probabilities; ``y_pool`` is
    what the oracle answers (it is only read for the rows queried so far).
    """
    if strategy not in ("uncertainty", "random"):
        raise ValueError(f"unknown strategy {strategy!r}: uncertainty or random")
    rng = np.random.default_rng(seed)
    labelled = _start(np.asarray(y_pool), start, rng)
    curve = []
    while True:
        predict = fit(X_pool[labelled], y_pool[labelled])
        curve.append({"labels": len(labelled), "auc": roc_auc(y_test, predict(X_test)[:, 1]),
                      "positives": int(np.sum(y_pool[labelled]))})
        if len(labelled) >= min(budget, len(y_pool)):
            return curve
        free = np.setdiff1d(np.arange(len(y_pool)), labelled)
        take = min(batch, budget - len(labelled), len(free))
        if strategy == "random":
            chosen = rng.choice(free, take, replace=False)
        else:
            p = predict(X_pool[free])[:, 1]
            chosen = free[np.argsort(np.abs(p - 0.5), kind="stable")[:take]]
        labelled += [int(i) for i in chosen]
