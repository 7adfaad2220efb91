"""Real alerts after real science modules, published once for the client tests."""

import uuid

import pytest


@pytest.fixture(scope="module")
def published(shared_data, kafka_bootstrap):
    """One topic holding 90 real enriched alerts (thin), and its schema topic."""
    from fink_like.config import FilterSpec, ModuleSpec
    from fink_like.distribution import publish
    from fink_like.filters.engine import FilterEngine
    from fink_like.science.runner import ScienceRunner
    from fink_like.surveys.files import read_alert_files

    paths = sorted((shared_data / "ztf" / "alerts-4.02").glob("*.avro"))[:70]
    paths += sorted((shared_data / "lsst" / "alerts-9.0").glob("*.avro"))[:20]
    table = ScienceRunner([ModuleSpec(name="microlensing")]).process(read_alert_files(paths))
    topic, schema_topic = f"client-{uuid.uuid4().hex[:6]}", f"schemas-{uuid.uuid4().hex[:6]}"
    engine = FilterEngine([FilterSpec(name="all", topic=topic, expression="ndethist >= 1", cutouts=False)],
                          table.schema)
    counts = publish(table, engine, {"bootstrap.servers": kafka_bootstrap}, schema_topic=schema_topic)
    assert counts == {topic: table.num_rows}
    return {"topic": topic, "schema_topic": schema_topic, "table": table}
