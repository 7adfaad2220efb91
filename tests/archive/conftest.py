"""Archive fixtures: the backend matrix (embedded, hbase over Thrift) and alert tables.

``archive_settings`` is parametrised: ``embedded`` is the SQLite store; ``hbase`` is the
happybase backend talking Thrift to the test double in ``hbase_thrift_double.py``, or to
a real HBase Thrift server when ``FINK_LIKE_TEST_HBASE=host:port`` is set.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fink_like.surveys.canonical import CANONICAL_SCHEMA  # noqa: E402

REAL_HBASE = os.environ.get("FINK_LIKE_TEST_HBASE")


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


@pytest.fixture(params=["embedded", "hbase"])
def archive_settings(request, make_settings):
    """Settings for a fresh, empty archive on each backend of the matrix."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    if request.param == "embedded":
        return make_settings(archive={"backend": "embedded", "table_prefix": prefix})
    if REAL_HBASE:
        host, _, port = REAL_HBASE.rpartition(":")
        return make_settings(archive={"backend": "hbase", "hbase_host": host, "hbase_port": int(port),
                                      "table_prefix": prefix})
    double = request.getfixturevalue("thrift_double")
    return make_settings(archive={"backend": "hbase", "hbase_host": "127.0.0.1",
                                  "hbase_port": double.port, "table_prefix": prefix, "retries": 0})


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
