"""API fixtures: an embedded archive holding real alerts, and a TestClient over it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fink_like.archive.writer import ArchiveWriter
from fink_like.config import load_settings


@pytest.fixture(scope="session")
def api_alerts(shared_data):
    """Real ZTF and Rubin alerts (with cutouts) and a deterministic SN Ia score."""
    import numpy as np
    import pyarrow as pa

    from fink_like.surveys import read_alert_files

    table = read_alert_files([shared_data / "ztf/alerts-3.3", shared_data / "lsst/alerts-9.0"])
    ids = np.asarray(table.column("alert_id"))
    return table.append_column("snia_prob", pa.array((ids % 89) / 88.0))


@pytest.fixture(scope="module")
def client(tmp_path_factory, api_alerts):
    from fink_like.api import create_app

    path = tmp_path_factory.mktemp("api") / "archive.sqlite"
    settings = load_settings(None, env={}, overrides={
        "archive": {"path": str(path)}, "api": {"max_results": 500, "default_limit": 50}})
    writer = ArchiveWriter(settings)
    writer.write(api_alerts)
    writer.close()
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def portal_alerts(api_alerts):
    """The API alerts with provenance and a cross-match, as the science stage writes them."""
    import pyarrow as pa

    ids = api_alerts.column("alert_id").to_pylist()
    table = api_alerts.append_column("xm_vsx_name", pa.array(["V* demo" if i % 5 == 0 else None for i in ids]))
    return table.append_column("provenance", pa.array(
        [[{"module": "snia", "version": "0.1", "model_hash": "9f2c", "status": "ok", "error": None}]] * len(ids)))


def write_archive(folder, alerts, **api):
    """Settings of a fresh embedded archive holding ``alerts``; ``api`` overrides api.* keys."""
    settings = load_settings(None, env={}, overrides={
        "archive": {"path": str(folder / "archive.sqlite")},
        "api": {"max_results": 500, "default_limit": 50, **api}})
    writer = ArchiveWriter(settings)
    writer.write(alerts)
    writer.close()
    return settings


@pytest.fixture(scope="module")
def portal_settings(tmp_path_factory, portal_alerts):
    return write_archive(tmp_path_factory.mktemp("portal"), portal_alerts)


@pytest.fixture(scope="module")
def portal(portal_settings):
    """A TestClient over the portal archive (public reading, no rate limit)."""
    from fink_like.api import create_app

    with TestClient(create_app(portal_settings)) as test_client:
        yield test_client
