"""Every real alert of every schema version decodes, and encode/decode is lossless."""

from __future__ import annotations

import pytest

from fink_like.surveys import adapter_for, decode_packet

FOLDERS = {"ztf/alerts-3.3": "ztf", "ztf/alerts-4.02": "ztf", "lsst/alerts-7.4": "lsst", "lsst/alerts-9.0": "lsst"}


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_every_alert_round_trips(file_messages, shared_data, folder):
    messages = file_messages[folder]
    assert len(messages) == len(list((shared_data / folder).glob("*.avro")))
    for message in messages:
        adapter, record = decode_packet(message.value)
        assert adapter.name == FOLDERS[folder]
        again = adapter.encode(record, message.schema_version)
        assert adapter.decode(again) == record, message.source
        assert adapter.schema_version(again, record) == message.schema_version


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_projected_view_gives_the_same_canonical_row(file_messages, folder):
    for message in file_messages[folder][:40]:
        adapter, record = decode_packet(message.value)
        full = adapter.to_canonical(record, message.schema_version)
        assert adapter.to_canonical(adapter.decode_view(message.value), message.schema_version) == full


def test_rubin_wire_header_names_the_schema(file_messages):
    for folder, sid in (("lsst/alerts-7.4", 704), ("lsst/alerts-9.0", 900)):
        value = file_messages[folder][0].value
        assert value[0] == 0 and int.from_bytes(value[1:5], "big") == sid


@pytest.mark.parametrize("version", ["7.0", "7.4", "8.0", "9.0", "10.0", "11.0", "11.1"])
def test_rubin_schemas_7_to_11_load_from_lsst_alert_packet(version):
    major, minor = (int(x) for x in version.split("."))
    parsed = adapter_for("lsst").schema(major * 100 + minor)
    assert parsed["name"] == f"lsst.v{major}_{minor}.alert"


def test_cutouts_are_the_stored_stamps(file_messages):
    _, ztf = decode_packet(file_messages["ztf/alerts-4.02"][0].value)
    stamps = adapter_for("ztf").cutouts(ztf)
    assert stamps == {"science": ztf["cutoutScience"]["stampData"],
                      "template": ztf["cutoutTemplate"]["stampData"],
                      "difference": ztf["cutoutDifference"]["stampData"]}
    assert stamps["science"][:2] == b"\x1f\x8b"  # gzipped FITS, as ZTF ships it
    _, rubin = decode_packet(file_messages["lsst/alerts-9.0"][0].value)
    assert adapter_for("rubin").cutouts(rubin) == {
        "science": rubin["cutoutScience"], "template": rubin["cutoutTemplate"],
        "difference": rubin["cutoutDifference"]}


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_a_batch_container_decodes_to_the_same_records(file_messages, folder):
    # Many bodies under one self-contained header, as a columnar reader takes them.
    import io
    import json

    import fastavro

    from fink_like.distribution.packet import PacketReader
    from fink_like.surveys.avro import batch_container

    reader = PacketReader()
    by_schema: dict = {}
    for message in file_messages[folder]:
        schema, body = reader.split(message.value)
        by_schema.setdefault(json.dumps(schema.schema), []).append((body, decode_packet(message.value)[1]))
    for schema_json, pairs in by_schema.items():
        container = batch_container(schema_json, [body for body, _ in pairs])
        assert list(fastavro.reader(io.BytesIO(container))) == [record for _, record in pairs]


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_an_unpickled_adapter_starts_with_empty_caches_and_decodes_alike(file_messages, folder):
    import pickle

    message = file_messages[folder][0]
    adapter, record = decode_packet(message.value)
    assert adapter.__dict__ and any(adapter.__dict__.values())   # caches filled by the decode
    again = pickle.loads(pickle.dumps(adapter))
    assert type(again) is type(adapter) and not any(again.__dict__.values())
    assert again.decode(message.value) == record
