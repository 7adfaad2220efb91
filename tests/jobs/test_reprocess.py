"""Batch reprocessing: a night range of a real raw lake, swapped into the science lake.

The lake holds the real ZTF 3.3 alerts (164 alerts over six nights); the "streaming"
science lake and archive are first written with ``microlensing`` only, then nights
2019-01-01 .. 2020-01-01 (three nights, 52 alerts) are reprocessed with ``snia``, a
module the configuration does not enable. Expected values come from the snia module
called directly on the rows that pass the quality cut, selected with pandas.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import yaml

from fink_like.archive.backends import open_archive
from fink_like.archive.codec import decode_cells
from fink_like.archive.writer import ArchiveWriter
from fink_like.cli import main
from fink_like.jobs import lake
from fink_like.jobs.reprocess import STAGING, State, reprocess
from fink_like.jobs.stages import Pipeline

SINCE, UNTIL = "2019-01-01", "20200101"
RANGE = ("20190110", "20191115", "20200101")
CUT = "rb >= 0.55 and nbad = 0"


@pytest.fixture(scope="module")
def raw_alerts(shared_data) -> pa.Table:
    from fink_like.surveys import read_alert_files

    return read_alert_files(shared_data / "ztf" / "alerts-3.3")


@pytest.fixture
def streamed(make_settings, raw_alerts, tmp_path):
    """Settings, and a raw lake, science lake and archive as the streaming jobs left them."""
    settings = make_settings(science={
        "quality_cuts": {"ztf": CUT},
        "modules": [{"name": "microlensing"},
                    {"name": "snia", "enabled": False, "params": {"model_dir": str(tmp_path / "snia")}}],
    })
    lake.write_partitioned(raw_alerts, settings.lake_path("raw"), lake.file_name(0, 0))
    stream = Pipeline(settings, "raw", ("science",))
    stream.run_partition(raw_alerts, 0, 0)
    ArchiveWriter(settings).write(lake.read_lake(settings.lake_path("science")))
    return settings


def expected_snia(raw_alerts: pa.Table, tmp_path: Path) -> dict[int, float | None]:
    """alert_id -> P(SN Ia) for the range's alerts: snia run directly on the rows passing the cut."""
    from fink_like_snia.module import SniaModule

    d = raw_alerts.to_pandas()
    d = d[d.night.isin(RANGE)]
    passed = d[(d.rb >= 0.55) & (d.nbad == 0)]
    module = SniaModule()
    module.load({"model_version": "v1", "model_dir": str(tmp_path / "snia")})
    rows = raw_alerts.take(pa.array(passed.index.to_numpy()))
    probs = module.process(rows.select(list(SniaModule.inputs)))["snia_prob"]
    out = {int(a): None for a in d.alert_id}
    out.update({int(a): float(p) for a, p in zip(passed.alert_id, np.asarray(probs))})
    return out


def science_files(settings) -> dict[str, bytes]:
    """Every visible file of the science lake (relative path -> bytes)."""
    root = Path(settings.lake_path("science"))
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.parquet")
            if not any(part.startswith(".") for part in p.relative_to(root).parts)}


def archive_rows(settings) -> dict[bytes, dict]:
    backend = open_archive(settings)
    try:
        return {k: decode_cells(c) for k, c in backend.scan(f"{settings.archive.table_prefix}_alerts")}
    finally:
        backend.close()


def check_reprocessed(settings, raw_alerts, before: dict[str, bytes], expected: dict) -> None:
    """Range nights: every alert once, snia outputs; other nights: files untouched; archive."""
    after = science_files(settings)
    outside = {k: v for k, v in before.items() if not any(n in k for n in RANGE)}
    assert {k: v for k, v in after.items() if not any(n in k for n in RANGE)} == outside
    assert not (Path(settings.lake_path("science")) / STAGING).exists() or not any(
        (Path(settings.lake_path("science")) / STAGING).rglob("*.parquet"))

    got = lake.read_lake(settings.lake_path("science"), nights=RANGE).to_pandas()
    assert sorted(got.alert_id) == sorted(expected), "every alert of the range exactly once"
    assert "mulens_prob" not in got.columns or got.mulens_prob.isna().all()
    assert all([p["module"] for p in row] == ["snia"] for row in got.provenance)
    for aid, prob, prov in zip(got.alert_id, got.snia_prob, got.provenance):
        if expected[aid] is None:
            assert np.isnan(prob) and prov[0]["status"] == "skipped"
        else:
            assert prob == pytest.approx(expected[aid], abs=1e-12) and prov[0]["status"] == "ok"
            assert prov[0]["model_hash"] and prov[0]["version"]
    others = lake.read_lake(settings.lake_path("science")).to_pandas()
    others = others[~others.night.isin(RANGE)]
    assert len(others) == raw_alerts.num_rows - len(expected) and others.snia_prob.isna().all()

    rows = archive_rows(settings)
    assert len(rows) == raw_alerts.num_rows, "upserts add no archive rows"
    by_id = {r["alert_id"]: r for r in rows.values()}
    for aid, prob in expected.items():
        assert by_id[aid].get("snia_prob") == (None if prob is None else pytest.approx(prob, abs=1e-12))
        assert [p["module"] for p in by_id[aid]["provenance"]] == ["snia"]
        assert "mulens_prob" in by_id[aid] or by_id[aid]["provenance"][0]["status"] == "skipped"
    assert all("snia_prob" not in r for r in rows.values() if r["alert_id"] not in expected)


@pytest.mark.spark
def test_reprocess_cli_then_rerun_is_identical(spark, streamed, raw_alerts, tmp_path, capsys):
    settings = streamed
    before = science_files(settings)
    expected = expected_snia(raw_alerts, tmp_path)
    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))

    status = main(["--config", str(config), "reprocess", "--since", SINCE, "--until", UNTIL,
                   "--modules", "snia", "--module-params", '{"snia": {"model_version": "v1"}}'])
    out, err = capsys.readouterr()
    assert status == 0, err
    summary = json.loads(out)
    assert (summary["nights_total"], summary["nights_done"], summary["nights_skipped"]) == (3, 3, 0)
    assert summary["alerts"] == summary["archived"] == len(expected) == 52
    assert summary["quality_rejected"] == sum(v is None for v in expected.values())
    assert all(f"night {n}" in err for n in RANGE) and "3/3 nights" in err
    check_reprocessed(settings, raw_alerts, before, expected)

    lake_once, archive_once = science_files(settings), archive_rows(settings)
    params = {"snia": {"model_version": "v1"}}
    again = reprocess(settings, SINCE, UNTIL, modules=["snia"], module_params=params)
    assert (again["nights_done"], again["nights_skipped"]) == (0, 3)
    redone = reprocess(settings, SINCE, UNTIL, modules=["snia"], module_params=params, restart=True)
    assert redone["nights_done"] == 3
    assert science_files(settings) == lake_once, "same files, byte for byte"
    assert archive_rows(settings) == archive_once
    check_reprocessed(settings, raw_alerts, before, expected)


@pytest.mark.spark
def test_crash_after_first_night_then_resume(spark, streamed, raw_alerts, tmp_path):
    settings = streamed
    before = science_files(settings)
    expected = expected_snia(raw_alerts, tmp_path)

    class Crash(Exception):
        pass

    def crash(event: str, night: str) -> None:
        if (event, night) == ("staged", RANGE[1]):
            raise Crash(night)

    # Small file splits: a night's file spans several tasks, most of them holding no row group.
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(512 * 1024))
    try:
        with pytest.raises(Crash):
            reprocess(settings, SINCE, UNTIL, modules=["snia"], hook=crash)
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    state = State(f"{settings.spark.checkpoint_dir}/reprocess")
    assert sorted(state.nights) == [RANGE[0]]
    mid = lake.read_lake(settings.lake_path("science"), nights=[RANGE[1]]).to_pandas()
    assert "snia" not in {p["module"] for row in mid.provenance for p in row}, "not swapped in"

    # Leave a stray file of another night in the interrupted night's staging area: a
    # rerun must start that night from scratch, not swap the stray file in.
    staging = Path(settings.lake_path("science")) / STAGING / f"night={RANGE[1]}"
    stray = next(k for k in before if "20211122" in k)
    (staging / "part-stray.parquet").write_bytes(before[stray])

    resumed = reprocess(settings, SINCE, UNTIL, modules=["snia"])
    assert (resumed["nights_done"], resumed["nights_skipped"]) == (2, 1)
    assert sorted(resumed["nights"]) == list(RANGE[1:])
    check_reprocessed(settings, raw_alerts, before, expected)


@pytest.mark.parametrize("argv, message", [
    (["--since", "2020-02-30", "--until", "2020-03-01"], "invalid date '2020-02-30'"),
    (["--since", "yesterday", "--until", "2020-03-01"], "invalid date 'yesterday'"),
    (["--since", "20200302", "--until", "2020-03-01"], "is after --until"),
    (["--since", "20200301", "--until", "20200302", "--modules", "nope"], "unknown science module 'nope'"),
    (["--since", "20200301", "--until", "20200302", "--modules", "snia", "snia"], "twice"),
    (["--since", "20200301", "--until", "20200302", "--modules", "snia", "--module-params",
      '{"bnn": {}}'], "not run"),
    (["--since", "20200301", "--until", "20200302", "--module-params", "{oops"], "not valid JSON"),
    (["--since", "20200301", "--until", "20200302", "--resume", "--restart"], "not allowed with"),
    (["--until", "20200302"], "--since"),
])
def test_bad_arguments_exit_2(argv, message, capsys):
    assert main(["reprocess", *argv]) == 2
    assert message in capsys.readouterr().err
