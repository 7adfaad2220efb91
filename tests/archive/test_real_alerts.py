"""The archive on real ZTF and Rubin alerts: light curves, cutouts, cone search at the edges."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from archive_matrix import BACKENDS, backend_settings
from fink_like.archive.query import Archive
from fink_like.archive.writer import ArchiveWriter
from fink_like.surveys import decode_packet


def shifted(table: pa.Table, ra, dec, tag: str, id_offset: int) -> pa.Table:
    """Real alert rows moved to new positions, with new alert and object ids."""
    n = table.num_rows
    out = table.set_column(table.column_names.index("ra"), "ra", pa.array(np.asarray(ra) % 360.0))
    out = out.set_column(out.column_names.index("dec"), "dec", pa.array(np.asarray(dec, dtype=float)))
    out = out.set_column(out.column_names.index("alert_id"), "alert_id",
                         pc.add(out.column("alert_id"), pa.scalar(id_offset, pa.int64())))
    out = out.set_column(out.column_names.index("object_id"), "object_id",
                         pa.array([f"{o}-{tag}" for o in out.column("object_id").to_pylist()]))
    return out.set_column(out.column_names.index("packet"), "packet", pa.array([b""] * n, pa.binary()))


@pytest.fixture(scope="module", params=BACKENDS)
def archived(request, tmp_path_factory, real_alerts):
    """Real alerts plus real rows moved to RA=0/360 and both poles, archived once per backend."""
    archive_settings = backend_settings(request, tmp_path_factory.mktemp("archived"))
    rng = np.random.default_rng(7)
    base = real_alerts.slice(0, 80)
    n = base.num_rows
    edges = [
        shifted(base, rng.uniform(-0.08, 0.08, n), rng.uniform(19.92, 20.08, n), "ra0", 1),
        shifted(base, rng.uniform(0, 360, n), rng.uniform(89.9, 90.0, n), "np", 2),
        shifted(base, rng.uniform(0, 360, n), rng.uniform(-90.0, -89.9, n), "sp", 3),
    ]
    table = pa.concat_tables([real_alerts, *edges], promote_options="default")
    writer = ArchiveWriter(archive_settings)
    for start in range(0, table.num_rows, 200):
        writer.write(table.slice(start, 200))
    archive = Archive(archive_settings)
    yield archive, table
    writer.close()
    archive.close()


def test_light_curves_are_complete_and_time_ordered(archived, real_alerts):
    archive, _ = archived
    df = real_alerts.select(["object_id", "alert_id", "mjd", "survey", "flux"]).to_pandas()
    counts = df.object_id.value_counts()
    for oid in list(counts[counts > 1].index) + list(counts[counts == 1].index[:5]):
        got = archive.object(oid).table.to_pandas()
        expected = df[df.object_id == oid].sort_values(["mjd", "alert_id"])
        assert got.alert_id.tolist() == expected.alert_id.tolist()
        assert got.flux.tolist() == pytest.approx(expected.flux.tolist(), nan_ok=True)


def test_cutouts_are_the_packet_stamps(archived, real_alerts):
    archive, _ = archived
    for i in (0, real_alerts.num_rows - 1):
        aid = real_alerts.column("alert_id")[i].as_py()
        adapter, record = decode_packet(real_alerts.column("packet")[i].as_py())
        stamps = adapter.cutouts(record)
        for kind in ("science", "template", "difference"):
            assert archive.cutout(aid, kind) == stamps[kind]


def test_upper_limits_come_from_ul_columns(archived, real_alerts):
    archive, _ = archived
    df = real_alerts.select(["object_id", "ul_mjd", "ul_band"]).to_pandas()
    row = df[df.ul_mjd.map(len) > 0].iloc[0]
    expected = sorted({(m, b) for ms, bs in zip(df.ul_mjd[df.object_id == row.object_id],
                                               df.ul_band[df.object_id == row.object_id])
                       for m, b in zip(ms, bs)})
    got = archive.upper_limits(row.object_id).to_pandas()
    assert list(zip(got.mjd, got.band)) == expected


@pytest.mark.parametrize("ra, dec, radius", [
    (0.0, 20.0, 120.0), (359.98, 20.02, 200.0), (0.03, 19.97, 3600.0), (180.0, 89.97, 300.0),
    (17.0, 90.0, 150.0), (250.0, -89.95, 400.0), (0.0, -90.0, 90.0), (None, None, 30.0),
])
def test_cone_equals_brute_force(archived, ra, dec, radius):
    archive, table = archived
    if ra is None:  # around a real alert position
        ra, dec = table.column("ra")[3].as_py(), table.column("dec")[3].as_py()
    coords = SkyCoord(np.asarray(table.column("ra")) * u.deg, np.asarray(table.column("dec")) * u.deg)
    sep = coords.separation(SkyCoord(ra * u.deg, dec * u.deg)).arcsec
    expected = set(np.asarray(table.column("alert_id"))[sep <= radius].tolist())
    assert expected, "the test needs alerts inside the cone"
    got = archive.cone(ra, dec, radius, limit=10000).table
    assert set(got.column("alert_id").to_pylist()) == expected
    assert got.num_rows == len(expected)


def test_cone_time_window(archived):
    archive, table = archived
    ra, dec = 0.0, 20.0
    coords = SkyCoord(np.asarray(table.column("ra")) * u.deg, np.asarray(table.column("dec")) * u.deg)
    sep = coords.separation(SkyCoord(ra * u.deg, dec * u.deg)).arcsec
    mjd = np.asarray(table.column("mjd"))
    lo, hi = np.quantile(mjd[sep <= 600], [0.25, 0.75])
    inside = (sep <= 600) & (mjd >= lo) & (mjd <= hi)
    got = archive.cone(ra, dec, 600, since=lo, until=hi, limit=10000).table
    assert set(got.column("alert_id").to_pylist()) == set(np.asarray(table.column("alert_id"))[inside])
