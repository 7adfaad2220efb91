"""The active-learning learning curve: label counts, held-out AUC, the two strategies."""

from __future__ import annotations

import numpy as np
import pytest

from fink_like.science.al_benchmark import learning_curve


def _fit(X, y):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(X, y).predict_proba


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    return X[:300], y[:300], X[300:], y[300:]


@pytest.mark.parametrize("strategy", ["uncertainty", "random"])
def test_curve_counts_labels_and_learns(data, strategy):
    curve = learning_curve(_fit, *data, strategy, start=6, batch=7, budget=40, seed=1)
    assert [s["labels"] for s in curve] == [6, 13, 20, 27, 34, 40]
    assert curve[-1]["auc"] > 0.9


def test_uncertainty_queries_nearer_the_boundary_than_random(data):
    X_pool, y_pool, X_test, y_test = data
    seen = {}

    def spy(name):
        def fit(X, y):
            seen[name] = X
            return _fit(X, y)
        return fit
    for strategy in ("uncertainty", "random"):
        learning_curve(spy(strategy), X_pool, y_pool, X_test, y_test, strategy, start=10, batch=20, budget=30)
    # rows 10..29 are the queried ones; the class boundary is x0 = 0
    assert np.abs(seen["uncertainty"][10:, 0]).mean() < 0.5 * np.abs(seen["random"][10:, 0]).mean()


def test_unknown_strategy(data):
    with pytest.raises(ValueError, match="unknown strategy 'greedy'"):
        learning_curve(_fit, *data, "greedy")
