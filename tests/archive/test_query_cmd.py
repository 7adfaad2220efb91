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


@pytest.mark.parametrize("argv, message", [
    (["query", "cone", "10", "95", "5"], "dec 95.0 is outside"),
    (["query", "cone", "10", "0", "-5"], "must be positive"),
    (["query", "cone", "nan", "0", "5"], "not a finite number"),
    (["query", "latest", "--limit", "0"], "at least 1"),
    (["query", "class", "dragons"], "unknown class"),
    (["query", "cone", "10", "0", "5", "--since", "soon"], "cannot read date"),
    (["query", "latest", "--format", "parquet"], "--output"),
    (["query", "cone", "ten", "0", "5"], "not a number"),
    (["query", "latest", "--output", "/no/such/folder/out.csv"], "does not exist"),
    (["query", "latest", "--output", "/tmp"], "is a folder"),
    (["query", "latest", "--output", "/proc/version"], "cannot write"),
])
def test_bad_input_is_a_usage_error(config, capsys, argv, message):
    """Every bad argument of a query exits 2 with one line naming it, no traceback."""
    assert main(["--config", config, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_class_until_and_dates_with_an_offset(config, alerts, capsys):
    """``--until`` on ``query class``; an ISO date with an offset is converted to UTC."""
    argv = ["--config", config, "query", "class", "unclassified", "--format", "json", "--limit", "10000"]
    assert main(argv) == 0
    every = json.loads(capsys.readouterr().out)
    mjds = sorted(r["mjd"] for r in every)
    cut = mjds[len(mjds) // 2]
    assert main([*argv, "--until", repr(cut)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert sorted(r["alert_id"] for r in got) == sorted(r["alert_id"] for r in every if r["mjd"] <= cut)
    assert 0 < len(got) < len(every)
    from astropy.time import Time

    utc = Time(cut, format="mjd").to_datetime()
    shifted = (utc.replace(microsecond=0) + __import__("datetime").timedelta(hours=2)).isoformat() + "+02:00"
    from fink_like.archive.query import parse_time

    assert parse_time(shifted) == pytest.approx(Time(utc.replace(microsecond=0)).mjd, abs=1e-9)


def test_missing_archive_is_refused_and_not_created(tmp_path, capsys):
    """Reading an archive that does not exist creates nothing and says where runs put theirs."""
    path = tmp_path / "nowhere" / "archive.sqlite"
    conf = tmp_path / "c.yaml"
    conf.write_text(yaml.safe_dump({"archive": {"path": str(path)}}))
    assert main(["--config", str(conf), "query", "latest"]) == 1
    err = capsys.readouterr().err
    assert f"archive not found: {path}" in err and "run" in err
    assert not path.parent.exists()
