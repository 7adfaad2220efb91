"""Shared check of the job tests: every alert exactly once in lakes and archive, topics as selected."""

from __future__ import annotations


def assert_exactly_once(settings, expected_ids, topic: str, filters):
    """Raw and science lakes and archive hold every alert once; each topic what its filter selects.

    ``filters`` are ``{"name", "select"}`` with ``select`` a pandas predicate over the
    science lake; topic ``<topic>.<name>``, schemas on ``<topic>.schemas``. Returns the
    science lake as a DataFrame.
    """
    from fink_like.archive import model
    from fink_like.archive.query import Archive
    from fink_like.client import consume
    from fink_like.jobs import lake
    from fink_like.kafka.conf import client_conf

    expected = sorted(expected_ids)
    raw = lake.read_lake(settings.lake_path("raw"), columns=["alert_id"])["alert_id"].to_pylist()
    assert sorted(raw) == expected, "raw lake: every alert exactly once"
    science = lake.read_lake(settings.lake_path("science")).to_pandas()
    assert sorted(science.alert_id) == expected, "science lake: every alert exactly once"
    archive = Archive(settings)
    keys = [k for k, _ in archive.backend.scan(model.table_name(settings.archive.table_prefix, "alerts"))]
    assert len(keys) == len(expected), "archive: one row per alert"
    conf = client_conf(settings.kafka)
    for f in filters:
        selected = set(science.loc[f["select"](science).fillna(False).astype(bool), "alert_id"].astype(str))
        got = {a.key for a in consume([f"{topic}.{f['name']}"], conf, from_beginning=True, until_end=True,
                                      idle_timeout=60.0, schema_topic=f"{topic}.schemas")}
        assert got == selected, f"topic {f['name']}: exactly what its filter selects (keys, at least once)"
    return science
