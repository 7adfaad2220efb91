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

import bisect
import copy
import io
import struct
from dataclasses import dataclass, field

import fastavro
import pyarrow as pa

from fink_like.distribution.packet import PacketReader
from fink_like.distribution.schema import (HEADER_NAMES, NAMESPACE, build_schema, module_fields, schema_id,
                                           thin_packet)
from fink_like.errors import AlertError
from fink_like.surveys.base import CUTOUT_FIELDS
from fink_like.surveys.batch import sniff

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


@dataclass(frozen=True)
class Layout:
    """One distribution schema, and the parts a message of it is assembled from.

    Avro encodes a record as its fields' encodings one after the other, so a message is
    ``head + packet body + rest``: the header fields encoded with ``head``, the survey's
    own record bytes copied as received, then the module outputs and provenance encoded
    with ``rest``. The packet is never decoded. The thin variant drops the packet's
    trailing stamp fields: their encoding (``stamps``) is cut off the end of the body.
    ``stamps`` is None when a survey schema does not put all its stamp fields last;
    such packets, and bodies whose end is not the expected encoding, are decoded and
    re-encoded whole with ``parsed``.
    """

    sid: int
    schema: dict
    parsed: object
    head: object
    rest: object
    stamps: object | None
    stamp_names: frozenset = frozenset()


class Encoder:
    """Builds and caches distribution schemas; encodes rows. One per executor process."""

    def __init__(self):
        self.reader = PacketReader()
        self._layouts: dict[tuple, Layout] = {}

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()

    def schema_for(self, table_schema: pa.Schema, packet_schema, cutouts: bool) -> tuple[int, dict, object]:
        """``(id, schema, parsed)`` for a survey schema, the batch's module columns and variant."""
        layout = self.layout_for(table_schema, packet_schema, cutouts)
        return layout.sid, layout.schema, layout.parsed

    def layout_for(self, table_schema: pa.Schema, packet_schema, cutouts: bool) -> Layout:
        """The :class:`Layout` of a survey schema, the batch's module columns and variant."""
        modules = tuple((f.name, str(f.type)) for f in module_fields(table_schema))
        key = (packet_schema.key, id(packet_schema.schema), modules, cutouts)
        if key not in self._layouts:
            self._layouts[key] = _layout(build_schema(table_schema, packet_schema.schema, cutouts),
                                         packet_schema.schema, cutouts)
        return self._layouts[key]

    def encode(self, table: pa.Table, rows: list[int] | None = None, cutouts: bool = True,
               stamps: list[dict] | None = None) -> EncodedBatch:
        """Encode ``rows`` of ``table`` (default: all) in the full or thin variant.

        ``stamps`` (optional, one entry per table row) are the packets' stamp fields as
        the decoder left them; the thin variant uses them to find where each body's
        stamps start. Without them the stamps are read from the packet.
        """
        rows = list(range(table.num_rows)) if rows is None else list(rows)
        out = EncodedBatch(rows, [], [])
        if not rows:
            return out
        extra = [f.name for f in module_fields(table.schema)]
        wanted = [c for c in (*HEADER_NAMES, *extra, "provenance") if c in table.column_names]
        subset = table.select(wanted).take(pa.array(rows, pa.int64()))
        head = {name: subset.column(name).to_pylist() for name in HEADER_NAMES}
        rest = {name: subset.column(name).to_pylist() for name in extra}
        provenance = subset.column("provenance").to_pylist() if "provenance" in table.column_names else None
        packets = _pick(table.column("packet"), rows)
        layout_of = {}  # packet schema -> Layout, for this batch
        for i, (row, packet) in enumerate(zip(rows, packets)):
            packet_schema, body = self.reader.split(packet)
            which = (packet_schema.key, id(packet_schema.schema))
            layout = layout_of.get(which)
            if layout is None:
                layout = layout_of[which] = self.layout_for(table.schema, packet_schema, cutouts)
            out.schemas.setdefault(layout.sid, layout.schema)
            header = {name: values[i] for name, values in head.items()}
            tail = {name: values[i] for name, values in rest.items()}
            tail["provenance"] = (provenance[i] or []) if provenance is not None else []
            if not cutouts:
                fields = stamps[row] if stamps is not None else None
                if fields is None or not layout.stamp_names <= fields.keys():
                    fields = sniff(packet).decode_view(packet, CUTOUT_FIELDS)
                body = _strip_stamps(layout, body, fields)
            try:
                value = (_avro(layout.head, header) + body + _avro(layout.rest, tail) if body is not None
                         else _avro(layout.parsed, {**header, **tail, "packet": self._thin_record(packet)}))
            except (ValueError, TypeError, KeyError) as exc:
                raise AlertError("encode_failed", f"alert {header['alert_id']}: {exc}") from exc
            out.keys.append(str(header["alert_id"]).encode())
            out.values.append(frame(layout.sid, value))
        return out

    def _thin_record(self, packet: bytes) -> dict:
        """The packet's record without its stamp fields (the slow path: a full decode)."""
        return {k: v for k, v in self.reader.read(packet)[1].items() if not k.lower().startswith("cutout")}


def _pick(column: pa.ChunkedArray | pa.Array, rows: list[int]) -> list:
    """The values of ``rows`` as Python objects, without ``take`` copying the (large) packets first."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    starts, at = [], 0
    for chunk in chunks:
        starts.append(at)
        at += len(chunk)
    out = []
    for row in rows:
        k = bisect.bisect_right(starts, row) - 1
        out.append(chunks[k][row - starts[k]].as_py())
    return out


def _avro(parsed, record: dict) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, record)
    return buf.getvalue()


def _strip_stamps(layout: Layout, body: bytes, fields: dict) -> bytes | None:
    """``body`` without its trailing stamp fields; None when they are not where expected."""
    if layout.stamps is None:
        return None
    try:
        encoded = _avro(layout.stamps, fields)
    except (ValueError, TypeError, KeyError):
        return None
    return body[:len(body) - len(encoded)] if body.endswith(encoded) else None


def _layout(schema: dict, packet_schema: dict, cutouts: bool) -> Layout:
    fields = schema["fields"]
    at = next(i for i, f in enumerate(fields) if f["name"] == "packet")

    def part(name: str, part_fields: list) -> object:
        return fastavro.parse_schema({"type": "record", "name": f"{NAMESPACE}.{name}", "fields": part_fields},
                                     named_schemas={})

    stamps, names = None, frozenset()
    if not cutouts:
        names = [f["name"] for f in packet_schema["fields"]]
        trailing = len(names) - len(thin_packet(packet_schema)["fields"])
        if trailing and all(n.lower().startswith("cutout") for n in names[len(names) - trailing:]):
            try:
                stamps = part("stamps", copy.deepcopy(packet_schema["fields"][len(names) - trailing:]))
            except fastavro.schema.SchemaParseException:
                stamps = None  # a stamp type defined earlier in the record: use the slow path
            names = frozenset(names[len(names) - trailing:])
    return Layout(schema_id(schema), schema, fastavro.parse_schema(copy.deepcopy(schema), named_schemas={}),
                  part("head", copy.deepcopy(fields[:at])), part("rest", copy.deepcopy(fields[at + 1:])),
                  stamps, names)


_ENCODER: Encoder | None = None


def default_encoder() -> Encoder:
    """The process-wide encoder (schemas parsed once per executor process)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = Encoder()
    return _ENCODER


def encode_batch(table: pa.Table, rows: list[int] | None = None, cutouts: bool = True,
                 encoder: Encoder | None = None, stamps: list[dict] | None = None) -> EncodedBatch:
    """Encode ``rows`` of an enriched table as distribution messages (see :class:`Encoder`)."""
    return (encoder or default_encoder()).encode(table, rows, cutouts, stamps)


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
