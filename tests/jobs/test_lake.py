"""The lake writer: night partitions, deterministic names, replays overwrite, reads unify schemas."""

import pyarrow as pa
import pyarrow.parquet as pq

from fink_like.jobs import lake


def _table(ids, nights, extra=None):
    data = {"alert_id": ids, "night": nights}
    if extra:
        data.update(extra)
    return pa.table(data)


def test_partitions_by_night_without_storing_the_column(tmp_path):
    area = str(tmp_path / "raw")
    counts = lake.write_partitioned(_table([1, 2, 3], ["20240101", "20240102", "20240101"]), area,
                                    lake.file_name(0, 0))
    assert counts == {"20240101": 2, "20240102": 1}
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "raw").rglob("*.parquet"))
    assert files == ["raw/night=20240101/part-b0000000000-p00000.parquet",
                     "raw/night=20240102/part-b0000000000-p00000.parquet"]
    stored = pq.read_table(tmp_path / files[0])
    assert stored.column_names == ["alert_id"]
    back = lake.read_lake(area)
    assert sorted(zip(back["alert_id"].to_pylist(), back["night"].to_pylist())) == [
        (1, "20240101"), (2, "20240102"), (3, "20240101")]


def test_replayed_batch_overwrites_its_own_files(tmp_path):
    area = str(tmp_path / "raw")
    table = _table([1, 2], ["20240101", "20240101"])
    for _ in range(3):  # the same batch id and partition, as after a crash and restart
        lake.write_partitioned(table, area, lake.file_name(7, 1))
    lake.write_partitioned(_table([3], ["20240101"]), area, lake.file_name(8, 1))
    assert sorted(lake.read_lake(area)["alert_id"].to_pylist()) == [1, 2, 3]
    assert not [p for p in (tmp_path / "raw").rglob(".*")], "no temporary file left behind"


def test_empty_table_writes_nothing_and_missing_area_reads_empty(tmp_path):
    area = str(tmp_path / "raw")
    assert lake.write_partitioned(_table([], []).cast(pa.schema([("alert_id", pa.int64()),
                                                                 ("night", pa.string())])),
                                  area, lake.file_name(0, 0)) == {}
    assert lake.read_lake(area).num_rows == 0


def test_files_with_new_columns_are_unified(tmp_path):
    area = str(tmp_path / "science")
    lake.write_partitioned(_table([1], ["20240101"]), area, lake.file_name(0, 0))
    lake.write_partitioned(_table([2], ["20240101"], {"new_score": [0.5]}), area, lake.file_name(1, 0))
    back = lake.read_lake(area).sort_by("alert_id")
    assert back["new_score"].to_pylist() == [None, 0.5]


def test_nights_filter_and_uri_forms(tmp_path):
    area = "file://" + str(tmp_path / "raw")
    lake.write_partitioned(_table([1, 2], ["20240101", "20240102"]), area, lake.file_name(0, 0))
    assert lake.read_lake(area, nights=["20240102"])["alert_id"].to_pylist() == [2]
