"""Archive fixtures: the backend matrix (embedded, hbase over Thrift) and alert tables.

``archive_settings`` is parametrised: ``embedded`` is the SQLite store; ``hbase`` is the
happybase backend talking Thrift to the test double in ``hbase_thrift_double.py``, or to
a real HBase Thrift server when ``FINK_LIKE_TEST_HBASE=host:port`` is set.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from archive_matrix import BACKENDS, backend_settings  # noqa: E402

from fink_like.surveys.canonical import CANONICAL_SCHEMA  # noqa: E402



@pytest.fixture(scope="module")
def thrift_double(tmp_path_factory):
    """TEST DOUBLE of HBase's Thrift gateway (see hbase_thrift_double.py), one per module."""
    from hbase_thrift_double import ThriftDouble

    from fink_like.archive.backends.embedded import EmbeddedBackend

    store = EmbeddedBackend(tmp_path_factory.mktemp("hbase") / "double.sqlite")
    server = ThriftDouble(store).start()
    try:
        yield server
    finally:
        server.stop()
        store.close()


@pytest.fixture(params=BACKENDS)
def archive_settings(request, tmp_path):
    """Settings for a fresh, empty archive on each backend of the matrix."""
    return backend_settings(request, tmp_path)


def synthetic_alerts(n_objects: int = 12, per_object: int = 4, seed: int = 1) -> pa.Table:
    """A small hand-made enriched table: canonical columns, module outputs, provenance."""
    rng = np.random.default_rng(seed)
    rows = []
    alert_id = 1_000_000
    for o in range(n_objects):
        ra0, dec0 = rng.uniform(0, 360), rng.uniform(-80, 80)
        mjds = np.sort(rng.uniform(60000, 60100, per_object))
        for j, mjd in enumerate(rng.permutation(mjds)):
            alert_id += int(rng.integers(1, 1000))
            rows.append(_row(f"ZTF24obj{o:04d}", alert_id, float(mjd), ra0 + rng.normal(0, 1e-4),
                             dec0 + rng.normal(0, 1e-4), rng, j))
    return table_from_rows(rows)


def _row(oid, aid, mjd, ra, dec, rng, j):
    row = {name: None for name in CANONICAL_SCHEMA.names}
    row.update(survey="ztf", schema_version="4.02", alert_id=aid, object_id=oid, source_id=aid,
               mjd=mjd, ra=ra % 360, dec=dec, band="gr"[j % 2], flux=float(rng.normal(1e4, 10)),
               mag=float(rng.uniform(17, 20)), isdiffpos=True, ndethist=j + 1, night="20240101",
               lc_mjd=[mjd - 1, mjd], lc_band=["g", "r"], lc_flux=[1.0, float("nan")],
               ul_mjd=[mjd - 5, mjd - 3], ul_band=["g", "r"], ul_maglim=[20.1, 20.4],
               ingest_time=1_700_000_000_000 + j, packet=b"")
    row.update(snia_prob=float(rng.uniform()), mulens_prob=float(rng.uniform()),
               xm_vsx_name="V* X" if rng.uniform() < 0.2 else None,
               my_annotation=f"note{j}",
               provenance=[{"module": "snia", "version": "1.0", "model_hash": "abc", "status": "ok",
                            "error": None}])
    return row


def table_from_rows(rows: list[dict]) -> pa.Table:
    extra = [k for k in rows[0] if k not in CANONICAL_SCHEMA.names]
    canonical = pa.Table.from_pylist(
        [{k: r[k] for k in CANONICAL_SCHEMA.names} for r in rows], schema=CANONICAL_SCHEMA)
    for name in extra:
        canonical = canonical.append_column(name, pa.array([r[name] for r in rows]))
    return canonical


@pytest.fixture
def alerts() -> pa.Table:
    return synthetic_alerts()


@pytest.fixture(scope="session")
def real_alerts(shared_data) -> pa.Table:
    """Real ZTF and Rubin alerts (every multi-alert object plus others), with module outputs.

    Module outputs are deterministic functions of the alert id: the archive treats them
    generically, so their values only need to be known, not scientific.
    """
    from fink_like.surveys import read_alert_files

    folders = ["ztf/alerts-4.02", "ztf/alerts-3.3", "lsst/alerts-9.0", "lsst/alerts-7.4"]
    table = read_alert_files([shared_data / f for f in folders])
    counts = table.group_by("object_id").aggregate([("alert_id", "count")]).to_pandas()
    repeated = set(counts.object_id[counts.alert_id_count > 1])
    objects = table.column("object_id").to_pylist()
    surveys = table.column("survey").to_pylist()
    keep = [i for i, o in enumerate(objects) if o in repeated or i % 12 == 0 or
            (surveys[i] == "lsst" and i % 5 == 0)]
    table = table.take(keep)
    ids = np.asarray(table.column("alert_id").to_pylist())
    table = table.append_column("snia_prob", pa.array((ids % 97) / 96.0))
    table = table.append_column("xm_vsx_name", pa.array(["V* demo" if i % 7 == 0 else None for i in ids]))
    return table.append_column("provenance", pa.array(
        [[{"module": "snia", "version": "0.1", "model_hash": "h", "status": "ok", "error": None}]] * len(ids)))
