"""The Parquet lake: night-partitioned, written with deterministic names, read back as Arrow.

Layout: ``<root>/<area>/night=YYYYMMDD/part-b<batch>-p<partition>.parquet``. A file's
name is a function of the streaming batch id and the input partition only, and it is
renamed into place after it is fully written. A replayed batch (same id, same offsets,
guaranteed by Spark's offset log) therefore overwrites its own files: the lake holds
every alert exactly once. Files being written start with ``.`` so that neither Spark
nor pyarrow ever read a partial file.

``root`` may be a local path, ``file://``, ``hdfs://`` or ``s3a://`` (mapped to
pyarrow's ``s3://``).
"""

from __future__ import annotations

import uuid
from typing import Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from fink_like.errors import ConfigError

PARTITION = "night"


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """Resolve a lake URI to a pyarrow filesystem and a path on it."""
    if uri.startswith("s3a://"):
        uri = "s3://" + uri[len("s3a://"):]
    if "://" not in uri:
        fs = pafs.LocalFileSystem()
        return fs, pafs.LocalFileSystem().normalize_path(_absolute(uri))
    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise ConfigError(f"lake.root: cannot open {uri!r}: {exc}") from exc


def _absolute(path: str) -> str:
    import os

    return os.path.abspath(path)


def file_name(batch_id: int, partition: int, tag: str = "") -> str:
    """The deterministic file name of one batch's output from one input partition."""
    suffix = f"-{tag}" if tag else ""
    return f"part-b{batch_id:010d}-p{partition:05d}{suffix}.parquet"


def write_partitioned(table: pa.Table, area_uri: str, name: str) -> dict[str, int]:
    """Write ``table`` under ``area_uri/night=*/name`` atomically; return rows per night.

    The ``night`` column becomes the directory (hive style) and is not stored in the file.
    An empty table writes nothing.
    """
    if table.num_rows == 0:
        return {}
    fs, base = filesystem(area_uri)
    counts: dict[str, int] = {}
    nights = pc.unique(table[PARTITION]).to_pylist()
    for night in sorted(nights):
        part = table.filter(pc.equal(table[PARTITION], night)).drop_columns([PARTITION])
        directory = f"{base}/{PARTITION}={night}"
        fs.create_dir(directory, recursive=True)
        tmp = f"{directory}/.{uuid.uuid4().hex}.tmp"
        pq.write_table(part, tmp, filesystem=fs, compression=_compression(part.schema),
                       use_dictionary=[f.name for f in part.schema if not pa.types.is_binary(f.type)])
        fs.move(tmp, f"{directory}/{name}")
        counts[night] = part.num_rows
    return counts


def _compression(schema: pa.Schema) -> dict[str, str]:
    # Packets hold gzipped stamps already: compressing them again costs CPU for ~nothing.
    return {f.name: ("none" if pa.types.is_binary(f.type) else "zstd") for f in schema}


def read_lake(area_uri: str, columns: Iterable[str] | None = None, nights: Iterable[str] | None = None,
              schema: pa.Schema | None = None) -> pa.Table:
    """Read one lake area back as an Arrow table (``night`` restored as a column).

    Parameters
    ----------
    nights
        Restrict to these ``YYYYMMDD`` partitions.
    schema
        Expected schema; files written by other module sets are unified to it.
    """
    fs, base = filesystem(area_uri)
    if fs.get_file_info(base).type == pafs.FileType.NotFound:
        return (schema or pa.schema([])).empty_table()
    partitioning = ds.partitioning(pa.schema([(PARTITION, pa.string())]), flavor="hive")
    dataset = ds.dataset(base, filesystem=fs, format="parquet", partitioning=partitioning)
    if schema is None:
        # Files written under different module sets differ in columns: unify them all.
        schema = pa.unify_schemas([f.physical_schema for f in dataset.get_fragments()] + [dataset.schema])
    dataset = ds.dataset(base, filesystem=fs, format="parquet", partitioning=partitioning,
                         schema=schema)
    flt = None
    if nights is not None:
        flt = ds.field(PARTITION).isin(list(nights))
    return dataset.to_table(columns=list(columns) if columns else None, filter=flt)


def nights(area_uri: str) -> list[str]:
    """The ``YYYYMMDD`` partitions present in one lake area, sorted (empty when none)."""
    fs, base = filesystem(area_uri)
    if fs.get_file_info(base).type == pafs.FileType.NotFound:
        return []
    infos = fs.get_file_info(pafs.FileSelector(base))
    prefix = f"{PARTITION}="
    return sorted(i.base_name[len(prefix):] for i in infos
                  if i.type == pafs.FileType.Directory and i.base_name.startswith(prefix))
