"""Encoding enriched alerts: wire format, ids, full and thin variants, round trip."""

import pyarrow as pa
import pytest

from fink_like.distribution import decode_message, encode_batch
from fink_like.distribution.encoder import unframe
from fink_like.distribution.registry import SchemaRegistry, save
from fink_like.distribution.schema import build_schema, schema_id
from fink_like.errors import AlertError, ConfigError
from fink_like.surveys import decode_packet


def test_round_trip_every_survey_version(enriched):
    batch = encode_batch(enriched)
    registry = SchemaRegistry()
    for schema in batch.schemas.values():
        registry.add(schema)
    assert len(batch.values) == enriched.num_rows
    # one schema per survey schema version in the input (3.3 files may carry 3.2/3.3 headers)
    versions = set(zip(enriched["survey"].to_pylist(), enriched["schema_version"].to_pylist()))
    assert len(batch.schemas) >= len({v for v in versions})
    rows = enriched.to_pylist()
    for row, key, value in zip(rows, batch.keys, batch.values):
        sid, alert = decode_message(value, registry)
        assert key == str(row["alert_id"]).encode()
        assert sid in batch.schemas
        for column in ("alert_id", "object_id", "mjd", "band", "mag", "mulens_prob", "bnn_snia_mean", "ndethist"):
            assert alert[column] == row[column], column
        assert alert["provenance"] == row["provenance"]
        _, original = decode_packet(row["packet"])
        assert alert["packet"] == original  # the survey record, cutouts included, untouched


def test_thin_drops_cutouts_only(enriched):
    rows = [0, enriched.num_rows - 1]  # a ZTF and a Rubin alert
    full, thin = encode_batch(enriched, rows), encode_batch(enriched, rows, cutouts=False)
    registry = SchemaRegistry()
    for schema in [*full.schemas.values(), *thin.schemas.values()]:
        registry.add(schema)
    for f, t in zip(full.values, thin.values):
        _, a = decode_message(f, registry)
        _, b = decode_message(t, registry)
        cut = {k for k in a["packet"] if k.lower().startswith("cutout")}
        assert len(cut) == 3
        assert set(b["packet"]) == set(a["packet"]) - cut
        assert {k: v for k, v in a["packet"].items() if k not in cut} == b["packet"]
        assert len(t) < len(f) / 3


def test_schema_id_is_stable_and_changes_with_modules(enriched):
    from fink_like.distribution.packet import PacketReader

    packet_schema, _ = PacketReader().read(enriched["packet"][0].as_py())
    a = build_schema(enriched.schema, packet_schema.schema, True)
    assert schema_id(a) == schema_id(build_schema(enriched.schema, packet_schema.schema, True))
    wider = enriched.schema.append(pa.field("new_score", pa.float32()))
    assert schema_id(build_schema(wider, packet_schema.schema, True)) != schema_id(a)
    assert schema_id(build_schema(enriched.schema, packet_schema.schema, False)) != schema_id(a)


def test_registry_reads_saved_files_and_names_unknown_ids(enriched, tmp_path):
    batch = encode_batch(enriched, [0])
    (sid, schema), = batch.schemas.items()
    path = save(schema, tmp_path)
    assert path.name == f"{sid}.avsc"
    assert decode_message(batch.values[0], SchemaRegistry([tmp_path]))[0] == sid
    with pytest.raises(ConfigError, match=f"unknown distribution schema id {sid}"):
        SchemaRegistry([tmp_path / "empty"]).raw(sid)


def test_not_a_distribution_message():
    with pytest.raises(AlertError, match="magic 0"):
        unframe(b"Obj\x01...")


def _whole(encoder, table, row, cutouts):
    """The reference message: the packet decoded and the whole record encoded with fastavro."""
    import io

    import fastavro

    from fink_like.distribution.encoder import frame
    from fink_like.distribution.schema import HEADER_NAMES, module_fields

    packet_schema, record = encoder.reader.read(table["packet"][row].as_py())
    layout = encoder.layout_for(table.schema, packet_schema, cutouts)
    values = table.slice(row, 1).to_pylist()[0]
    message = {name: values[name] for name in (*HEADER_NAMES, *(f.name for f in module_fields(table.schema)))}
    message["packet"] = record if cutouts else {k: v for k, v in record.items() if not k.startswith("cutout")}
    message["provenance"] = values["provenance"]
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, layout.parsed, message)
    return frame(layout.sid, buf.getvalue())


@pytest.mark.parametrize("cutouts", [True, False], ids=["full", "thin"])
def test_spliced_messages_equal_whole_record_encoding(enriched, cutouts):
    """Messages assembled from the packet's own bytes are byte for byte the full encoding."""
    from fink_like.distribution.encoder import Encoder
    from fink_like.surveys import decode_messages

    encoder = Encoder()
    batch = encoder.encode(enriched, cutouts=cutouts)
    for row, value in enumerate(batch.values):
        assert value == _whole(encoder, enriched, row, cutouts), row
    # With the decoder's stamps (the streaming path) the thin messages are the same.
    stamps = decode_messages(pa.table({"value": enriched["packet"]})).stamps
    assert encoder.encode(enriched, cutouts=cutouts, stamps=stamps).values == batch.values


def test_thin_falls_back_to_a_whole_encoding_when_stamps_do_not_match(enriched):
    """Stamps that are not the body's trailing bytes never corrupt a message: the record is re-encoded."""
    from fink_like.distribution.encoder import Encoder
    from fink_like.surveys import decode_messages

    encoder = Encoder()
    rows = [0, 1, enriched.num_rows - 2, enriched.num_rows - 1]
    stamps = decode_messages(pa.table({"value": enriched["packet"]})).stamps
    wrong = stamps[1:] + stamps[:1]   # every row given its neighbour's stamps
    got = encoder.encode(enriched, rows, cutouts=False, stamps=wrong).values
    assert got == [_whole(encoder, enriched, row, False) for row in rows]
    missing = [{} for _ in stamps]    # no stamp fields at all: read from the packet
    assert encoder.encode(enriched, rows, cutouts=False, stamps=missing).values == got
