"""write_container: exactly fastavro.writer's bytes, with a reproducible sync marker."""

from __future__ import annotations

import hashlib
import io
import json

import fastavro
import pytest

from fink_like.errors import AlertError
from fink_like.surveys import decode_packet
from fink_like.surveys.avro import split_container, write_container


def _reference(parsed, records, codec="null") -> bytes:
    """fastavro.writer itself, with the sorted schema and sync marker write_container documents."""
    parsed = json.loads(json.dumps(parsed, sort_keys=True))
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


def test_the_same_schema_text_gives_the_same_bytes_in_any_process(shared_data):
    """fastavro orders a parsed field's keys by string hash: PYTHONHASHSEED must not matter."""
    import subprocess
    import sys

    script = ("import sys, hashlib; from fink_like.surveys.files import load_file_messages;"
              "from fink_like.simulator import load_alerts;"
              f"m = load_alerts([{str(shared_data / 'ztf/alerts-3.3')!r}], clone_factor=2, seed=1);"
              "print(hashlib.md5(b''.join(x.value for x in m)).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", script], env={"PYTHONHASHSEED": str(seed)},
                              capture_output=True, text=True, check=True).stdout for seed in (0, 1, 2)}
    assert len(digests) == 1


def test_a_record_that_does_not_fit_is_a_schema_mismatch(file_messages):
    from fink_like.surveys import adapter_for

    message = file_messages["ztf/alerts-4.02"][0]
    parsed = adapter_for("ztf")._writer_schema(split_container(message.value).schema_json)
    with pytest.raises(AlertError) as err:
        write_container(parsed, [{"candid": "not a number"}])
    assert err.value.reason == "schema_mismatch"
