"""Filters read the other survey's counterpart (``other_*``) through the stream's own view."""

import pyarrow as pa

from fink_like.archive.association import Associator
from fink_like.archive.backends import open_backend
from fink_like.filters.store import user_filter
from fink_like.jobs.stages import Pipeline


def test_filter_on_other_columns(make_settings):
    settings = make_settings()
    rows = {"survey": ["ztf", "lsst", "ztf"], "object_id": ["ZTF24a", "777", "ZTF24b"], "alert_id": [1, 2, 3],
            "mjd": [60000.0, 60001.0, 60001.0], "ra": [10.0, 10.0 + 1e-4, 50.0], "dec": [0.0, 0.0, 0.0],
            "mag": [19.0, 17.5, 18.0], "band": ["g", "r", "g"], "ndethist": [1, 1, 1]}
    archived = pa.table(rows)
    backend = open_backend(settings)
    Associator(backend, settings.archive.table_prefix).update(archived)  # 0.36" apart: one group
    backend.close()
    spec = user_filter({"name": "brighter_in_rubin", "topic": "t", "owner": "o",
                        "expression": "survey = 'ztf' and other_mag < mag - 1"})
    pipeline = Pipeline(settings, "science", ("distribute",), user_filters=(spec,))
    new = pa.table({**rows, "alert_id": [4, 5, 6], "mag": [19.0, 18.0, 20.0]})
    engine = pipeline._engine(new.schema)
    masks = engine.evaluate(pipeline.filter_view(new, engine))
    assert masks["brighter_in_rubin"].to_pylist() == [True, False, False]
    assert engine.filters[0].version == 0 and not engine.load_failures
