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


@pytest.fixture(scope="session")
def read_avro_independently(shared_data):
    """``read(path) -> dict``: one alert file read by fastavro alone, not by fink-like.

    ZTF 4.02 headers name types defined in ``ztf/schema-4.02``; those files are parsed
    first and the body is read by hand.
    """
    import io
    import json

    import fastavro

    folder = shared_data / "ztf" / "schema-4.02"
    named: dict = {}
    for name in ("cutout", "candidate", "prv_candidate", "fp_hist"):
        fastavro.parse_schema(json.loads((folder / f"{name}.avsc").read_text()), named_schemas=named)
    ztf402 = fastavro.parse_schema(json.loads((folder / "alert.avsc").read_text()), named_schemas=named)

    def read(path):
        data = path.read_bytes()
        try:
            return next(iter(fastavro.reader(io.BytesIO(data))))
        except ValueError:
            sync = data[-16:]
            stream = io.BytesIO(data[data.index(sync) + 16:])
            if fastavro.schemaless_reader(stream, "long") != 1:  # records in the block
                raise ValueError(f"{path}: expected one alert per file")
            fastavro.schemaless_reader(stream, "long")              # block size
            return fastavro.schemaless_reader(stream, ztf402)

    return read


@pytest.fixture
def publish_snia_version():
    """``publish(model_dir) -> "vN"``: a new snia version, as ``fink-like al retrain`` publishes one.

    The artifact is the shipped forest re-saved with a marker key (same scores, other
    bytes, so another hash): a stand-in for a real retrain, which takes minutes.
    """
    from fink_like_snia import model
    from fink_like_snia.module import SHIPPED, SHIPPED_METRICS

    from fink_like.science.active_learning import ModelRegistry

    def publish(model_dir) -> str:
        artifact = dict(model.load_artifact(SHIPPED), retrained_in_test=True)
        registry = ModelRegistry(model_dir, SHIPPED, SHIPPED_METRICS)
        return registry.publish(lambda path: model.save_artifact(artifact, path), {"note": "test retrain"})

    return publish


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
