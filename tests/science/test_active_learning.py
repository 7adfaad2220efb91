"""Generic active learning: registry versions, workspace, uncertainty sampling, label checks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from fink_like.errors import ConfigError, FinkLikeError
from fink_like.science.active_learning import (
    ActiveLearner, LabelError, ModelRegistry, Workspace, latest_per_object, read_label_file,
)
from fink_like.science.lcsim import simulate


class FluxLearner(ActiveLearner):
    """A real (if simple) learner for the contract: P = logistic of the alert's S/N."""

    known_labels = frozenset({"SN Ia", "AGN"})

    def __init__(self, root):
        self.registry = ModelRegistry(root, root / "shipped.bin")
        self.workspace = Workspace(root / "workspace")

    def score(self, table):
        snr = np.asarray(table["flux"].to_pylist()) / np.asarray(table["fluxerr"].to_pylist())
        return 1.0 / (1.0 + np.exp(-(snr - 10.0)))

    def retrain(self):  # pragma: no cover - not exercised by the generic tests
        raise NotImplementedError


@pytest.fixture
def alerts():
    return simulate(60, survey="ztf", seed=21)


def test_registry_versions_latest_and_publish(tmp_path):
    shipped = tmp_path / "shipped.bin"
    shipped.write_bytes(b"v1")
    reg = ModelRegistry(tmp_path / "models", shipped)
    assert reg.versions() == ["v1"] and reg.resolve("latest") == "v1"
    assert reg.artifact("v1") == shipped
    assert reg.publish(lambda p: p.write_bytes(b"two"), {"auc": 0.9}) == "v2"
    (tmp_path / "models" / "v9").mkdir()          # no artifact: not a version
    assert reg.versions() == ["v1", "v2"] and reg.resolve("latest") == "v2"
    assert reg.artifact("latest").read_bytes() == b"two"
    assert reg.metrics("v2") == {"version": "v2", "auc": 0.9}
    with pytest.raises(ConfigError, match="'v3' not found.*v1, v2"):
        reg.resolve("v3")

    def broken(path):
        path.write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        reg.publish(broken, {})
    assert reg.versions() == ["v1", "v2"]
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]


def test_latest_alert_per_object():
    table = pa.table({"object_id": ["a", "b", "a", "c", "b"], "mjd": [1.0, 5.0, 3.0, 2.0, 4.0],
                      "alert_id": [1, 2, 3, 4, 5]})
    assert sorted(latest_per_object(table)["alert_id"].to_pylist()) == [2, 3, 4]


def test_candidates_are_the_most_uncertain(tmp_path, alerts):
    learner = FluxLearner(tmp_path)
    chosen = learner.candidates(alerts, 7)
    p = learner.score(alerts)
    expected = np.argsort(np.abs(p - 0.5), kind="stable")[:7]
    assert chosen["alert_id"].to_pylist() == alerts["alert_id"].take(pa.array(expected)).to_pylist()
    assert np.all(np.diff(chosen["al_uncertainty"].to_numpy()) <= 0)
    stored = learner.workspace.candidates()
    assert stored.num_rows == 7 and "label" not in stored.column_names
    learner.candidates(alerts, 7)                 # same alerts again: not duplicated
    assert learner.workspace.candidates().num_rows == 7
    with pytest.raises(LabelError):
        learner.candidates(alerts, 0)


def test_labels_are_validated_and_merged(tmp_path, alerts):
    learner = FluxLearner(tmp_path)
    ids = learner.candidates(alerts, 3)["object_id"].to_pylist()
    with pytest.raises(LabelError, match="nothing stored") as info:
        learner.add_labels({ids[0]: "SN Ia", "nope": "SN Ia", ids[1]: "Kilonova"})
    assert "nope" in str(info.value) and "Kilonova" in str(info.value)
    assert isinstance(info.value, FinkLikeError)
    assert learner.workspace.labels() == {}
    report = learner.add_labels({ids[0]: "SN Ia", ids[1]: "Kilonova"}, strict=False)
    assert not report.ok and report.accepted == {ids[0]: "SN Ia"}
    learner.add_labels([(ids[0], "AGN"), (ids[2], "SN Ia")])
    assert learner.workspace.labels() == {ids[0]: "AGN", ids[2]: "SN Ia"}
    rows, labels = learner.workspace.labelled()
    assert dict(zip(rows["object_id"].to_pylist(), labels)) == {ids[0]: "AGN", ids[2]: "SN Ia"}
    # labelled objects are not proposed again
    again = learner.candidates(alerts, 60)["object_id"].to_pylist()
    assert ids[0] not in again and ids[2] not in again


def test_label_file_errors_name_the_problem(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("object_id, label\nZTF1,SN Ia\nZTF2, AGN \n")
    assert read_label_file(good) == [("ZTF1", "SN Ia"), ("ZTF2", "AGN")]
    (tmp_path / "nohead.csv").write_text("ZTF1,SN Ia\n")
    with pytest.raises(LabelError, match="header"):
        read_label_file(tmp_path / "nohead.csv")
    (tmp_path / "blank.csv").write_text("object_id,label\nZTF1,\n")
    with pytest.raises(LabelError, match="line 2"):
        read_label_file(tmp_path / "blank.csv")
    with pytest.raises(LabelError, match="cannot read"):
        read_label_file(tmp_path / "absent.csv")
