"""Data of the portal tests: alerts moved to the sky's edges, and archives written from tables."""

from __future__ import annotations

from fink_like.archive.writer import ArchiveWriter
from fink_like.config import load_settings

SKY_EDGES = {  # object id -> (ra, dec): beside RA 0 on both sides, and near the north pole
    "ZTF99wrapeast": (359.9990, 10.0), "ZTF99wrapwest": (0.0010, 10.0),
    "ZTF99polenear": (10.0, 89.995), "ZTF99polefar": (190.0, 89.998)}


def sky_edge_alerts(table):
    """Copies of real alerts moved beside RA 0 and the pole, with ids of their own."""
    import pyarrow as pa

    rows = table.slice(0, len(SKY_EDGES)).to_pylist()
    for i, (row, (oid, (ra, dec))) in enumerate(zip(rows, SKY_EDGES.items())):
        row.update(object_id=oid, ra=ra, dec=dec, alert_id=9_000_000_000_000 + i, source_id=9_000_000_000_000 + i)
    extra = pa.Table.from_pylist(rows, schema=table.schema)
    return pa.concat_tables([table, extra]).combine_chunks()


def write_archive(folder, alerts, **api):
    """Settings of a fresh embedded archive holding ``alerts``; ``api`` overrides api.* keys.

    The snia module is configured (not run: its outputs are in ``alerts``) so that the
    portal can tell which module wrote which column.
    """
    settings = load_settings(None, env={}, overrides={
        "archive": {"path": str(folder / "archive.sqlite")},
        "science": {"modules": [{"name": "snia"}]},
        "lake": {"root": str(folder / "lake")},
        "distribution": {"filters": [
            {"name": "sn", "topic": "t.sn", "expression": "snia_prob > 0.5 and ndethist >= 2"},
            {"name": "young", "topic": "t.young", "expression": "ndethist <= 3"}]},
        "api": {"max_results": 500, "default_limit": 50, **api}})
    writer = ArchiveWriter(settings)
    writer.write(alerts)
    writer.close()
    return settings
