"""The distribution schemas of a configuration, for every survey schema the broker reads.

``fink-like schema generate`` writes them to ``distribution.schema_dir`` (the repository
ships those of ``conf/local.yaml`` in ``schemas/distribution/``), so that subscribers can
get every writer schema without Kafka: ZTF 3.3 and 4.02, and every Rubin version that
``lsst-alert-packet`` ships, each in the ``full`` and ``thin`` variants.
"""

from __future__ import annotations

from importlib import resources

import pyarrow as pa

from fink_like.distribution.encoder import Encoder
from fink_like.distribution.packet import ZTF_DEFINITIONS, PacketReader, PacketSchema
from fink_like.errors import AlertError

RUBIN_MAJORS = range(7, 12)


def packet_schemas() -> list[PacketSchema]:
    """Every survey alert schema the decoders accept, self-contained."""
    reader = PacketReader()
    out = []
    for name in ZTF_DEFINITIONS:
        text = resources.files("fink_like.surveys").joinpath("schemas", name).read_text()
        out.append(reader._ztf_schema(text))
    for major in RUBIN_MAJORS:
        for minor in range(10):
            try:
                out.append(reader._rubin_schema(major * 100 + minor))
            except AlertError:
                continue
    return out


def standard_schemas(table_schema: pa.Schema) -> dict[int, dict]:
    """Id -> distribution schema for enriched tables of ``table_schema``, full and thin."""
    encoder = Encoder()
    out = {}
    for packet in packet_schemas():
        for cutouts in (True, False):
            sid, schema, _parsed = encoder.schema_for(table_schema, packet, cutouts)
            out[sid] = schema
    return out
