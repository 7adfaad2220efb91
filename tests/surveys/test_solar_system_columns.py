"""Canonical solar-system columns: ZTF candidate fields, Rubin ssSource and orbit records per version."""

from __future__ import annotations

import math

import pyarrow.compute as pc
import pytest

from fink_like.surveys import decode_packet, read_alert_files
from fink_like.surveys.files import load_file_messages
from fink_like.surveys.rubin import solar_system


def test_ztf_designations_and_distances(shared_data):
    table = read_alert_files([shared_data / "ztf" / "alerts-4.02", shared_data / "ztf" / "alerts-3.3"])
    expected = []
    for message in load_file_messages(shared_data / "ztf" / "alerts-4.02") + \
            load_file_messages(shared_data / "ztf" / "alerts-3.3"):
        cand = decode_packet(message.value)[1]["candidate"]
        name = cand.get("ssnamenr")
        expected.append(None if name in (None, "null") else name)
    assert sorted(table["ssnamenr"].drop_null().to_pylist()) == sorted(n for n in expected if n)
    assert pc.sum(pc.is_valid(table["ssnamenr"])).as_py() == 100
    row = table.filter(pc.equal(table["ssnamenr"], "2009PB15")).to_pylist()[0]
    assert (row["object_id"], row["ssdistnr"], row["ssmagnr"], row["ss_object_id"]) == (
        "ZTF23ablgreu", 0.0, pytest.approx(20.4), None)


def test_rubin_9_0_ssource_and_mpcorb(shared_data):
    table = read_alert_files([shared_data / "lsst" / "alerts-9.0"])
    known = table.filter(pc.is_valid(table["ss_object_id"])).to_pylist()
    assert sorted((r["ssnamenr"], r["ss_object_id"]) for r in known) == [
        ("K12J69D", 21164715316492612), ("K13L24L", 21164719644750924), ("K13L24L", 21164719644750924),
        ("K14K03A", 21164723922809665)]
    first = next(r for r in known if r["alert_id"] == 169298432645136561)
    # residualRa -4.247e-05 deg, residualDec 5.982e-06 deg
    assert first["ssdistnr"] == pytest.approx(math.hypot(-4.247235030163665e-05, 5.982276235272366e-06) * 3600)
    assert first["ssmagnr"] is None  # predictedVMagnitude is null in these alerts
    assert first["object_id"] == "21164719644750924"   # diaObjectId 0: the ssObjectId names the object


@pytest.mark.parametrize("record, src, expected", [
    ({}, {"ssObjectId": 7}, (None, None, None, 7)),                                        # 7.x
    ({"ssSource": None, "MPCORB": None}, {"ssObjectId": None}, (None, None, None, None)),   # 9.0, no object
    ({"ssSource": {"ssObjectId": 9, "designation": "2013 LL24", "ephOffset": 0.4, "ephVmag": 21.5},
      "mpc_orbits": {"designation": "2013 LL24"}}, {"ssObjectId": 9}, (0.4, "2013 LL24", 21.5, 9)),   # 10.0+
    ({"ssSource": {"ssObjectId": 9, "designation": None, "ephOffset": None, "ephOffsetRa": 0.3,
                   "ephOffsetDec": 0.4, "ephVmag": None}, "mpc_orbits": {"designation": "2013 LL24"}},
     {"ssObjectId": None}, (pytest.approx(0.5), "2013 LL24", None, 9)),
])
def test_rubin_versions(record, src, expected):
    got = solar_system(record, src)
    assert (got["ssdistnr"], got["ssnamenr"], got["ssmagnr"], got["ss_object_id"]) == expected


def _filled(record_schema: dict, **values) -> dict:
    """A record of ``record_schema`` with nulls (or zeros for required fields) and ``values``."""
    zero = {"long": 0, "int": 0, "double": 0.0, "float": 0.0, "string": "", "boolean": False}
    out = {}
    for field in record_schema["fields"]:
        kind = field["type"]
        out[field["name"]] = None if isinstance(kind, list) and "null" in kind else zero.get(kind)
    out.update(values)
    return out


@pytest.mark.parametrize("version", ["10.0", "11.0", "11.1"])
def test_rubin_10_and_later_round_trip_through_the_wire(version):
    import glob
    import os

    import fastavro
    import lsst.alert.packet as packet

    from fink_like.surveys.rubin import RubinAdapter

    major, minor = version.split(".")
    folder = os.path.join(os.path.dirname(packet.__file__), "schema", major, minor)
    with open(glob.glob(f"{folder}/sample_data/*.avro")[0], "rb") as handle:
        record = next(iter(fastavro.reader(handle)))
    adapter = RubinAdapter()
    named = adapter.schema(int(major) * 100 + int(minor))["__named_schemas"]
    prefix = f"lsst.v{major}_{minor}"
    record["diaSource"]["ssObjectId"] = 42
    record["ssSource"] = _filled(named[f"{prefix}.ssSource"], ssObjectId=42, designation="2013 LL24",
                                 ephOffset=0.25, ephVmag=20.5)
    record["mpc_orbits"] = _filled(named[f"{prefix}.mpc_orbits"], designation="2013 LL24")
    value = adapter.encode(record, version)
    assert adapter.decode(value) == record
    row = adapter.to_canonical(adapter.decode_view(value), version)
    assert (row["ssnamenr"], row["ssdistnr"], row["ssmagnr"], row["ss_object_id"]) == ("2013 LL24", 0.25, 20.5, 42)
