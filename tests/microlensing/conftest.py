"""Fixtures of the microlensing tests: the loaded module and the real alerts."""

from __future__ import annotations

import pyarrow as pa
import pytest

ALERT_FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")


@pytest.fixture(scope="session")
def all_real_alerts(shared_data) -> pa.Table:
    """Every real alert of both surveys (922 rows), decoded to the canonical view."""
    from fink_like.surveys import read_alert_files

    return read_alert_files([shared_data / folder for folder in ALERT_FOLDERS])


@pytest.fixture(scope="session")
def mulens():
    """The microlensing module with its packaged model, loaded once."""
    from fink_like_microlensing.module import MicrolensingModule

    module = MicrolensingModule()
    module.load({})
    return module
