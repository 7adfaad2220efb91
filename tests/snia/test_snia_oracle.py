"""The portal's annotations as the labelling oracle of active learning (``al label --from-archive``)."""

from __future__ import annotations

import csv
import json

from fink_like.archive.labels import Labels
from fink_like.archive.writer import ArchiveWriter
from fink_like.cli import main
from fink_like.config import load_settings
from fink_like.surveys import read_alert_files


def test_annotations_feed_active_learning(tmp_path, shared_data, monkeypatch, capsys):
    monkeypatch.delenv("FINK_LIKE_CONFIG", raising=False)
    alerts = shared_data / "ztf" / "alerts-4.02"
    params = {"model_dir": str(tmp_path / "models"), "n_train": 400, "n_test": 200}
    config = tmp_path / "settings.yaml"
    config.write_text(json.dumps({"archive": {"path": str(tmp_path / "archive.sqlite")},
                                  "science": {"modules": [{"name": "snia", "params": params}]}}))
    settings = load_settings(str(config), env={})
    writer = ArchiveWriter(settings)
    writer.write(read_alert_files(alerts))
    writer.close()

    todo = tmp_path / "todo.csv"
    assert main(["--config", str(config), "al", "candidates", "--input", str(alerts), "--n", "4",
                 "--output", str(todo)]) == 0
    with open(todo) as handle:
        objects = [row["object_id"] for row in csv.DictReader(handle)]
    labels = Labels(settings)
    for i, oid in enumerate(objects):
        labels.add(oid, "SN II", "first look", "alice")
        labels.add(oid, "SN Ia" if i % 2 else "SN II", "after the spectrum", "bob")  # the newest wins
    labels.close()

    capsys.readouterr()
    assert main(["--config", str(config), "al", "label", "--from-archive"]) == 0
    out = capsys.readouterr().out
    assert "4 label(s) valid" in out
    path = out.split("labels stored in ")[1].strip()
    with open(path) as handle:
        stored = dict(csv.reader(handle))
    expected = {oid: ("SN Ia" if i % 2 else "SN II") for i, oid in enumerate(objects)}
    assert {k: v for k, v in stored.items() if k != "object_id"} == expected
    assert main(["--config", str(config), "al", "label"]) == 2
    assert main(["--config", str(config), "al", "label", str(todo), "--from-archive"]) == 2
