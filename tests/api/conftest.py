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
