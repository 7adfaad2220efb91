"""The ``bnn`` science module: mean P(SN Ia) and its MC-dropout spread per alert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule, hash_files
from fink_like_bnn import __version__
from fink_like_bnn.sequences import INPUTS, MAX_STEPS, encode

ARTIFACT = Path(__file__).parent / "data" / "bnn_gru.pt"
"""The packaged weights, written by ``python -m fink_like_bnn.train``."""

DEFAULTS = {"passes": 16, "seed": 0, "threads": 1, "max_steps": MAX_STEPS}


def load_model(path: str | Path):
    """Rebuild the network from an artifact written by :mod:`fink_like_bnn.train`.

    Raises
    ------
    PluginError
        When the file is missing, unreadable or does not hold this network's weights.
    """
    import torch

    from fink_like_bnn.net import BayesianGRU

    try:
        bundle = torch.load(path, map_location="cpu", weights_only=True)
        model = BayesianGRU(**bundle["config"])
        model.load_state_dict(bundle["state_dict"])
    except (OSError, RuntimeError, KeyError, TypeError, EOFError) as exc:
        raise PluginError(f"bnn: cannot load model artifact {path}: {exc}") from exc
    return model.eval()


def _int_param(params: dict, key: str, minimum: int) -> int:
    value = params.get(key, DEFAULTS[key])
    try:
        value = int(value)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"bnn: parameter {key} must be an integer, got {value!r}") from exc
    if value < minimum:
        raise PluginError(f"bnn: parameter {key} must be >= {minimum}, got {value}")
    return value


class BnnModule(ScienceModule):
    """P(SN Ia) from a GRU over the light curve, with Monte-Carlo dropout uncertainty.

    Parameters (``science.modules[].params``)
    -----------------------------------------
    passes : int, default 16
        Stochastic forward passes T; ``bnn_snia_std`` is their standard deviation.
    seed : int, default 0
        Seeds the dropout masks of every batch (results are reproducible).
    threads : int, default 1
        ``torch.set_num_threads``; executors run one per core.
    max_steps : int, default 64
        Only the latest detections are read.
    artifact : str, optional
        Weights to use instead of the packaged ones.
    """

    name = "bnn"
    version = __version__
    inputs = INPUTS
    preload = ("torch",)
    outputs = {"bnn_snia_mean": pa.float64(), "bnn_snia_std": pa.float64()}
    probability = "bnn_snia_mean"
    thresholds = (0.5,)
    positive = ("SN Ia",)

    def load(self, params: dict) -> None:
        import torch

        self.params = dict(params)
        self._passes = _int_param(params, "passes", 1)
        self._seed = _int_param(params, "seed", 0)
        self._max_steps = _int_param(params, "max_steps", 1)
        torch.set_num_threads(_int_param(params, "threads", 1))
        self._path = Path(params.get("artifact", ARTIFACT))
        self._model = load_model(self._path)

    def process(self, batch: pa.Table) -> dict[str, np.ndarray]:
        import torch

        from fink_like_bnn.net import mc_predict

        if batch.num_rows == 0:
            return {"bnn_snia_mean": np.zeros(0), "bnn_snia_std": np.zeros(0)}
        steps, lengths = encode(batch, self._max_steps)
        # An alert without a valid detection reads one all-zero step.
        lengths = np.maximum(lengths, 1)
        with torch.inference_mode():
            mean, std = mc_predict(self._model, torch.from_numpy(steps), torch.from_numpy(lengths),
                                   self._passes, self._seed)
        return {"bnn_snia_mean": mean.double().numpy(), "bnn_snia_std": std.double().numpy()}

    @property
    def network(self):
        """The loaded :class:`~fink_like_bnn.net.BayesianGRU` (after :meth:`load`)."""
        return self._model

    @property
    def model_hash(self) -> str:
        return hash_files([getattr(self, "_path", ARTIFACT)])
