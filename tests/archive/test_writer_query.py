"""Writer and queries on every backend, against expectations computed with pandas/astropy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from fink_like.archive import model
from fink_like.archive.query import Archive
from fink_like.archive.writer import ArchiveWriter
from fink_like.errors import ArchiveError, QueryError


@pytest.fixture
def filled(archive_settings, alerts):
    writer = ArchiveWriter(archive_settings)
    assert writer.write(alerts) == alerts.num_rows
    archive = Archive(archive_settings)
    yield archive, alerts.to_pandas(), writer
    writer.close()
    archive.close()


def _all_keys(archive, which):
    return [k for k, _ in archive.backend.scan(archive._table(which))]


def test_object_query_is_the_complete_time_ordered_light_curve(filled):
    archive, df, _ = filled
    for oid, group in df.groupby("object_id"):
        got = archive.object(oid).table.to_pandas()
        expected = group.sort_values(["mjd", "alert_id"])
        assert got["alert_id"].tolist() == expected["alert_id"].tolist()
        assert got["mjd"].tolist() == expected["mjd"].tolist()
        assert got["my_annotation"].tolist() == expected["my_annotation"].tolist()
        assert got["provenance"].tolist()[0] == list(expected["provenance"].iloc[0])
    assert archive.object("ZTF99nothing").table.num_rows == 0


def test_values_round_trip(filled):
    archive, df, _ = filled
    row = df.iloc[5]
    got = archive.object(row.object_id).table.to_pandas().set_index("alert_id").loc[row.alert_id]
    for col in ("ra", "dec", "flux", "mag", "snia_prob", "band", "ingest_time"):
        assert got[col] == row[col], col
    assert np.isnan(got["lc_flux"][1]) and got["lc_mjd"].tolist() == list(row["lc_mjd"])
    assert got["class"] == model.classify(row.to_dict())


def test_replay_creates_no_duplicates(filled, alerts):
    archive, df, writer = filled
    before = {t: _all_keys(archive, t) for t in model.TABLES}
    writer.write(alerts.slice(3, 20))
    writer.write(alerts)
    after = {t: _all_keys(archive, t) for t in model.TABLES}
    assert after == before
    assert len(before["alerts"]) == len(before["time"]) == len(df)
    n_limits = len({(o, m, b) for o, ms, bs in zip(df.object_id, df.ul_mjd, df.ul_band)
                    for m, b in zip(ms, bs)})
    assert len(before["upperlim"]) == n_limits


def test_cone_equals_brute_force(filled):
    archive, df, _ = filled
    target = df.iloc[0]
    everything = SkyCoord(df.ra.values * u.deg, df.dec.values * u.deg)
    for radius in (1.0, 30.0, 3600.0 * 4):
        sep = everything.separation(SkyCoord(target.ra * u.deg, target.dec * u.deg)).arcsec
        expected = set(df.alert_id[sep <= radius])
        got = archive.cone(target.ra, target.dec, radius, limit=1000).table
        assert set(got.column("alert_id").to_pylist()) == expected
        np.testing.assert_allclose(sorted(got.column("separation_arcsec").to_pylist()),
                                   sorted(sep[sep <= radius]), atol=1e-6)


def test_class_latest_and_pagination(filled):
    archive, df, _ = filled
    df["class"] = [model.classify(r) for r in df.to_dict("records")]
    for label, group in df.groupby("class"):
        got = archive.by_class(label.upper(), limit=1000).table.to_pandas()
        assert got["alert_id"].tolist() == group.sort_values("mjd", ascending=False)["alert_id"].tolist()
        since = float(group.mjd.median())
        got = archive.by_class(label, since=since, limit=1000).table.column("alert_id").to_pylist()
        assert set(got) == set(group.alert_id[group.mjd >= since])
    newest = df.sort_values("mjd", ascending=False)
    pages, cursor = [], None
    while True:
        page = archive.latest(limit=7, cursor=cursor)
        pages += page.table.column("alert_id").to_pylist()
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == newest.alert_id.tolist()


@pytest.mark.parametrize("call, message", [
    (lambda a: a.cone(10, 91, 5), "dec"),
    (lambda a: a.cone(10, 0, -1), "positive"),
    (lambda a: a.cone(10, 0, 1e6), "too large"),
    (lambda a: a.cone("x", 0, 1), "numbers"),
    (lambda a: a.cone(10, 0, 5, since="yesterday-ish"), "cannot read date"),
    (lambda a: a.cone(10, 0, 5, since=60010, until=60000), "after"),
    (lambda a: a.latest(limit=0), "between 1"),
    (lambda a: a.latest(limit=10**9), "max_results"),
    (lambda a: a.latest(cursor="%%%"), "cursor"),
    (lambda a: a.by_class("dragons"), "unknown class"),
    (lambda a: a.object("bad_id"), "object id"),
    (lambda a: a.cutout(1, "sky"), "cutout"),
])
def test_bad_queries_raise_query_error(make_settings, call, message):
    archive = Archive(make_settings())
    with pytest.raises(QueryError, match=message):
        call(archive)


def test_bad_alert_tables_are_refused(make_settings, alerts):
    writer = ArchiveWriter(make_settings())
    with pytest.raises(ArchiveError, match="lacks column"):
        writer.write(alerts.drop_columns(["ra"]))
    bad = alerts.set_column(alerts.column_names.index("object_id"), "object_id",
                            pa.array(["has_underscore"] * alerts.num_rows))
    with pytest.raises(ArchiveError, match="object id"):
        writer.write(bad)


def test_writer_pickles_for_executors_and_reports_unreachable_hbase(archive_settings, alerts, make_settings):
    import pickle

    writer = pickle.loads(pickle.dumps(ArchiveWriter(archive_settings)))
    assert writer.write(alerts.slice(0, 5)) == 5
    assert Archive(archive_settings).latest(limit=100).table.num_rows == 5
    writer.close()
    dead = make_settings(archive={"backend": "hbase", "hbase_port": 1, "retries": 1})
    with pytest.raises(ArchiveError, match="after 2 attempts"):
        ArchiveWriter(dead).write(alerts)


def test_class_columns_are_every_column_the_class_rules_read():
    """build_rows classifies each alert from model.CLASS_COLUMNS alone: a rule reading any
    other column would be classified as if that column were null."""
    from fink_like.archive import model

    read = set()

    class Row(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    assert model.classify(Row()) == model.UNKNOWN_CLASS  # no rule matches: every rule reads all it needs
    assert read == set(model.CLASS_COLUMNS)
