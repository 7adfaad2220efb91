"""The ``microlensing`` science module: ``mulens_prob`` from features and a random forest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule, hash_files
from fink_like.science.params import Field, ModuleParams, not_in_hash
from fink_like_microlensing import __version__
from fink_like_microlensing.features import FEATURES, extract_with_counts
from fink_like_microlensing.lightcurves import INPUTS

ARTIFACT = Path(__file__).parent / "data" / "mulens_rf.joblib"
"""The packaged model, written by ``python -m fink_like_microlensing.train``."""

DEFAULT_MIN_POINTS = 4


class MicrolensingParams(ModuleParams):
    """Parameters of :class:`MicrolensingModule` (see its docstring)."""

    min_points: int = Field(DEFAULT_MIN_POINTS, ge=1)
    artifact: str | None = not_in_hash(None)  # default: the packaged file; its content is hashed


def load_model(path: str | Path):
    """Load a trained artifact and check that it matches this code's features.

    Raises
    ------
    PluginError
        When the file is missing, unreadable, or was trained on other features.
    """
    import joblib

    try:
        bundle = joblib.load(path)
    except (OSError, EOFError, ValueError, KeyError, ModuleNotFoundError) as exc:
        raise PluginError(f"microlensing: cannot load model artifact {path}: {exc}") from exc
    if not isinstance(bundle, dict) or "model" not in bundle or "features" not in bundle:
        raise PluginError(f"microlensing: {path} is not a model bundle written by fink_like_microlensing.train")
    if tuple(bundle["features"]) != FEATURES:
        raise PluginError(
            f"microlensing: {path} was trained on features {bundle['features']}, "
            f"this code computes {FEATURES}: retrain with python -m fink_like_microlensing.train"
        )
    return bundle["model"]


class MicrolensingModule(ScienceModule):
    """Probability that an alert's light curve is a microlensing event (LIA-style).

    Parameters (``science.modules[].params``)
    -----------------------------------------
    artifact : str, optional
        Model bundle to use instead of the packaged one.
    min_points : int, default 4
        Alerts with fewer valid detections, or without one band of
        ``features.MIN_BAND_POINTS`` detections, get ``mulens_prob = 0``: a shape needs points.

    ``min_points`` enters ``model_hash`` with the model file's sha256.
    """

    name = "microlensing"
    version = __version__
    inputs = INPUTS
    preload = ("sklearn.ensemble",)
    outputs = {"mulens_prob": pa.float64()}
    Params = MicrolensingParams
    probability = "mulens_prob"
    # FPR <= 1 % on the validation look-alikes (data/metrics.json "threshold").
    thresholds = (0.428,)
    positive = ("microlensing",)

    def load(self, params: MicrolensingParams) -> None:
        self._path = Path(params.artifact) if params.artifact else ARTIFACT
        self._min_points = params.min_points
        self._model = load_model(self._path)
        self._model.set_params(n_jobs=1)  # executors run one per core
        self._positive = list(self._model.classes_).index(1)

    def process(self, batch: pa.Table) -> dict[str, np.ndarray]:
        if batch.num_rows == 0:
            return {"mulens_prob": np.zeros(0)}
        X, n_points = extract_with_counts(batch)
        prob = self._model.predict_proba(X)[:, self._positive]
        # No band with enough points for a shape: the forest would only echo its prior.
        scored = (n_points >= self._min_points) & (X[:, FEATURES.index("n_valid_bands")] > 0)
        prob = np.where(scored, prob, 0.0)
        return {"mulens_prob": prob.astype(np.float64)}

    def artifact_hash(self) -> str:
        return hash_files([getattr(self, "_path", ARTIFACT)])
