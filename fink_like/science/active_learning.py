"""Active learning for science modules: propose uncertain alerts, ingest labels, retrain.

Three pieces, independent of any one classifier:

* :class:`ModelRegistry`: versions ``v1, v2, ...`` of a module's model. ``v1`` is the
  artifact shipped with the module's package (never copied); ``v2`` and later live in
  ``<model_dir>/vN/`` with a ``metrics.json``. ``"latest"`` is the highest version.
* :class:`Workspace`: ``<model_dir>/workspace/`` keeps the canonical rows of proposed
  candidates (``candidates.parquet``: labels need light curves) and the labels received
  so far (``labels.csv``: ``object_id,label``; a later label for an object wins).
* :class:`ActiveLearner`: the contract a module implements (``score``, ``retrain``),
  with uncertainty sampling and label validation provided here.

Examples
--------
``fink-like al candidates --module snia --n 20 --output candidates.csv``, classify them
spectroscopically, ``fink-like al label labels.csv``, then ``fink-like al retrain``.
"""

from __future__ import annotations

import abc
import csv
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.errors import ConfigError, FinkLikeError
from fink_like.surveys.canonical import CANONICAL_COLUMNS

_VERSION_RE = re.compile(r"^v([1-9][0-9]*)$")


class LabelError(FinkLikeError):
    """Labels refer to unknown objects or unknown classes, or a label file is malformed."""


class ModelRegistry:
    """Versions of one module's model under ``model_dir`` (``v1`` = the shipped artifact).

    Parameters
    ----------
    model_dir
        Folder holding ``v2``, ``v3``, ... (created on first publish).
    shipped
        The package's artifact, served as ``v1``.
    shipped_metrics
        Its metrics JSON, if any.
    filename
        Artifact file name inside each version folder.
    """

    def __init__(self, model_dir: str | Path, shipped: str | Path,
                 shipped_metrics: str | Path | None = None, filename: str = "model.joblib"):
        self.model_dir = Path(model_dir)
        self.shipped = Path(shipped)
        self.shipped_metrics = Path(shipped_metrics) if shipped_metrics else None
        self.filename = filename

    def versions(self) -> list[str]:
        """``["v1", "v2", ...]`` in order; a folder counts once its artifact exists."""
        found = [1]
        if self.model_dir.is_dir():
            for child in self.model_dir.iterdir():
                match = _VERSION_RE.match(child.name)
                if match and int(match.group(1)) > 1 and (child / self.filename).is_file():
                    found.append(int(match.group(1)))
        return [f"v{i}" for i in sorted(found)]

    def resolve(self, spec: str) -> str:
        """``"latest"`` or ``"vN"`` -> an existing version; ConfigError naming the choices otherwise."""
        versions = self.versions()
        if spec == "latest":
            return versions[-1]
        if spec not in versions:
            raise ConfigError(f"model_version {spec!r} not found in {self.model_dir}: "
                              f"available {', '.join(versions)} or 'latest'")
        return spec

    def artifact(self, version: str) -> Path:
        version = self.resolve(version)
        return self.shipped if version == "v1" else self.model_dir / version / self.filename

    def metrics(self, version: str) -> dict:
        version = self.resolve(version)
        path = self.shipped_metrics if version == "v1" else self.model_dir / version / "metrics.json"
        return json.loads(path.read_text()) if path and path.is_file() else {}

    def next_version(self) -> str:
        return f"v{int(self.versions()[-1][1:]) + 1}"

    def publish(self, write: Callable[[Path], None], metrics: dict) -> str:
        """Write a new version atomically: ``write(path)`` fills a temporary folder, renamed into place."""
        version = self.next_version()
        self.model_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=self.model_dir))
        try:
            write(tmp / self.filename)
            (tmp / "metrics.json").write_text(json.dumps({"version": version, **metrics}, indent=2) + "\n")
            os.rename(tmp, self.model_dir / version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return version


class Workspace:
    """Candidates' canonical rows and received labels, under ``<model_dir>/workspace``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.candidates_path = self.root / "candidates.parquet"
        self.labels_path = self.root / "labels.csv"

    def add_candidates(self, table: pa.Table) -> None:
        """Keep the canonical columns of ``table``; an alert already stored is not duplicated."""
        import pyarrow.parquet as pq

        keep = [c for c in CANONICAL_COLUMNS if c in table.column_names]
        table = table.select(keep)
        old = self.candidates()
        if old.num_rows:
            fresh = pc.invert(pc.is_in(table["alert_id"], value_set=old["alert_id"]))
            table = pa.concat_tables([old, table.filter(fresh)], promote_options="permissive")
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.candidates_path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, self.candidates_path)

    def candidates(self) -> pa.Table:
        import pyarrow.parquet as pq

        if not self.candidates_path.is_file():
            return pa.table({"alert_id": pa.array([], pa.int64()), "object_id": pa.array([], pa.string())})
        return pq.read_table(self.candidates_path)

    def labels(self) -> dict[str, str]:
        if not self.labels_path.is_file():
            return {}
        return dict(read_label_file(self.labels_path))

    def save_labels(self, labels: Mapping[str, str]) -> None:
        merged = self.labels() | dict(labels)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.labels_path.with_suffix(".tmp")
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["object_id", "label"])
            writer.writerows(sorted(merged.items()))
        os.replace(tmp, self.labels_path)

    def labelled(self) -> tuple[pa.Table, list[str]]:
        """The latest stored alert of each labelled object, and its label."""
        labels = self.labels()
        rows = latest_per_object(self.candidates())
        rows = rows.filter(pc.is_in(rows["object_id"], value_set=pa.array(list(labels), pa.string())))
        return rows, [labels[o] for o in rows["object_id"].to_pylist()]


def read_label_file(path: str | Path) -> list[tuple[str, str]]:
    """``(object_id, label)`` pairs of a CSV with header ``object_id,label``.

    Raises
    ------
    LabelError
        Missing file, missing columns, or an empty field, naming the line.
    """
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip() for f in reader.fieldnames or []]
            if "object_id" not in fields or "label" not in fields:
                raise LabelError(f"{path}: the header must name the columns object_id,label (got {fields})")
            reader.fieldnames = fields
            pairs = []
            for line, row in enumerate(reader, start=2):
                obj, label = (row.get("object_id") or "").strip(), (row.get("label") or "").strip()
                if not obj or not label:
                    raise LabelError(f"{path}, line {line}: object_id and label must both be given")
                pairs.append((obj, label))
    except OSError as exc:
        raise LabelError(f"cannot read label file {path}: {exc}") from exc
    return pairs


def latest_per_object(table: pa.Table) -> pa.Table:
    """One row per ``object_id``: its alert with the largest ``mjd`` (first on ties)."""
    if table.num_rows == 0:
        return table
    frame = table.select(["object_id", "mjd"]).to_pandas()
    frame["row"] = np.arange(len(frame))
    keep = frame.sort_values(["mjd", "row"], ascending=[False, True]).drop_duplicates("object_id")
    return table.take(pa.array(np.sort(keep["row"].to_numpy())))


@dataclass
class LabelReport:
    """What :meth:`ActiveLearner.add_labels` accepted and rejected."""

    accepted: dict[str, str] = field(default_factory=dict)
    unknown_objects: list[str] = field(default_factory=list)
    unknown_labels: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unknown_objects and not self.unknown_labels

    def describe(self, known_labels=()) -> str:
        lines = [f"{len(self.accepted)} label(s) valid"]
        if self.unknown_objects:
            lines.append(f"{len(self.unknown_objects)} unknown object(s) (not among the stored candidates): "
                         + ", ".join(self.unknown_objects))
        if self.unknown_labels:
            lines.append(f"{len(self.unknown_labels)} unknown label(s): "
                         + ", ".join(f"{o}={lab!r}" for o, lab in self.unknown_labels))
            if known_labels:
                lines.append("known labels: " + ", ".join(sorted(known_labels)))
        return "\n".join(lines)


@dataclass
class RetrainResult:
    """A new model version with its metrics before (previous latest) and after."""

    version: str
    previous: str
    metrics_before: dict
    metrics_after: dict
    n_labelled: int
    artifact: Path


class ActiveLearner(abc.ABC):
    """A classifier that can ask for labels and learn from them.

    Contract: after the module's ``load``, :attr:`registry` and :attr:`workspace` are
    set; :meth:`score` is P(positive class) per row of a canonical table (NaN where
    undefined); :attr:`known_labels` lists the labels :meth:`add_labels` accepts;
    :meth:`retrain` publishes a new version in :attr:`registry` and never changes the
    version a running pipeline uses (``model_version`` does).
    """

    known_labels: ClassVar[frozenset[str]] = frozenset()
    registry: ModelRegistry
    workspace: Workspace

    @abc.abstractmethod
    def score(self, table: pa.Table) -> np.ndarray:
        """P(positive) per row of ``table`` (canonical columns)."""

    @abc.abstractmethod
    def retrain(self) -> RetrainResult:
        """Train on the simulated set plus every stored label; publish and return the new version."""

    def canonical_label(self, label: str) -> str | None:
        """A class from a label table in this learner's vocabulary; None to skip it.

        By default a label is kept when it is one of :attr:`known_labels`.
        """
        return label if label in self.known_labels else None

    def candidates(self, table: pa.Table, n: int) -> pa.Table:
        """The ``n`` most uncertain alerts (P closest to 0.5), latest alert per object.

        Objects already labelled are skipped. The chosen rows are stored in the workspace
        and returned with ``al_score`` and ``al_uncertainty = 1 - 2 |P - 0.5|``, most
        uncertain first.
        """
        if n < 1:
            raise LabelError(f"the number of candidates must be at least 1, got {n}")
        latest = latest_per_object(table)
        labelled = pa.array(list(self.workspace.labels()), pa.string())
        latest = latest.filter(pc.invert(pc.is_in(latest["object_id"], value_set=labelled)))
        p = np.asarray(self.score(latest), dtype=float)
        uncertainty = 1.0 - 2.0 * np.abs(p - 0.5)
        finite = np.nonzero(np.isfinite(p))[0]
        order = finite[np.argsort(-uncertainty[finite], kind="stable")][:n]
        chosen = latest.take(pa.array(order, pa.int64()))
        self.workspace.add_candidates(chosen)
        return chosen.append_column("al_score", pa.array(p[order])).append_column(
            "al_uncertainty", pa.array(uncertainty[order]))

    def add_labels(self, labels: Mapping[str, str] | list[tuple[str, str]], strict: bool = True) -> LabelReport:
        """Validate labels against the stored candidates and :attr:`known_labels`, then store them.

        With ``strict`` any problem stores nothing and raises LabelError listing every
        problem; otherwise the valid labels are stored and the report lists the rest.
        """
        pairs = list(labels.items()) if isinstance(labels, Mapping) else list(labels)
        known_objects = set(self.workspace.candidates()["object_id"].to_pylist())
        report = LabelReport()
        for obj, label in pairs:
            if obj not in known_objects:
                report.unknown_objects.append(obj)
            elif label not in self.known_labels:
                report.unknown_labels.append((obj, label))
            else:
                report.accepted[obj] = label
        if strict and not report.ok:
            raise LabelError("labels rejected, nothing stored:\n" + report.describe(self.known_labels))
        if report.accepted:
            self.workspace.save_labels(report.accepted)
        return report
