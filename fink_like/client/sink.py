"""Saving received alerts to files, atomically, before their offsets are committed.

One file per poll batch and schema: ``<topic>-<partition>-<first offset>-<last offset>-<schema id>``
with ``.avro`` (Avro container, the writer schema in its header) or ``.parquet``. A batch
redelivered after a crash rewrites the same name, and :func:`read_saved` deduplicates by key.
"""

from __future__ import annotations

import os
from itertools import groupby
from pathlib import Path

import fastavro

from fink_like.errors import UsageError

FORMATS = ("avro", "parquet")


def save_alerts(alerts: list, directory: str | os.PathLike, fmt: str, registry) -> list[Path]:
    """Write ``alerts`` under ``directory``; returns the files (renamed into place when complete)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    group_key = lambda a: (a.topic, a.partition, a.schema_id)  # noqa: E731
    for (topic, partition, sid), items in groupby(sorted(alerts, key=lambda a: (*group_key(a), a.offset)), group_key):
        items = list(items)
        path = folder / f"{topic}-{partition}-{items[0].offset}-{items[-1].offset}-{sid}.{fmt}"
        tmp = path.with_name(f".{path.name}.tmp")
        if fmt == "avro":
            with open(tmp, "wb") as fh:
                fastavro.writer(fh, registry.parsed(sid), [a.data for a in items])
        else:
            _write_parquet(tmp, items)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _write_parquet(path: Path, items: list) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [dict(a.data, _key=a.key, _topic=a.topic, _partition=a.partition, _offset=a.offset) for a in items]
    pq.write_table(pa.Table.from_pylist(rows), path)


def read_saved(directory: str | os.PathLike) -> dict[str, dict]:
    """Every saved alert by key, duplicates removed (the last copy read wins; copies are equal)."""
    out: dict[str, dict] = {}
    for path in sorted(Path(directory).iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix == ".avro":
            with open(path, "rb") as fh:
                for record in fastavro.reader(fh):
                    out[str(record["alert_id"])] = record
        elif path.suffix == ".parquet":
            import pyarrow.parquet as pq

            for record in pq.read_table(path).to_pylist():
                out[str(record["_key"])] = record
    return out
