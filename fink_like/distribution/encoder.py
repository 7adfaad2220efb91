"""Enriched alerts to distribution messages, and back.

Wire format of a message value: magic byte ``0``, the 4-byte big-endian schema id, then
the Avro body (the Confluent framing, so generic tools can read it). The key is the
alert id in decimal ASCII: consumers deduplicate on it.

Examples
--------
>>> frame(7, b"body")
b'\\x00\\x00\\x00\\x00\\x07body'
>>> unframe(b'\\x00\\x00\\x00\\x00\\x07body')
(7, b'body')
"""

from __future__ import annotations

import copy
import io
import struct
from dataclasses import dataclass, field

import fastavro
import pyarrow as pa

from fink_like.distribution.packet import PacketReader
from fink_like.distribution.schema import HEADER_NAMES, build_schema, module_fields, schema_id
from fink_like.errors import AlertError

WIRE = struct.Struct(">bI")
MAGIC = 0


def frame(sid: int, body: bytes) -> bytes:
    """Prefix an Avro body with the magic byte and schema id."""
    return WIRE.pack(MAGIC, sid) + body


def unframe(value: bytes) -> tuple[int, bytes]:
    """``(schema_id, body)`` of a message value.

    Raises
    ------
    AlertError
        ``not_distribution`` when the value is too short or lacks magic byte 0.
    """
    if value is None or len(value) < WIRE.size or value[0] != MAGIC:
        raise AlertError("not_distribution", "message value does not start with magic 0 and a schema id")
    return WIRE.unpack_from(value)[1], value[WIRE.size:]


@dataclass
class EncodedBatch:
    """Messages for some rows of a batch: keys and values in row order, and their schemas."""

    rows: list[int]
    keys: list[bytes]
    values: list[bytes]
    schemas: dict[int, dict] = field(default_factory=dict)


class Encoder:
    """Builds and caches distribution schemas; encodes rows. One per executor process."""

    def __init__(self):
        self.reader = PacketReader()
        self._schemas: dict[tuple, tuple[int, dict, object]] = {}

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()

    def schema_for(self, table_schema: pa.Schema, packet_schema, cutouts: bool) -> tuple[int, dict, object]:
        """``(id, schema, parsed)`` for a survey schema, the batch's module columns and variant."""
        modules = tuple((f.name, str(f.type)) for f in module_fields(table_schema))
        key = (packet_schema.key, id(packet_schema.schema), modules, cutouts)
        if key not in self._schemas:
            schema = build_schema(table_schema, packet_schema.schema, cutouts)
            self._schemas[key] = (schema_id(schema), schema, fastavro.parse_schema(copy.deepcopy(schema)))
        return self._schemas[key]

    def encode(self, table: pa.Table, rows: list[int] | None = None, cutouts: bool = True) -> EncodedBatch:
        """Encode ``rows`` of ``table`` (default: all) in the full or thin variant."""
        rows = list(range(table.num_rows)) if rows is None else list(rows)
        out = EncodedBatch(rows, [], [])
        if not rows:
            return out
        extra = [f.name for f in module_fields(table.schema)]
        wanted = [c for c in (*HEADER_NAMES, *extra, "provenance", "packet") if c in table.column_names]
        subset = table.select(wanted).take(pa.array(rows, pa.int64()))
        columns = {name: subset.column(name).to_pylist() for name in (*HEADER_NAMES, *extra)}
        provenance = subset.column("provenance").to_pylist() if "provenance" in table.column_names else None
        packets = subset.column("packet").to_pylist()
        schema_of = {}  # packet schema -> (id, schema, parsed), for this batch
        for i, packet in enumerate(packets):
            packet_schema, record = self.reader.read(packet)
            which = (packet_schema.key, id(packet_schema.schema))
            found = schema_of.get(which)
            if found is None:
                found = schema_of[which] = self.schema_for(table.schema, packet_schema, cutouts)
            sid, schema, parsed = found
            out.schemas.setdefault(sid, schema)
            message = {name: values[i] for name, values in columns.items()}
            message["packet"] = record
            message["provenance"] = (provenance[i] or []) if provenance is not None else []
            buf = io.BytesIO()
            try:
                fastavro.schemaless_writer(buf, parsed, message)
            except (ValueError, TypeError, KeyError) as exc:
                raise AlertError("encode_failed", f"alert {message['alert_id']}: {exc}") from exc
            out.keys.append(str(message["alert_id"]).encode())
            out.values.append(frame(sid, buf.getvalue()))
        return out


_ENCODER: Encoder | None = None


def default_encoder() -> Encoder:
    """The process-wide encoder (schemas parsed once per executor process)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = Encoder()
    return _ENCODER


def encode_batch(table: pa.Table, rows: list[int] | None = None, cutouts: bool = True,
                 encoder: Encoder | None = None) -> EncodedBatch:
    """Encode ``rows`` of an enriched table as distribution messages (see :class:`Encoder`)."""
    return (encoder or default_encoder()).encode(table, rows, cutouts)


def decode_message(value: bytes, registry, reader_schema=None) -> tuple[int, dict]:
    """``(schema_id, alert)`` of a message; ``reader_schema`` (parsed) projects older/newer fields.

    Raises
    ------
    AlertError
        Not a distribution message, or a body that does not match its schema.
    ConfigError
        The schema id is unknown to ``registry``.
    """
    sid, body = unframe(value)
    writer = registry.parsed(sid)
    try:
        return sid, fastavro.schemaless_reader(io.BytesIO(body), writer, reader_schema)
    except (EOFError, ValueError, TypeError, KeyError, IndexError, struct.error) as exc:
        raise AlertError("not_distribution", f"message with schema {sid} does not decode: {exc}") from exc
