"""write_container: exactly fastavro.writer's bytes, with a reproducible sync marker."""

from __future__ import annotations

import hashlib
import io

import fastavro
import pytest

from fink_like.errors import AlertError
from fink_like.surveys import decode_packet
from fink_like.surveys.avro import split_container, write_container


def _reference(parsed, records, codec="null") -> bytes:
    """fastavro.writer itself, with the sync marker write_container documents."""
    block = io.BytesIO()
    for record in records:
        fastavro.schemaless_writer(block, parsed, record)
    out = io.BytesIO()
    fastavro.writer(out, parsed, records, codec=codec, sync_marker=hashlib.md5(block.getvalue()).digest())
    return out.getvalue()


@pytest.mark.parametrize("folder", ["ztf/alerts-3.3", "ztf/alerts-4.02"])
def test_same_bytes_as_fastavro_writer(file_messages, folder):
    from fink_like.surveys import adapter_for

    ztf = adapter_for("ztf")
    for message in file_messages[folder][:25]:
        _adapter, record = decode_packet(message.value)
        parsed = ztf._writer_schema(split_container(message.value).schema_json)
        value = write_container(parsed, [record])
        assert value == _reference(parsed, [record])
        assert write_container(parsed, [record]) == value  # reproducible
        assert ztf.decode(value) == record
    assert write_container(parsed, []) == _reference(parsed, [])
    assert write_container(parsed, [record, record]) == _reference(parsed, [record, record])
    assert write_container(parsed, [record], codec="deflate") == _reference(parsed, [record], "deflate")


def test_a_record_that_does_not_fit_is_a_schema_mismatch(file_messages):
    from fink_like.surveys import adapter_for

    message = file_messages["ztf/alerts-4.02"][0]
    parsed = adapter_for("ztf")._writer_schema(split_container(message.value).schema_json)
    with pytest.raises(AlertError) as err:
        write_container(parsed, [{"candid": "not a number"}])
    assert err.value.reason == "schema_mismatch"
