"""The ``snia`` science module: P(SN Ia) per alert, with active learning.

Parameters (``science.modules[snia].params``, :class:`SniaModule.Params`):

``model_version``
    ``"v1"`` (default, the artifact shipped in this package), ``"vN"`` or ``"latest"``.
    ``latest`` is resolved once, when a query starts (:meth:`SniaModule.pin`).
``model_dir``
    Registry of retrained versions and the active-learning workspace
    (default ``var/models/snia``).
``n_train``, ``n_test``
    Simulated alerts per survey for retraining and its held-out metrics
    (defaults: those of ``train.py``).
``label_weight``
    Sample weight of a labelled real alert relative to a simulated one (default 5).

None of them enters ``model_hash`` as such: the scores depend only on the artifact in
use, whose content is hashed; the others shape retraining, not scoring.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from fink_like.science.active_learning import ActiveLearner, LabelError, ModelRegistry, RetrainResult, Workspace
from fink_like.science.base import ScienceModule, hash_files
from fink_like.science.params import ModuleParams, not_in_hash
from fink_like_snia import __version__, model, train
from fink_like_snia.features import INPUTS

SHIPPED = Path(__file__).resolve().parent / "models" / "snia-v1.joblib"
SHIPPED_METRICS = SHIPPED.with_name("metrics-v1.json")


class SniaParams(ModuleParams):
    """Parameters of :class:`SniaModule` (see the module docstring)."""

    model_version: str = not_in_hash("v1", pattern=r"^(latest|v[1-9][0-9]*)$")
    model_dir: str = not_in_hash("var/models/snia")
    n_train: int = not_in_hash(train.N_TRAIN, ge=1)
    n_test: int = not_in_hash(train.N_TEST, ge=1)
    label_weight: float = not_in_hash(5.0, gt=0)


DEFAULTS = SniaParams().model_dump()


class SniaModule(ScienceModule, ActiveLearner):
    """P(SN Ia) from light-curve features and a random forest per survey."""

    name = "snia"
    version = __version__
    inputs = ("survey", *INPUTS)
    preload = ("sklearn.ensemble",)
    outputs = {"snia_prob": pa.float64()}
    known_labels = model.KNOWN_LABELS
    Params = SniaParams

    @classmethod
    def pin(cls, params: SniaParams) -> SniaParams:
        """``model_version: latest`` resolved to the newest version now (``v3``)."""
        registry = ModelRegistry(Path(params.model_dir), SHIPPED, SHIPPED_METRICS)
        return params.model_copy(update={"model_version": registry.resolve(params.model_version)})

    def load(self, params: SniaParams) -> None:
        model_dir = Path(params.model_dir)
        self.registry = ModelRegistry(model_dir, SHIPPED, SHIPPED_METRICS)
        self.workspace = Workspace(model_dir / "workspace")
        self.model_version = self.registry.resolve(params.model_version)
        self.artifact_path = self.registry.artifact(self.model_version)
        self.artifact = model.load_artifact(self.artifact_path)

    def process(self, batch: pa.Table) -> dict:
        return {"snia_prob": model.predict(self.artifact, batch)}

    def artifact_hash(self) -> str:
        """sha256 of the artifact in use (so v1 and v2 differ)."""
        return hash_files([self.artifact_path])

    def score(self, table: pa.Table) -> np.ndarray:
        return model.predict(self.artifact, table)

    def retrain(self) -> RetrainResult:
        """Simulated training set + every stored label -> the next version.

        Metrics before (the registry's latest version) and after are computed on the
        same held-out simulated set, and on the labelled real alerts.
        """
        rows, labels = self.workspace.labelled()
        if not labels:
            raise LabelError("no labelled alerts in the workspace: run `fink-like al candidates` "
                             "then `fink-like al label FILE` first")
        previous = self.registry.versions()[-1]
        before = model.load_artifact(self.registry.artifact(previous))
        y_real = np.array([model.is_snia(label) for label in labels], dtype=int)
        surveys = np.asarray(rows.column("survey").to_pylist(), dtype=object)
        features = model.extract(rows)
        weight = self.params.label_weight
        extra = {s: (features[surveys == s], y_real[surveys == s], np.full((surveys == s).sum(), weight))
                 for s in model.SURVEYS if (surveys == s).any()}
        after = train.train(self.params.n_train, extra=extra)
        n_test = self.params.n_test
        metrics = {
            "previous": previous,
            "held_out_before": train.held_out_metrics(before, n_test),
            "held_out_after": train.held_out_metrics(after, n_test),
            "labelled_before": model.metrics(y_real, model.predict(before, rows)),
            "labelled_after": model.metrics(y_real, model.predict(after, rows)),
            "trained_on": after["trained_on"],
        }
        version = self.registry.publish(lambda path: model.save_artifact(after, path), metrics)
        return RetrainResult(version, previous, {"held_out": metrics["held_out_before"],
                                                 "labelled": metrics["labelled_before"]},
                             {"held_out": metrics["held_out_after"], "labelled": metrics["labelled_after"]},
                             len(labels), self.registry.artifact(version))
