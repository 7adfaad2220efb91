"""Real alerts of every schema version in shared data, loaded once per test run."""

from __future__ import annotations

import pytest

FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")


@pytest.fixture(scope="session")
def file_messages(shared_data):
    """``{folder: [AlertMessage, ...]}`` for the four alert folders."""
    from fink_like.surveys.files import load_file_messages

    return {folder: load_file_messages(shared_data / folder) for folder in FOLDERS}
