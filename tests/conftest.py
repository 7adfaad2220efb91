"""Session-wide fixtures: real data, one embedded Kafka, one Spark session, settings.

Services start on free loopback ports and always stop at the end of the session.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FINK_LIKE_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real ZTF and Rubin alerts and catalogues (never copied into the repo)."""
    if not (SHARED_DATA / "ztf").is_dir():
        pytest.fail(f"real alert data not found at {SHARED_DATA}: clone the project beside ../shared")
    return SHARED_DATA


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    """One embedded tansu broker for the whole run; yields the EmbeddedKafka handle."""
    from fink_like.kafka.embedded import EmbeddedKafka

    broker = EmbeddedKafka(tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker) -> str:
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One Spark session per test run (local[2]); workers use this interpreter."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from fink_like.config import load_settings
    from fink_like.jobs.spark import get_spark

    work = tmp_path_factory.mktemp("spark")
    settings = load_settings(None, env={}, overrides={"spark": {"checkpoint_dir": str(work / "ckpt")}})
    session = get_spark(settings)
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def make_settings(tmp_path):
    """Settings rooted in a fresh temporary folder, with nested overrides."""
    from fink_like.config import load_settings

    def factory(**overrides):
        base = {
            "lake": {"root": str(tmp_path / "lake")},
            "spark": {"checkpoint_dir": str(tmp_path / "ckpt")},
            "archive": {"path": str(tmp_path / "archive.sqlite")},
            "kafka": {"embedded_dir": str(tmp_path / "kafka")},
            "mm": {"store": {"path": str(tmp_path / "events.sqlite")}},
        }
        for section, values in overrides.items():
            base.setdefault(section, {}).update(values)
        return load_settings(None, env={}, overrides=base)

    return factory
