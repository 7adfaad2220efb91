"""``fink-like query``: every kind and format, and usage errors, through ``main(argv)``."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
import yaml

from fink_like.archive.writer import ArchiveWriter
from fink_like.cli import main


@pytest.fixture
def config(tmp_path, make_settings, alerts):
    settings = make_settings()
    ArchiveWriter(settings).write(alerts)
    path = tmp_path / "conf.yaml"
    path.write_text(yaml.safe_dump({"archive": {"path": settings.archive.path}}))
    return str(path)


def test_object_json_and_csv(config, alerts, capsys, tmp_path):
    df = alerts.to_pandas()
    oid = df.object_id.iloc[0]
    expected = df[df.object_id == oid].sort_values("mjd").alert_id.tolist()
    assert main(["--config", config, "query", "object", oid, "--format", "json"]) == 0
    assert [r["alert_id"] for r in json.loads(capsys.readouterr().out)] == expected
    out = tmp_path / "lc.csv"
    assert main(["--config", config, "query", "object", oid, "--format", "csv", "--output", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == len(expected) + 1 and '"alert_id"' in lines[0]


def test_cone_class_latest(config, alerts, capsys, tmp_path):
    row = alerts.to_pandas().iloc[0]
    out = tmp_path / "cone.parquet"
    assert main(["--config", config, "query", "cone", str(row.ra), str(row.dec), "2",
                 "--format", "parquet", "--output", str(out)]) == 0
    assert set(pq.read_table(out).column("object_id").to_pylist()) == {row.object_id}
    assert main(["--config", config, "query", "latest", "--limit", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4  # header + 3 rows
    assert main(["--config", config, "query", "class", "unclassified", "--since", "2023-01-01",
                 "--format", "json"]) == 0
    assert all(r["class"] == "Unclassified" for r in json.loads(capsys.readouterr().out))


@pytest.mark.parametrize("argv, status, message", [
    (["query", "cone", "10", "95", "5"], 1, "dec 95.0 is outside"),
    (["query", "cone", "10", "0", "-5"], 1, "must be positive"),
    (["query", "latest", "--limit", "0"], 1, "between 1"),
    (["query", "class", "dragons"], 1, "unknown class"),
    (["query", "cone", "10", "0", "5", "--since", "soon"], 1, "cannot read date"),
    (["query", "latest", "--format", "parquet"], 1, "--output"),
    (["query", "cone", "ten", "0", "5"], 2, "invalid float"),
])
def test_bad_input_is_a_clear_error(config, capsys, argv, status, message):
    assert main(["--config", config, *argv]) == status
    assert message in capsys.readouterr().err
