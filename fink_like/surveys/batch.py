"""Kafka rows -> canonical rows | quarantine rows, one Arrow batch at a time.

The survey of each message is sniffed from its first bytes: an Avro container
(``Obj\\x01``) is ZTF, a Confluent wire frame (magic byte 0) is Rubin. Columns are
built as Python lists and turned into Arrow arrays once per batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from fink_like import __version__
from fink_like.errors import AlertError
from fink_like.surveys.base import CUTOUT_NAMES, SurveyAdapter
from fink_like.surveys.canonical import CANONICAL_SCHEMA, QUARANTINE_SCHEMA
from fink_like.surveys.rubin import RubinAdapter
from fink_like.surveys.ztf import ZtfAdapter

_ADAPTERS: dict[str, SurveyAdapter] = {"ztf": ZtfAdapter(), "lsst": RubinAdapter()}
_ALIASES = {"rubin": "lsst"}
_TS_MS = pa.timestamp("ms", tz="UTC")


def adapter_for(name: str) -> SurveyAdapter:
    """The adapter of a survey: ``"ztf"`` or ``"lsst"`` (alias ``"rubin"``).

    Raises
    ------
    AlertError
        ``unknown_survey`` naming the accepted values.
    """
    key = _ALIASES.get(name.lower(), name.lower())
    try:
        return _ADAPTERS[key]
    except KeyError:
        raise AlertError("unknown_survey", f"unknown survey {name!r}: use ztf or lsst") from None


def sniff(value: bytes) -> SurveyAdapter:
    """The adapter whose framing ``value`` has; AlertError ``empty`` or ``not_avro`` otherwise."""
    if not value:
        raise AlertError("empty", "message value is empty or null")
    for adapter in _ADAPTERS.values():
        if adapter.sniff(value):
            return adapter
    raise AlertError("not_avro", f"starts with {bytes(value[:5])!r}: neither an Avro container nor wire format")


def decode_packet(value: bytes) -> tuple[SurveyAdapter, dict]:
    """Sniff the survey of one message and decode it.

    Raises
    ------
    AlertError
        ``empty``, ``not_avro`` (neither framing), or the adapter's own reasons.
    """
    adapter = sniff(value)
    return adapter, adapter.decode(value)


def _canonical_row(value: bytes) -> tuple[dict, dict]:
    adapter = sniff(value)
    record = adapter.decode_view(value)
    try:
        row = adapter.to_canonical(record, adapter.schema_version(value, record))
    except (KeyError, TypeError) as exc:
        raise AlertError("missing_field", f"{adapter.name} record lacks a required value: {exc}") from exc
    adapter.validate(row)
    return row, {name: record[name] for name in CUTOUT_NAMES if name in record}


def _column(batch, name: str, size: int) -> pa.Array | pa.ChunkedArray:
    # Chunks are kept as they are: combining them copies every payload (~0.2 ms per alert).
    if name in batch.schema.names:
        return batch.column(name)
    return pa.nulls(size)


def _transport(batch, indices: list[int], now: dt.datetime) -> dict[str, pa.Array]:
    size = len(batch)
    every = len(indices) == size  # indices are increasing: all rows, in order (the usual case)
    idx = None if every else pa.array(indices, pa.int64())

    def pick(name, typ):
        if not indices:  # no row (no quarantined message, the usual case): nothing to take
            return pa.array([], typ)
        column = _column(batch, name, size)
        # A take from chunks concatenates them first, a copy of every payload.
        return (column if every else column.take(idx)).cast(typ, safe=False)

    return {
        "topic": pick("topic", pa.string()),
        "partition": pick("partition", pa.int32()),
        "offset": pick("offset", pa.int64()),
        "kafka_timestamp": pick("timestamp", _TS_MS),
        "ingest_time": pa.array([now] * len(indices), _TS_MS),
        "broker_version": pa.array([__version__] * len(indices), pa.string()),
        "key": pick("key", pa.binary()),
        "value": pick("value", pa.binary()),
    }


@dataclass(frozen=True)
class Decoded:
    """One decoded batch: canonical rows, quarantined rows, and the stamps of each canonical row.

    ``stamps[i]`` holds the packet's stamp fields (``cutoutScience``, ...) exactly as the
    survey's decoder gives them, for canonical row ``i``: the archive stores them and the
    thin distribution variant strips them, neither decoding the packet again. They are
    not a lake column: the packet already holds them.
    """

    canonical: pa.Table
    quarantine: pa.Table
    stamps: list[dict]


def decode_batch(batch: pa.RecordBatch | pa.Table) -> tuple[pa.Table, pa.Table]:
    """Decode a batch of Kafka rows into ``(canonical, quarantine)`` tables.

    Parameters
    ----------
    batch
        Columns ``key``, ``value`` (binary), ``topic``, ``partition``, ``offset``,
        ``timestamp``: the Kafka source schema. Only ``value`` is required.

    Returns
    -------
    canonical, quarantine
        Tables with ``CANONICAL_SCHEMA`` and ``QUARANTINE_SCHEMA``. Every input row is in
        exactly one of them: ``len(canonical) + len(quarantine) == len(batch)``.
    """
    decoded = decode_messages(batch)
    return decoded.canonical, decoded.quarantine


def decode_messages(batch: pa.RecordBatch | pa.Table) -> Decoded:
    """Like :func:`decode_batch`, keeping each alert's stamps (see :class:`Decoded`)."""
    if "value" not in batch.schema.names:
        raise AlertError("missing_field", f"batch has no 'value' column (columns: {batch.schema.names})")
    now = dt.datetime.now(dt.timezone.utc)
    values = _column(batch, "value", len(batch)).to_pylist()
    rows, stamps, ok, bad, reasons = [], [], [], [], []
    for i, value in enumerate(values):
        try:
            row, stamp = _canonical_row(value)
        except AlertError as exc:
            bad.append(i)
            reasons.append((exc.reason, exc.detail))
        except Exception as exc:  # noqa: BLE001 - a message must never crash the stream
            bad.append(i)
            reasons.append(("decode_error", f"{type(exc).__name__}: {exc}"))
        else:
            rows.append(row)
            stamps.append(stamp)
            ok.append(i)
    return Decoded(_canonical_table(batch, rows, ok, now), _quarantine_table(batch, bad, reasons, now), stamps)


def _canonical_table(batch, rows: list[dict], ok: list[int], now) -> pa.Table:
    transport = _transport(batch, ok, now)
    transport["packet"] = transport.pop("value")
    arrays = []
    for field in CANONICAL_SCHEMA:
        if field.name in transport:
            arrays.append(transport[field.name])
        else:
            arrays.append(pa.array([row[field.name] for row in rows], field.type))
    return pa.Table.from_arrays(arrays, schema=CANONICAL_SCHEMA)


def _quarantine_table(batch, bad: list[int], reasons: list[tuple[str, str]], now) -> pa.Table:
    transport = _transport(batch, bad, now)
    columns = {
        "reason": pa.array([r for r, _ in reasons], pa.string()),
        "detail": pa.array([d for _, d in reasons], pa.string()),
        "night": pa.array([now.strftime("%Y%m%d")] * len(bad), pa.string()),
        **transport,
    }
    return pa.Table.from_arrays([columns[f.name] for f in QUARANTINE_SCHEMA], schema=QUARANTINE_SCHEMA)
