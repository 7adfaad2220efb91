"""The ``bnn`` science module: mean P(SN Ia) and its MC-dropout spread per alert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule, hash_files
from fink_like.science.params import Field, ModuleParams, not_in_hash
from fink_like_bnn import __version__
from fink_like_bnn.sequences import INPUTS, MAX_STEPS, encode

ARTIFACT = Path(__file__).parent / "data" / "bnn_gru.pt"
"""The packaged weights, written by ``python -m fink_like_bnn.train``."""


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
    # Isotonic map of the Monte-Carlo mean, fitted on validation objects (absent: identity).
    model.calibration = bundle.get("calibration")
    return model.eval()


class BnnParams(ModuleParams):
    """Parameters of :class:`BnnModule` (see its docstring)."""

    passes: int = Field(16, ge=1)
    seed: int = Field(0, ge=0)
    max_steps: int = Field(MAX_STEPS, ge=1)
    threads: int = not_in_hash(1, ge=1)
    artifact: str | None = not_in_hash(None)  # default: the packaged file; its content is hashed


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

    ``passes``, ``seed`` and ``max_steps`` enter ``model_hash`` with the weights' sha256.
    """

    name = "bnn"
    version = __version__
    inputs = INPUTS
    preload = ("torch",)
    outputs = {"bnn_snia_mean": pa.float64(), "bnn_snia_std": pa.float64()}
    Params = BnnParams
    probability = "bnn_snia_mean"
    thresholds = (0.5,)
    positive = ("SN Ia",)

    def load(self, params: BnnParams) -> None:
        import torch

        self._passes, self._seed, self._max_steps = params.passes, params.seed, params.max_steps
        torch.set_num_threads(params.threads)
        self._path = Path(params.artifact) if params.artifact else ARTIFACT
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
        mean = mean.double().numpy()
        if self._model.calibration:
            from fink_like.science.training import Isotonic

            mean = Isotonic.from_dict(self._model.calibration)(mean)
        return {"bnn_snia_mean": mean, "bnn_snia_std": std.double().numpy()}

    @property
    def network(self):
        """The loaded :class:`~fink_like_bnn.net.BayesianGRU` (after :meth:`load`)."""
        return self._model

    def artifact_hash(self) -> str:
        return hash_files([getattr(self, "_path", ARTIFACT)])
