"""The distribution schema: survey packet + canonical header + module outputs + provenance.

A schema is generated from the survey's alert schema and the Arrow types of the module
outputs present in the batch, in ``full`` (cutouts kept) or ``thin`` (``cutout*`` fields
of the packet dropped) variant. Its id is a 31-bit number derived from the SHA-256 of its
canonical JSON, so every executor computes the same id without coordination, and a new
module column gives a new id (clients fetch it from the schema topic).

Every module output is ``["null", T]`` with default null, so a client holding an older
schema as *reader* schema keeps decoding newer messages (Avro schema resolution).
"""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa

from fink_like.errors import ConfigError
from fink_like.surveys.canonical import CANONICAL_SCHEMA

NAMESPACE = "fink_like.distribution"
FORMAT_VERSION = 1
# Scalar canonical columns copied into every message, so clients need not know the survey.
HEADER = [f for f in CANONICAL_SCHEMA if f.name in (
    "survey", "schema_version", "alert_id", "object_id", "source_id", "mjd", "ra", "dec", "band",
    "flux", "fluxerr", "mag", "magerr", "isdiffpos", "ndethist", "first_mjd", "rb", "drb", "nbad",
    "reliability", "flags", "ssdistnr", "ssnamenr", "ssmagnr", "ss_object_id", "sgscore1", "distpsnr1", "broker_version",
)]
HEADER_NAMES = tuple(f.name for f in HEADER)
PROVENANCE_TYPE = {
    "type": "array",
    "items": {
        "type": "record", "name": f"{NAMESPACE}.provenance_entry",
        "fields": [
            {"name": "module", "type": "string"},
            {"name": "version", "type": ["null", "string"], "default": None},
            {"name": "model_hash", "type": ["null", "string"], "default": None},
            {"name": "model_version", "type": ["null", "string"], "default": None},
            {"name": "status", "type": ["null", "string"], "default": None},
            {"name": "error", "type": ["null", "string"], "default": None},
        ],
    },
}


_NOT_MODULE = frozenset(CANONICAL_SCHEMA.names) | {"provenance"}


def module_fields(schema: pa.Schema) -> list[pa.Field]:
    """Columns added by science modules: neither canonical nor ``provenance``."""
    return [f for f in schema if f.name not in _NOT_MODULE]


def avro_type(dtype: pa.DataType, name: str):
    """The Avro type of an Arrow type (records are named after ``name``)."""
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "long" if dtype.bit_width == 64 or dtype in (pa.uint32(), pa.uint64()) else "int"
    if pa.types.is_float64(dtype):
        return "double"
    if pa.types.is_floating(dtype):
        return "float"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "bytes"
    if pa.types.is_timestamp(dtype):
        return {"type": "long", "logicalType": "timestamp-millis"}
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return {"type": "array", "items": _nullable(avro_type(dtype.value_type, f"{name}_item"))}
    if pa.types.is_struct(dtype):
        return {"type": "record", "name": f"{NAMESPACE}.{name}", "fields": [
            {"name": f.name, "type": _nullable(avro_type(f.type, f"{name}_{f.name}")), "default": None}
            for f in dtype
        ]}
    raise ConfigError(f"column {name!r}: Arrow type {dtype} has no distribution (Avro) mapping")


def _nullable(t):
    return ["null", t]


def thin_packet(packet_schema: dict) -> dict:
    """The survey schema without its top-level ``cutout*`` fields."""
    fields = [f for f in packet_schema["fields"] if not f["name"].lower().startswith("cutout")]
    return dict(packet_schema, fields=fields)


def build_schema(table_schema: pa.Schema, packet_schema: dict, cutouts: bool) -> dict:
    """The distribution schema for alerts of one survey schema and one set of module columns."""
    fields = []
    for f in HEADER:
        t = avro_type(f.type, f.name)
        fields.append({"name": f.name, "type": t} if not f.nullable else
                      {"name": f.name, "type": _nullable(t), "default": None})
    packet = packet_schema if cutouts else thin_packet(packet_schema)
    fields.append({"name": "packet", "type": packet, "doc": "the survey's alert record, as received"})
    for f in module_fields(table_schema):
        fields.append({"name": f.name, "type": _nullable(avro_type(f.type, f.name)), "default": None})
    fields.append({"name": "provenance", "type": PROVENANCE_TYPE, "default": []})
    return {
        "type": "record",
        "name": f"{NAMESPACE}.alert",
        "doc": f"fink-like enriched alert, format {FORMAT_VERSION}, {'full' if cutouts else 'thin'}",
        "fields": fields,
    }


def schema_id(schema: dict) -> int:
    """A stable 31-bit id: the first four bytes of the SHA-256 of the canonical JSON."""
    digest = hashlib.sha256(canonical_json(schema).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def canonical_json(schema: dict) -> str:
    """Compact JSON with sorted keys: the text that ids and files are made of."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))
