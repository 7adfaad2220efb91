"""Toy scorers for ``modules evaluate`` tests: their AUC on the toy labelled set is known exactly.

The toy set (``test_evaluate.toy_folder``) gives positives a last-detection flux of
1000 nJy and negatives 200 nJy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fink_like.science.base import ScienceModule


class _Toy(ScienceModule):
    version = "1.0"
    inputs = ("flux", "object_id")
    outputs = {"toy_prob": pa.float64()}
    probability = "toy_prob"
    thresholds = (0.5,)
    positive = ("A",)

    def load(self, params: dict) -> None:
        self.params = dict(params)


class Perfect(_Toy):
    """1 for positives, 0 for negatives: AUC 1."""

    name = "toy_perfect"

    def process(self, batch: pa.Table) -> dict:
        return {"toy_prob": (batch["flux"].to_numpy() > 500).astype(float)}


class Inverted(_Toy):
    """0 for positives, 1 for negatives: AUC 0."""

    name = "toy_inverted"

    def process(self, batch: pa.Table) -> dict:
        return {"toy_prob": (batch["flux"].to_numpy() <= 500).astype(float)}


class Coin(_Toy):
    """Uniform noise from a hash of the object id: AUC about 0.5."""

    name = "toy_coin"

    def process(self, batch: pa.Table) -> dict:
        ids = batch["object_id"].to_pylist()
        return {"toy_prob": np.array([np.random.default_rng(abs(hash(i)) % 2**32).random() for i in ids])}


class NoProbability(ScienceModule):
    """Declares no probability output: cannot be evaluated."""

    name = "toy_noprob"
    version = "1.0"
    inputs = ("flux",)
    outputs = {"toy_value": pa.float64()}

    def load(self, params: dict) -> None:
        self.params = dict(params)

    def process(self, batch: pa.Table) -> dict:
        return {"toy_value": batch["flux"].to_numpy()}
