"""The survey packet of an enriched alert: its writer schema (self-contained) and its record.

The distribution schema embeds the survey's own alert schema, so it needs it as one
self-contained JSON document. ZTF 4.02 headers name their sub-records without defining
them; their definitions come from the official schema bundled in ``fink_like.surveys``.
Rubin schemas come from ``lsst-alert-packet`` by wire-format id. Each distinct schema is
resolved and parsed once per process.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from importlib import resources

import fastavro
from fastavro.repository.base import SchemaRepositoryError

from fink_like.errors import AlertError, require
from fink_like.surveys.avro import CONTAINER_MAGIC, read_body, split_container, unpack_wire

ZTF_DEFINITIONS = ("ztf-4.02.avsc", "ztf-3.3.avsc")
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


@dataclass(frozen=True)
class PacketSchema:
    """A survey alert schema: a stable key, the self-contained JSON and the parsed form."""

    key: str
    schema: dict
    parsed: object


class PacketReader:
    """Decodes survey packets and gives their schemas; caches per distinct schema."""

    def __init__(self):
        self._by_header: dict[str, PacketSchema] = {}
        self._by_wire_id: dict[int, PacketSchema] = {}
        self._definitions: dict[str, dict] | None = None

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()

    def read(self, packet: bytes) -> tuple[PacketSchema, dict]:
        """``(schema, record)`` of one packet (ZTF container or Rubin wire format)."""
        schema, body = self.split(packet)
        return schema, read_body(body, schema.parsed)

    def split(self, packet: bytes) -> tuple[PacketSchema, bytes]:
        """``(schema, body)`` of one packet, without decoding it: the bare Avro body of its record."""
        if packet[:4] == CONTAINER_MAGIC:
            container = split_container(packet)
            schema = self._ztf_schema(container.schema_json)
            body = next((data for count, data in container.blocks if count == 1), None)
            if body is None or container.count != 1:
                raise AlertError("not_single_alert", f"container holds {container.count} records, expected 1")
            return schema, body
        wire_id, body = unpack_wire(packet)
        return self._rubin_schema(wire_id), body

    def _ztf_schema(self, header: str) -> PacketSchema:
        found = self._by_header.get(header)
        if found is None:
            raw = json.loads(header)
            full = _inline(raw, self._ztf_definitions(), set())
            key = f"ztf-{raw.get('version', 'unknown')}"
            found = self._by_header[header] = PacketSchema(key, full, fastavro.parse_schema(copy.deepcopy(full)))
        return found

    def _ztf_definitions(self) -> dict[str, dict]:
        if self._definitions is None:
            self._definitions = {}
            for name in ZTF_DEFINITIONS:
                text = resources.files("fink_like.surveys").joinpath("schemas", name).read_text()
                _collect(json.loads(text), None, self._definitions)
        return self._definitions

    def _rubin_schema(self, wire_id: int) -> PacketSchema:
        found = self._by_wire_id.get(wire_id)
        if found is None:
            packet = require("lsst.alert.packet", "lsst-alert-packet")
            major, minor = divmod(wire_id, 100)
            path = f"{packet.get_schema_path(major, minor)}/lsst.v{major}_{minor}.alert.avsc"
            try:
                full = packet.Schema.from_file(path).definition
            except (OSError, ValueError, SchemaRepositoryError) as exc:
                raise AlertError("unknown_schema_id", f"Rubin schema id {wire_id} not in lsst-alert-packet") from exc
            found = PacketSchema(f"lsst-{major}.{minor}", full, fastavro.parse_schema(copy.deepcopy(full)))
            self._by_wire_id[wire_id] = found
        return found


def _fullname(node: dict, namespace: str | None) -> tuple[str, str | None]:
    name = node["name"]
    if "." in name:
        return name, name.rsplit(".", 1)[0]
    ns = node.get("namespace", namespace)
    return (f"{ns}.{name}" if ns else name), ns


def _collect(node, namespace, out: dict) -> None:
    """Every named type of a raw schema, by full name."""
    if isinstance(node, list):
        for item in node:
            _collect(item, namespace, out)
    elif isinstance(node, dict):
        if node.get("type") in ("record", "enum", "fixed") and "name" in node:
            full, namespace = _fullname(node, namespace)
            out.setdefault(full, node)
        for field in node.get("fields", ()):
            _collect(field["type"], namespace, out)
        for key in ("items", "values"):
            if key in node:
                _collect(node[key], namespace, out)


def _inline(node, definitions: dict, defined: set, namespace: str | None = None):
    """A copy of ``node`` where the first use of each undefined name is its definition."""
    if isinstance(node, str):
        if node in PRIMITIVES:
            return node
        full = node if "." in node else (f"{namespace}.{node}" if namespace else node)
        if full in defined:
            return full
        if full not in definitions:
            raise AlertError("unknown_schema", f"survey schema names the undefined type {node!r}")
        return _inline(definitions[full], definitions, defined, namespace)
    if isinstance(node, list):
        return [_inline(x, definitions, defined, namespace) for x in node]
    if not isinstance(node, dict):
        return node
    out = dict(node)
    if node.get("type") in ("record", "enum", "fixed") and "name" in node:
        full, namespace = _fullname(node, namespace)
        defined.add(full)
        out["name"] = full
        out.pop("namespace", None)
    if "fields" in node:
        out["fields"] = [dict(f, type=_inline(f["type"], definitions, defined, namespace)) for f in node["fields"]]
    for key in ("items", "values"):
        if key in node:
            out[key] = _inline(node[key], definitions, defined, namespace)
    if isinstance(node.get("type"), (dict, list)):
        out["type"] = _inline(node["type"], definitions, defined, namespace)
    return out
