"""API fixtures: an embedded archive holding real alerts, and a TestClient over it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from portal_data import sky_edge_alerts, write_archive  # noqa: E402

from fink_like.archive.writer import ArchiveWriter  # noqa: E402
from fink_like.config import load_settings  # noqa: E402


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
    """The API alerts (and the sky-edge copies) with provenance and a cross-match."""
    import pyarrow as pa

    api_alerts = sky_edge_alerts(api_alerts)
    ids = api_alerts.column("alert_id").to_pylist()
    table = api_alerts.append_column("xm_vsx_name", pa.array(["V* demo" if i % 5 == 0 else None for i in ids]))
    return table.append_column("provenance", pa.array(
        [[{"module": "snia", "version": "0.1", "model_hash": "9f2c", "status": "ok", "error": None}]] * len(ids)))


@pytest.fixture(scope="module")
def portal_settings(tmp_path_factory, portal_alerts):
    return write_archive(tmp_path_factory.mktemp("portal"), portal_alerts)


@pytest.fixture(scope="module")
def portal(portal_settings):
    """A TestClient over the portal archive (public reading, no rate limit)."""
    from fink_like.api import create_app

    with TestClient(create_app(portal_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def live_portal(portal_settings):
    """The application served by uvicorn on a free loopback port, in a thread; stopped at the end.

    The socket listens before the server thread starts, so the first request simply waits
    in the accept queue: no polling for readiness.
    """
    import socket
    import threading

    import uvicorn

    from fink_like.api import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(create_app(portal_settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium driven by Playwright (``make browser`` installs it)."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail("/usr/bin/chromium is missing: run `make browser` (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()
