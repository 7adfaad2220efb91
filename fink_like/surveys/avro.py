"""The two Avro framings on survey topics, read and written without per-message schema parsing.

* ZTF: one Avro **object container file** per message (``b"Obj\\x01"``, a metadata map with
  ``avro.schema`` and ``avro.codec``, a 16-byte sync marker, then data blocks).
* Rubin: the **Confluent wire format**: magic byte ``0``, a 4-byte big-endian schema id,
  then the bare Avro body.

``fastavro.reader`` re-parses the writer schema of every container it opens, which costs
more than decoding a whole alert; :func:`split_container` only slices the header so that
the caller can parse each distinct schema once and decode bodies with
``fastavro.schemaless_reader``.

Examples
--------
>>> pack_wire(900, b"body")
b'\\x00\\x00\\x00\\x03\\x84body'
>>> unpack_wire(b'\\x00\\x00\\x00\\x03\\x84body')
(900, b'body')
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zlib
from dataclasses import dataclass

import fastavro

from fink_like.errors import AlertError

CONTAINER_MAGIC = b"Obj\x01"
WIRE_MAGIC = 0
WIRE_HEADER = struct.Struct(">bI")


@dataclass(frozen=True)
class Container:
    """An Avro container split into its parts: schema text, codec and raw record blocks."""

    schema_json: str
    codec: str
    blocks: tuple[tuple[int, bytes], ...]   # (record count, block bytes after decompression)

    @property
    def count(self) -> int:
        """Number of records in the container."""
        return sum(n for n, _ in self.blocks)


class _Cursor:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int = 0):
        self.buf = buf
        self.pos = pos

    def long(self) -> int:
        result = shift = 0
        buf = self.buf
        while True:
            if self.pos >= len(buf):
                raise AlertError("truncated", "message ends inside an Avro integer")
            byte = buf[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)
            shift += 7
            if shift > 63:
                raise AlertError("not_avro", "Avro integer longer than 10 bytes")

    def take(self, size: int) -> bytes:
        if size < 0:
            raise AlertError("not_avro", f"negative Avro length {size}")
        end = self.pos + size
        if end > len(self.buf):
            raise AlertError("truncated", f"needs {end} bytes, message has {len(self.buf)}")
        chunk = self.buf[self.pos:end]
        self.pos = end
        return chunk


def _read_metadata(cur: _Cursor) -> dict[str, bytes]:
    meta: dict[str, bytes] = {}
    while True:
        count = cur.long()
        if count == 0:
            return meta
        if count < 0:  # a negative count is followed by the block size in bytes
            count = -count
            cur.long()
        for _ in range(count):
            key = cur.take(cur.long()).decode("utf-8", "replace")
            meta[key] = cur.take(cur.long())


def _decompress(codec: str, data: bytes) -> bytes:
    if codec == "null":
        return data
    if codec == "deflate":
        try:
            return zlib.decompress(data, -15)
        except zlib.error as exc:
            raise AlertError("truncated", f"deflate block does not decompress: {exc}") from exc
    raise AlertError("unsupported_codec", f"Avro codec {codec!r} is not supported (null, deflate)")


def split_container(value: bytes) -> Container:
    """Split an Avro container file into schema text, codec and decompressed blocks.

    Raises
    ------
    AlertError
        ``not_avro`` without the container magic, ``truncated`` when the bytes end early,
        ``unsupported_codec`` for codecs other than null and deflate.
    """
    if value[:4] != CONTAINER_MAGIC:
        raise AlertError("not_avro", "does not start with the Avro container magic Obj\\x01")
    cur = _Cursor(value, 4)
    meta = _read_metadata(cur)
    if "avro.schema" not in meta:
        raise AlertError("not_avro", "container header has no avro.schema")
    codec = meta.get("avro.codec", b"null").decode() or "null"
    sync = cur.take(16)
    blocks = []
    while cur.pos < len(value):
        count = cur.long()
        data = cur.take(cur.long())
        if cur.take(16) != sync:
            raise AlertError("truncated", "container block is not followed by its sync marker")
        blocks.append((count, _decompress(codec, data)))
    return Container(meta["avro.schema"].decode("utf-8"), codec, tuple(blocks))


def write_container(parsed_schema: dict, records: list[dict], codec: str = "null") -> bytes:
    """One Avro container file holding ``records`` (what ZTF puts in each Kafka message).

    The same records always give the same bytes, in any process (clones for load tests
    are reproducible): the sync marker is the MD5 of the records' bodies, and the schema
    in the header has its keys sorted (``fastavro.parse_schema`` orders a field's keys
    by hash, so the same schema text parses to different JSON in different processes).
    For one record and the ``null`` codec (every ZTF message) the header is built once
    per schema object (:func:`_header`) and the body written with
    ``fastavro.schemaless_writer``: the bytes are exactly those of ``fastavro.writer``
    (tests/surveys/test_avro_writer.py), without serialising the schema again.
    """
    block = io.BytesIO()
    try:
        for record in records:
            fastavro.schemaless_writer(block, parsed_schema, record)
        data = block.getvalue()
        sync = hashlib.md5(data).digest()
        if codec == "null" and len(records) == 1:
            return b"".join((_header(parsed_schema)[1], sync, b"\x02", _long(len(data)), data, sync))
        out = io.BytesIO()
        fastavro.writer(out, _header(parsed_schema)[0], records, codec=codec, sync_marker=sync)
    except (ValueError, TypeError, KeyError) as exc:
        raise AlertError("schema_mismatch", f"record does not fit its schema: {exc}") from exc
    return out.getvalue()


_EMPTY_SYNC = hashlib.md5(b"").digest()
_HEADERS: dict[int, tuple[dict, dict, bytes]] = {}  # id(parsed) -> (parsed, sorted copy, header)


def _header(parsed_schema: dict) -> tuple[dict, bytes]:
    """``parsed_schema`` with its keys sorted, and its container header (codec null) up to,
    not including, the sync marker."""
    entry = _HEADERS.get(id(parsed_schema))
    if entry is None or entry[0] is not parsed_schema:  # the schema is kept so its id is never reused
        ordered = json.loads(json.dumps(parsed_schema, sort_keys=True))
        out = io.BytesIO()
        fastavro.writer(out, ordered, [], codec="null", sync_marker=_EMPTY_SYNC)
        if len(_HEADERS) >= 64:
            _HEADERS.clear()
        entry = _HEADERS[id(parsed_schema)] = (parsed_schema, ordered, out.getvalue()[:-len(_EMPTY_SYNC)])
    return entry[1], entry[2]


def _long(value: int) -> bytes:
    zigzag = (value << 1) ^ (value >> 63)
    out = bytearray()
    while zigzag > 0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


def batch_container(schema_json: str, bodies: list[bytes]) -> bytes:
    """One Avro container holding many bare bodies that share ``schema_json``, in one block.

    ``schema_json`` must be self-contained (every named type defined). This lets a
    columnar reader decode a whole batch of messages in one call.

    Examples
    --------
    >>> import fastavro, io, json
    >>> schema = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "long"}]}
    >>> data = batch_container(json.dumps(schema), [b"\\x02", b"\\x04"])
    >>> [r["x"] for r in fastavro.reader(io.BytesIO(data))]
    [1, 2]
    """
    sync = os.urandom(16)
    header = b"".join([CONTAINER_MAGIC, _long(2),
                       _long(11), b"avro.schema", _long(len(schema_json.encode())), schema_json.encode(),
                       _long(10), b"avro.codec", _long(4), b"null", _long(0), sync])
    block = b"".join(bodies)
    return b"".join([header, _long(len(bodies)), _long(len(block)), block, sync])


def pack_wire(schema_id: int, body: bytes) -> bytes:
    """Frame an Avro body in the Confluent wire format."""
    return WIRE_HEADER.pack(WIRE_MAGIC, schema_id) + body


def unpack_wire(value: bytes) -> tuple[int, bytes]:
    """Split a Confluent wire-format message into ``(schema_id, body)``.

    Raises
    ------
    AlertError
        ``truncated`` when shorter than the 5-byte header, ``not_avro`` without magic 0.
    """
    if len(value) < WIRE_HEADER.size:
        raise AlertError("truncated", f"{len(value)} bytes, shorter than the 5-byte wire header")
    magic, schema_id = WIRE_HEADER.unpack_from(value)
    if magic != WIRE_MAGIC:
        raise AlertError("not_avro", f"wire-format magic byte is {magic}, expected 0")
    return schema_id, value[WIRE_HEADER.size:]


_PADDING = bytes(16)


def read_body(body: bytes, parsed_schema, reader_schema=None) -> dict:
    """Decode one bare Avro body, turning every decoder failure into an :class:`AlertError`.

    ``reader_schema`` may be a :func:`projection` of the writer schema. The decoder must
    stop exactly at the end of ``body``. fastavro reads a byte string that runs past the
    end of its input as a short string without complaint, so the body is decoded with
    zero padding behind it: a decoder that goes past the end was truncated, one that
    stops before it left trailing bytes (the schema does not fit).
    """
    stream = io.BytesIO(body + _PADDING)
    try:
        record = fastavro.schemaless_reader(stream, parsed_schema, reader_schema)
    except (EOFError, struct.error) as exc:
        raise AlertError("truncated", f"Avro body ends early ({exc or type(exc).__name__})") from exc
    except IndexError as exc:  # a union branch or enum symbol the schema does not have
        raise AlertError("schema_mismatch", f"Avro body does not match its schema ({exc})") from exc
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, OverflowError) as exc:
        raise AlertError("not_avro", f"Avro body does not match its schema: {exc}") from exc
    end = stream.tell()
    if end > len(body):
        raise AlertError("truncated", f"the record needs more than the {len(body)} bytes of the body")
    if end < len(body):
        raise AlertError("schema_mismatch", f"{len(body) - end} bytes left after decoding the record")
    return record


def read_bodies(block: bytes, parsed_schema, count: int) -> list[dict]:
    """Decode the ``count`` records of one container block."""
    stream = io.BytesIO(block)
    try:
        return [fastavro.schemaless_reader(stream, parsed_schema, None) for _ in range(count)]
    except (EOFError, IndexError, struct.error) as exc:
        raise AlertError("truncated", f"container block ends early ({exc or type(exc).__name__})") from exc


def projection(writer: dict, keep: dict[str, frozenset]) -> dict:
    """A reader schema that keeps only the listed fields of the listed records.

    ``keep`` maps a record's short name (``"candidate"``, ``"diaSource"``) to the field
    names to keep; records not listed keep every field. Decoding with the projection
    skips the rest of the bytes instead of building Python objects for them, which is
    most of the cost of an alert with a long history.
    """
    named = writer.get("__named_schemas", {})
    return fastavro.parse_schema(_project(writer, keep, named, set()), named_schemas={})


def _project(node, keep, named, defined):
    if isinstance(node, str):
        if node in named and node not in defined:
            return _project(named[node], keep, named, defined)
        return node
    if isinstance(node, list):
        return [_project(t, keep, named, defined) for t in node]
    kind = node.get("type")
    if kind == "record":
        name = node["name"]
        defined.add(name)
        wanted = keep.get(name.rsplit(".", 1)[-1])
        fields = [f for f in node["fields"] if wanted is None or f["name"] in wanted]
        return {"type": "record", "name": name,
                "fields": [{"name": f["name"], "type": _project(f["type"], keep, named, defined)} for f in fields]}
    if kind == "array":
        return {"type": "array", "items": _project(node["items"], keep, named, defined)}
    if kind == "map":
        return {"type": "map", "values": _project(node["values"], keep, named, defined)}
    if kind in ("enum", "fixed"):
        defined.add(node["name"])
    return {k: v for k, v in node.items() if not k.startswith("__")}

