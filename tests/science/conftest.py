"""Fixtures of the science tests: real alerts and a clean module cache per test."""

from __future__ import annotations

import pyarrow as pa
import pytest


@pytest.fixture(scope="session")
def real_alerts(shared_data) -> pa.Table:
    """25 real alerts of each survey and schema version (100 rows)."""
    from fink_like.science.samples import real_sample

    return real_sample(shared_data, per_folder=25)


@pytest.fixture(autouse=True)
def _fresh_module_cache():
    from fink_like.science.registry import clear_cache

    clear_cache()
    yield
    clear_cache()
