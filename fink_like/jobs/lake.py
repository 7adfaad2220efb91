"""The Parquet lake: night-partitioned, written with deterministic names, read back as Arrow.

Layout: ``<root>/<area>/night=YYYYMMDD/<name>.parquet``. A file is named after its
**input**, never after the Spark task that wrote it: ``k-<topic>-p<partition>-o<first
offset>`` for messages read from Kafka, ``f-<night>-<input file name>`` for rows read
from another lake area. It is renamed into place after it is fully written. A replayed
batch (same offsets, guaranteed by Spark's offset log) rewrites the same names; when the
replay splits its input differently (other ``max_records_per_partition``,
``shuffle_partitions`` or cluster size), :mod:`fink_like.jobs.attempts` first removes
what the earlier attempt wrote. The lake holds every alert exactly once. Files being
written start with ``.`` so that neither Spark nor pyarrow ever read a partial file.

``root`` may be a local path, ``file://``, or ``s3://`` (``s3a://`` is read as ``s3://``),
written by pyarrow with the endpoint, region and credentials of ``lake.s3_*``.
"""

from __future__ import annotations

import re
import uuid
from typing import Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from fink_like.errors import ConfigError

PARTITION = "night"


def filesystem(uri: str, s3=None) -> tuple[pafs.FileSystem, str]:
    """Resolve a lake URI to a pyarrow filesystem and a path on it.

    ``s3`` (:class:`fink_like.config.LakeSettings`) gives the endpoint, region and
    credentials of ``s3://`` and ``s3a://`` roots; an endpoint that does not answer is
    one ConfigError naming ``lake.s3_endpoint``.
    """
    if uri.startswith("s3a://"):
        uri = "s3://" + uri[len("s3a://"):]
    if "://" not in uri:
        fs = pafs.LocalFileSystem()
        return fs, pafs.LocalFileSystem().normalize_path(_absolute(uri))
    if uri.startswith("s3://") and s3 is not None:
        return _s3(s3), uri[len("s3://"):].rstrip("/")
    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise ConfigError(f"lake.root: cannot open {uri!r}: {exc}") from exc


_S3: dict = {}


def _s3(conf) -> pafs.S3FileSystem:
    """One S3 filesystem per settings and process, checked once against its endpoint."""
    key = (conf.s3_endpoint, conf.s3_region, conf.s3_access_key_id, conf.s3_secret_access_key, conf.root)
    if key in _S3:
        return _S3[key]
    options = {"region": conf.s3_region, "connect_timeout": conf.s3_timeout_seconds,
               "request_timeout": conf.s3_timeout_seconds}
    if conf.s3_endpoint:
        scheme, _, host = conf.s3_endpoint.rpartition("://")
        options.update(endpoint_override=host, scheme=scheme or "https")
    if conf.s3_access_key_id and conf.s3_secret_access_key:
        options.update(access_key=conf.s3_access_key_id.get_secret_value(),
                       secret_key=conf.s3_secret_access_key.get_secret_value())
    fs = pafs.S3FileSystem(**{k: v for k, v in options.items() if v is not None})
    bucket = conf.root.split("://", 1)[-1].split("/", 1)[0]
    try:
        fs.get_file_info(bucket)
    except OSError as exc:
        where = conf.s3_endpoint or "the default AWS endpoint"
        raise ConfigError(f"lake.s3_endpoint: the lake's S3 at {where} does not answer for bucket "
                          f"{bucket!r} within {conf.s3_timeout_seconds:.0f} s ({exc})") from exc
    _S3[key] = fs
    return fs


def _absolute(path: str) -> str:
    import os

    return os.path.abspath(path)


_KAFKA_NAME = re.compile(r"^k-(?P<topic>.+)-p(?P<partition>\d{5})-o(?P<offset>\d{20})\.parquet$")


def kafka_name(topic: str, partition: int, first_offset: int) -> str:
    """The file name of the rows read from ``topic[partition]`` starting at ``first_offset``.

    >>> kafka_name("ztf-alerts", 0, 2500)
    'k-ztf-alerts-p00000-o00000000000000002500.parquet'
    """
    return f"k-{topic}-p{partition:05d}-o{first_offset:020d}.parquet"


def parse_kafka_name(name: str) -> tuple[str, int, int] | None:
    """``(topic, partition, first offset)`` of a :func:`kafka_name`, else None."""
    found = _KAFKA_NAME.match(name)
    if found is None:
        return None
    return found["topic"], int(found["partition"]), int(found["offset"])


def file_name_for(input_path: str) -> str:
    """The file name of the rows derived from one input lake file.

    >>> file_name_for("/lake/raw/night=20240101/k-ztf-p00000-o00000000000000000000.parquet")
    'f-20240101-k-ztf-p00000-o00000000000000000000.parquet'
    """
    parent, _, base = input_path.rstrip("/").rpartition("/")
    night = parent.rpartition("/")[2].partition(f"{PARTITION}=")[2] or "none"
    return f"f-{night}-{base}"


def file_name(batch_id: int, partition: int) -> str:
    """A name for rows without input identity (direct calls): batch and partition numbers."""
    return f"part-b{batch_id:010d}-p{partition:05d}.parquet"


def write_partitioned(table: pa.Table, area_uri: str, name: str, s3=None) -> dict[str, int]:
    """Write ``table`` under ``area_uri/night=*/name`` atomically; return rows per night.

    The ``night`` column becomes the directory (hive style) and is not stored in the file.
    An empty table writes nothing.
    """
    if table.num_rows == 0:
        return {}
    fs, base = filesystem(area_uri, s3)
    counts: dict[str, int] = {}
    nights = pc.unique(table[PARTITION]).to_pylist()
    for night in sorted(nights):
        # One night (a live stream's usual partition): the table as it is, no filtered copy.
        rows = table if len(nights) == 1 else table.filter(pc.equal(table[PARTITION], night))
        part = rows.drop_columns([PARTITION])
        directory = f"{base}/{PARTITION}={night}"
        fs.create_dir(directory, recursive=True)
        tmp = f"{directory}/.{uuid.uuid4().hex}.tmp"
        pq.write_table(part, tmp, filesystem=fs, compression=_compression(part.schema),
                       use_dictionary=[f.name for f in part.schema if not pa.types.is_binary(f.type)])
        fs.move(tmp, f"{directory}/{name}")
        counts[night] = part.num_rows
    return counts


def write_named(table: pa.Table, area_uri: str, names: list[str], s3=None) -> dict[str, int]:
    """:func:`write_partitioned` with one name for the table, or one name per row.

    Rows sharing a name (derived from the same input) go to the same file; rows per night.
    """
    if len(names) <= 1 or len(set(names)) == 1:
        return write_partitioned(table, area_uri, names[0], s3) if names else {}
    if len(names) != table.num_rows:
        raise ValueError(f"{len(names)} names for {table.num_rows} rows")
    counts: dict[str, int] = {}
    column = pa.array(names)
    for name in sorted(set(names)):
        for night, n in write_partitioned(table.filter(pc.equal(column, name)), area_uri, name, s3).items():
            counts[night] = counts.get(night, 0) + n
    return counts


def _compression(schema: pa.Schema) -> dict[str, str]:
    # Packets hold gzipped stamps already: compressing them again costs CPU for ~nothing.
    return {f.name: ("none" if pa.types.is_binary(f.type) else "zstd") for f in schema}


def read_lake(area_uri: str, columns: Iterable[str] | None = None, nights: Iterable[str] | None = None,
              schema: pa.Schema | None = None, s3=None) -> pa.Table:
    """Read one lake area back as an Arrow table (``night`` restored as a column).

    Parameters
    ----------
    nights
        Restrict to these ``YYYYMMDD`` partitions.
    schema
        Expected schema; files written by other module sets are unified to it.
    """
    fs, base = filesystem(area_uri, s3)
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
