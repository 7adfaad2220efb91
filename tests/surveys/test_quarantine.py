"""Bad messages land in quarantine with their reason; good ones in the same batch decode."""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pytest

from fink_like import __version__
from fink_like.errors import AlertError
from fink_like.surveys import QUARANTINE_SCHEMA, adapter_for, decode_batch, decode_packet
from fink_like.surveys.avro import pack_wire, unpack_wire


@pytest.fixture(scope="module")
def samples(file_messages):
    return {
        "ztf": file_messages["ztf/alerts-4.02"][0].value,
        "ztf33": file_messages["ztf/alerts-3.3"][0].value,
        "lsst": file_messages["lsst/alerts-9.0"][0].value,
    }


def _with(survey: str, value: bytes, version: str, change) -> bytes:
    adapter = adapter_for(survey)
    record = adapter.decode(value)
    change(record)
    return adapter.encode(record, version)


def _set(path: tuple, new):
    def change(record):
        node = record
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = new
    return change


def _kafka_rows(values: list) -> pa.Table:
    n = len(values)
    return pa.table({
        "key": pa.array([f"k{i}".encode() for i in range(n)], pa.binary()),
        "value": pa.array(values, pa.binary()),
        "topic": pa.array(["t"] * n),
        "partition": pa.array([3] * n, pa.int32()),
        "offset": pa.array(range(100, 100 + n), pa.int64()),
        "timestamp": pa.array([dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)] * n, pa.timestamp("us", tz="UTC")),
    })


def test_each_bad_input_class_is_quarantined_with_its_reason(samples):
    ztf, lsst = samples["ztf"], samples["lsst"]
    cases = [
        (ztf, None),
        (ztf[: len(ztf) // 2], "truncated"),
        (lsst[:3], "truncated"),
        (lsst[: len(lsst) - 100], "truncated"),
        (lsst[:-1], "truncated"),
        (ztf[:-1], "truncated"),
        (b"\x7fnot an alert at all", "not_avro"),
        (b"", "empty"),
        (None, "empty"),
        (pack_wire(4242, unpack_wire(lsst)[1]), "unknown_schema_id"),
        (pack_wire(704, unpack_wire(lsst)[1]), "schema_mismatch"),  # a 9.0 body under the 7.4 id
        (_with("ztf", ztf, "4.02", _set(("candidate", "ra"), math.nan)), "invalid_position"),
        (_with("ztf", ztf, "4.02", _set(("candidate", "dec"), 91.5)), "invalid_position"),
        (_with("ztf", ztf, "4.02", _set(("candidate", "ra"), 360.0)), "invalid_position"),
        (_with("lsst", lsst, "9.0", _set(("diaSource", "dec"), -90.5)), "invalid_position"),
        (_with("lsst", lsst, "9.0", _set(("diaSource", "midpointMjdTai"), math.nan)), "invalid_time"),
        (_with("ztf", ztf, "4.02", _set(("candidate", "jd"), 0.5)), "invalid_time"),
        (_with("lsst", lsst, "9.0", _set(("diaSource", "psfFlux"), math.inf)), "invalid_flux"),
        (_with("ztf", ztf, "4.02", _set(("candidate", "sigmapsf"), -1.0)), "invalid_flux"),
        (_with("ztf", ztf, "4.02", _set(("candidate", "fid"), 7)), "invalid_band"),
        (_with("lsst", lsst, "9.0", _set(("diaSource", "band"), None)), "missing_field"),
        (samples["ztf33"], None),
        (lsst, None),
    ]
    table = _kafka_rows([value for value, _ in cases])
    canonical, quarantine = decode_batch(table)

    assert len(canonical) + len(quarantine) == len(table)
    good = [i for i, (_, reason) in enumerate(cases) if reason is None]
    assert canonical.column("offset").to_pylist() == [100 + i for i in good]
    assert quarantine.schema == QUARANTINE_SCHEMA
    bad = [(100 + i, reason) for i, (_, reason) in enumerate(cases) if reason is not None]
    assert list(zip(quarantine.column("offset").to_pylist(), quarantine.column("reason").to_pylist())) == bad
    assert all(quarantine.column("detail").to_pylist())
    values = [v for v, r in cases if r is not None]
    assert quarantine.column("value").to_pylist() == values  # the original bytes, untouched
    assert set(quarantine.column("partition").to_pylist()) == {3}
    assert quarantine.column("key").to_pylist()[0] == b"k1"


def test_transport_and_stamps_are_copied(samples):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    canonical, quarantine = decode_batch(_kafka_rows([samples["ztf"], samples["lsst"]]).to_batches()[0])
    assert len(quarantine) == 0
    rows = canonical.to_pylist()
    assert [r["packet"] for r in rows] == [samples["ztf"], samples["lsst"]]
    assert [r["offset"] for r in rows] == [100, 101]
    assert {r["topic"] for r in rows} == {"t"} and {r["partition"] for r in rows} == {3}
    assert {r["kafka_timestamp"] for r in rows} == {dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)}
    assert {r["broker_version"] for r in rows} == {__version__}
    assert all(before <= r["ingest_time"] <= dt.datetime.now(dt.timezone.utc) for r in rows)
    assert [r["survey"] for r in rows] == ["ztf", "lsst"]


def test_empty_batch_gives_two_empty_tables():
    canonical, quarantine = decode_batch(_kafka_rows([]))
    assert (len(canonical), len(quarantine)) == (0, 0)


def test_batch_without_value_column_is_a_clear_error():
    with pytest.raises(AlertError, match="no 'value' column"):
        decode_batch(pa.table({"key": [b"x"]}))


def test_decode_packet_names_the_problem():
    with pytest.raises(AlertError) as info:
        decode_packet(b"\x00\x00\x00\x0f\xff")
    assert info.value.reason == "unknown_schema_id" and "4095" in info.value.detail
