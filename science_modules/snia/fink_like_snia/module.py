"""The ``snia`` science module: P(SN Ia) per alert, with active learning.

Parameters (``science.modules[snia].params``, :class:`SniaModule.Params`):

``model_version``
    ``"v1"`` (default, the artifact shipped in this package), ``"vN"`` or ``"latest"``.
    ``latest`` is resolved once, when a query starts (:meth:`SniaModule.pin`).
``model_dir``
    Registry of retrained versions and the active-learning workspace
    (default ``var/models/snia``).
``labels_dir``
    Labelled real objects (``shared/data/labelled`` format) that retraining starts from;
    its test split gives the before/after figures (default ``../shared/data/labelled``).
``n_train``, ``n_test``
    Simulated Rubin alerts for retraining (``n_test`` is unused, kept for old configurations).
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
    n_test: int = not_in_hash(3000, ge=1)
    label_weight: float = not_in_hash(5.0, gt=0)
    labels_dir: str = not_in_hash("../shared/data/labelled")


DEFAULTS = SniaParams().model_dump()


class SniaModule(ScienceModule, ActiveLearner):
    """P(SN Ia) from light-curve features and a random forest per survey."""

    name = "snia"
    version = __version__
    inputs = ("survey", *INPUTS)
    preload = ("sklearn.ensemble",)
    outputs = {"snia_prob": pa.float64()}
    probability = "snia_prob"
    # sn_candidates and early_sn_ia (conf/local.yaml): purity >= 0.95 on the validation
    # objects for whole light curves and at 20 days (docs/science.md).
    thresholds = (0.65, 0.93)
    positive = ("SN Ia",)
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

    def canonical_label(self, label: str) -> str | None:
        """Label-table classes: known ones as they are, other SN Ia subtypes as "SN Ia", the rest "Other"."""
        if label in self.known_labels:
            return label
        return "SN Ia" if model.is_snia(label) else "Other"

    def retrain(self) -> RetrainResult:
        """The real labelled training set + every stored label (ZTF) -> the next version.

        Metrics before (the registry's latest version) and after: on the test objects of
        ``labels_dir`` (never trained on) and on the labelled alerts themselves.
        """
        rows, labels = self.workspace.labelled()
        if not labels:
            raise LabelError("no labelled alerts in the workspace: run `fink-like al candidates` "
                             "then `fink-like al label FILE` first")
        previous = self.registry.versions()[-1]
        before = model.load_artifact(self.registry.artifact(previous))
        y_real = np.array([model.is_snia(label) for label in labels], dtype=int)
        ztf = np.asarray(rows.column("survey").to_pylist(), dtype=object) == "ztf"
        extra = (model.features_of(rows)[ztf], y_real[ztf], np.full(int(ztf.sum()), self.params.label_weight))
        labels_dir = self.params.labels_dir
        after = train.train(labels_dir, self.params.n_train, extra=extra)
        held = {"before": train.test_metrics(before, labels_dir), "after": train.test_metrics(after, labels_dir)}
        metrics = {"previous": previous, "held_out_before": held["before"], "held_out_after": held["after"],
                   "labelled_before": model.metrics(y_real, model.predict(before, rows)),
                   "labelled_after": model.metrics(y_real, model.predict(after, rows)),
                   "trained_on": after["trained_on"]}
        version = self.registry.publish(lambda path: model.save_artifact(after, path), metrics)
        return RetrainResult(version, previous, {"held_out": held["before"], "labelled": metrics["labelled_before"]},
                             {"held_out": held["after"], "labelled": metrics["labelled_after"]},
                             len(labels), self.registry.artifact(version))
