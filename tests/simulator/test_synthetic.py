"""The synthetic night: schema-valid ZTF 4.02 / Rubin 9.0 alerts that decode to what was simulated."""

from __future__ import annotations

import gzip
import io
import json
import logging
import uuid
from pathlib import Path

import fastavro
import numpy as np
import pytest
from astropy.io import fits

from fink_like.cli import main
from fink_like.config import load_settings
from fink_like.jobs.main_job import RunOptions, replay_batches
from fink_like.jobs.stages import compile_cuts, quality_mask
from fink_like.science.lcsim import SimulationError
from fink_like.simulator import make_night, synthetic_night
from fink_like.simulator.synthetic import record_templates
from fink_like.surveys.avro import unpack_wire
from fink_like.surveys.batch import adapter_for, decode_batch
from fink_like.surveys.files import messages_table

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "fink_like/surveys/schemas"
NIGHT = "20251121"  # MJD 61000, the default night


@pytest.fixture(scope="module")
def night():
    return make_night(60, seed=3)


@pytest.fixture(scope="module")
def decoded(night):
    return decode_batch(messages_table(night.messages))


def _rubin_schema():
    import lsst.alert.packet as packet

    return fastavro.schema.load_schema(str(Path(packet.get_schema_path(9, 0)) / "lsst.v9_0.alert.avsc"))


def test_every_message_is_valid_for_its_schema(night):
    ztf_schema = fastavro.parse_schema(json.loads((SCHEMAS / "ztf-4.02.avsc").read_text()))
    rubin_schema = _rubin_schema()
    counts = {"ztf": 0, "lsst": 0}
    for message in night.messages:
        counts[message.survey] += 1
        if message.survey == "ztf":
            reader = fastavro.reader(io.BytesIO(message.value))
            records = list(reader)
            assert len(records) == 1 and reader.writer_schema["name"] == "ztf.alert"
            assert fastavro.validate(records[0], ztf_schema, raise_errors=True)
            assert records[0]["schemavsn"] == "4.02" and message.schema_version == "4.02"
        else:
            sid, body = unpack_wire(message.value)
            assert sid == 900 and message.schema_version == "9.0"
            record = fastavro.schemaless_reader(io.BytesIO(body), rubin_schema)
            assert fastavro.validate(record, rubin_schema, raise_errors=True)
        assert message.key == str(adapter_for(message.survey).alert_id(
            adapter_for(message.survey).decode(message.value))).encode()
    assert counts == {"ztf": 30, "lsst": 30}


def _ztf_flux(mag, positive):
    return (1.0 if positive else -1.0) * 10.0 ** (-0.4 * (np.float32(mag).astype(np.float64) - 31.4))


def _f32(values):
    return np.asarray(values, np.float32).astype(np.float64)


def test_round_trip_gives_the_intended_canonical_values(night, decoded):
    canonical, quarantine = decoded
    assert quarantine.num_rows == 0
    rows = canonical.to_pylist()
    assert len(rows) == len(night.expected)
    for got, want in zip(rows, night.expected):
        for name in ("survey", "schema_version", "alert_id", "object_id", "ra", "dec", "band", "ndethist",
                     "lc_band", "ul_band", "fp_band"):
            assert got[name] == want[name], name
        assert got["source_id"] == want["alert_id"] and got["night"] == NIGHT
        assert got["mjd"] == pytest.approx(want["mjd"], abs=1e-8)
        assert got["first_mjd"] == pytest.approx(want["first_mjd"], abs=1e-8)
        for name in ("lc_mjd", "ul_mjd", "fp_mjd"):
            np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-8)
        if want["survey"] == "ztf":
            assert got["mag"] == np.float32(want["mag"]) and got["rb"] == np.float32(want["rb"])
            assert got["flux"] == pytest.approx(_ztf_flux(want["mag"], want["flux"] > 0), rel=1e-12)
            flux = [_ztf_flux(m, f > 0) for m, f in zip(want["lc_mag"], want["lc_flux"])]
            np.testing.assert_allclose(got["lc_flux"], flux, rtol=1e-12)
            np.testing.assert_allclose(got["lc_magerr"], _f32(want["lc_magerr"]), rtol=1e-12)
            np.testing.assert_allclose(got["ul_maglim"], _f32(want["ul_maglim"]), rtol=1e-12)
            assert (got["nbad"], got["fp_flux"]) == (want["nbad"], [])
        else:
            assert got["flux"] == np.float32(want["flux"]) and got["fluxerr"] == np.float32(want["fluxerr"])
            np.testing.assert_allclose(got["lc_flux"], _f32(want["lc_flux"]), rtol=1e-12)
            np.testing.assert_allclose(got["fp_flux"], _f32(want["fp_flux"]), rtol=1e-12)
            assert got["reliability"] == np.float32(want["reliability"]) and got["ul_mjd"] == []
        # float32 magnitudes/fluxes stay within single precision of the simulated values
        np.testing.assert_allclose(got["lc_flux"], want["lc_flux"], rtol=1e-5)
        assert len(got["lc_mjd"]) == len(want["lc_mjd"]) >= 1


def test_alerts_fall_inside_the_night(night):
    for want in night.expected:
        low, high = (61000.15, 61000.45) if want["survey"] == "ztf" else (61001.0, 61001.38)
        assert low <= want["mjd"] <= high
        assert want["lc_mjd"][-1] == want["mjd"]
        assert all(t < want["mjd"] for t in want["lc_mjd"][:-1] + want["ul_mjd"] + want["fp_mjd"])
    assert sum(w["ul_mjd"] != [] for w in night.expected if w["survey"] == "ztf") > 0
    assert sum(w["fp_mjd"] != [] for w in night.expected if w["survey"] == "lsst") > 0


def _all_ids(night):
    ztf_candids, rubin_sources, objects = [], [], []
    for message in night.messages:
        record = adapter_for(message.survey).decode(message.value)
        if message.survey == "ztf":
            ztf_candids += [record["candid"]] + [p["candid"] for p in record["prv_candidates"] if p["candid"]]
            objects.append(record["objectId"])
            assert record["objectId"].startswith("ZTF25") and len(record["objectId"]) == 12
        else:
            rubin_sources += [record["diaSourceId"]] + [p["diaSourceId"] for p in record["prvDiaSources"]]
            objects.append(record["diaSource"]["diaObjectId"])
            assert {p["diaObjectId"] for p in record["prvDiaSources"]} <= {objects[-1]}
    return ztf_candids, rubin_sources, objects


def test_ids_are_unique_and_seeded(night):
    candids, sources, objects = _all_ids(night)
    for ids in (candids, sources, objects):
        assert len(ids) == len(set(ids))
    assert all(0 < i < 2**63 for i in candids + sources)
    other = _all_ids(make_night(4, seed=4))
    assert not set(other[0]) & set(candids) and not set(other[1]) & set(sources)


def test_same_seed_same_bytes():
    first, again = synthetic_night(6, seed=9), synthetic_night(6, seed=9)
    assert [m.value for m in first] == [m.value for m in again]
    assert [m.key for m in first] != [m.key for m in synthetic_night(6, seed=10)]
    assert {m.survey for m in synthetic_night(3, surveys=("rubin",))} == {"lsst"}


def test_quality_cuts_pass_mostly_and_exactly_as_drawn(night, decoded):
    canonical, _ = decoded
    cuts = load_settings(str(REPO / "conf/local.yaml")).science.quality_cuts
    passed = quality_mask(canonical, compile_cuts(cuts)).to_pylist()
    df = canonical.select(["survey", "rb", "nbad", "flags"]).to_pandas()
    ztf = (df.survey == "ztf") & (df.rb >= 0.55) & (df.nbad == 0)
    lsst = (df.survey == "lsst") & (df["flags"].fillna(0).astype("int64") & 4731396).eq(0)
    assert passed == (ztf | lsst).tolist()
    intended = [(w["rb"] >= 0.55 and w["nbad"] == 0) if w["survey"] == "ztf" else w["flag"] is None
                for w in night.expected]
    assert passed == intended
    assert 0.8 <= sum(passed) / len(passed) < 1.0


def test_cutouts_are_fits_stamps_with_the_source_at_the_centre(night):
    by_survey = {}
    for message, want in zip(night.messages, night.expected):
        by_survey.setdefault(message.survey, (message, want))
    for survey, (message, want) in by_survey.items():
        adapter = adapter_for(survey)
        stamps = adapter.cutouts(adapter.decode(message.value))
        assert set(stamps) == {"science", "template", "difference"}
        for name, data in stamps.items():
            raw = gzip.decompress(data) if survey == "ztf" else data
            with fits.open(io.BytesIO(raw)) as hdul:
                image, header = hdul[0].data, hdul[0].header
                size = 63 if survey == "ztf" else 30
                assert image.shape == (size, size) and header["BUNIT"] == ("DN" if survey == "ztf" else "nJy")
                assert header["CRVAL1"] == pytest.approx(want["ra"], abs=1e-9)
                assert header["CRVAL2"] == pytest.approx(want["dec"], abs=1e-9)
            if name == "difference":
                centre = image[size // 2 - 1:size // 2 + 2, size // 2 - 1:size // 2 + 2].sum()
                assert np.sign(centre) == np.sign(want["flux"])


def test_record_templates_fill_required_fields_from_the_schema():
    schema = fastavro.parse_schema({
        "type": "record", "name": "t.alert", "fields": [
            {"name": "a", "type": "long"}, {"name": "b", "type": ["null", "string"]},
            {"name": "c", "type": "string", "default": "x"},
            {"name": "d", "type": {"type": "record", "name": "t.inner", "fields": [
                {"name": "e", "type": "boolean"}, {"name": "f", "type": {"type": "array", "items": "int"}}]}},
            {"name": "g", "type": {"type": "enum", "name": "t.kind", "symbols": ["K1", "K2"]}},
            {"name": "h", "type": ["null", "t.inner"], "default": None},
        ]})
    templates = record_templates(schema)
    assert templates == {"alert": {"a": 0, "b": None, "c": "x", "d": {"e": False, "f": []}, "g": "K1", "h": None},
                         "inner": {"e": False, "f": []}}
    assert fastavro.validate(templates["alert"], schema)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_alerts": -1}, "n_alerts must be a non-negative int"),
    ({"n_alerts": 2.5}, "n_alerts must be a non-negative int"),
    ({"n_alerts": 2, "seed": -3}, "seed must be a non-negative int"),
    ({"n_alerts": 2, "surveys": ("ztf", "hst")}, "surveys must be distinct names"),
    ({"n_alerts": 2, "surveys": ("ztf", "ztf")}, "surveys must be distinct names"),
    ({"n_alerts": 2, "mjd_night": float("nan")}, "mjd_night must be an MJD"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(SimulationError, match=message):
        synthetic_night(**kwargs)


def test_run_falls_back_to_a_synthetic_night(make_settings, tmp_path, caplog):
    settings = make_settings()
    with caplog.at_level(logging.INFO, logger="fink_like.run"):
        batches = replay_batches(settings, RunOptions(data_dir=str(tmp_path), rate=100.0, limit=7))
    assert "synthetic night" in caplog.text
    night = synthetic_night(7)
    sim = settings.simulator
    assert batches == [(sim.ztf_topic, [(m.key, m.value) for m in night if m.survey == "ztf"]),
                       (sim.lsst_topic, [(m.key, m.value) for m in night if m.survey == "lsst"])]
    assert [len(messages) for _, messages in batches] == [4, 3]


def test_cli_synthetic_rejects_files(capsys, tmp_path):
    config = tmp_path / "conf.yaml"
    config.write_text("kafka: {embedded: false, bootstrap_servers: '127.0.0.1:1'}\n")
    assert main(["--config", str(config), "simulate", "--synthetic", "4", "--data", str(tmp_path)]) == 2
    assert "--synthetic makes its own alerts" in capsys.readouterr().err


@pytest.mark.kafka
def test_cli_replays_a_synthetic_night(kafka_bootstrap, tmp_path, capsys):
    from fink_like.kafka.admin import watermarks

    ztf, lsst = f"z-{uuid.uuid4().hex[:8]}", f"l-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "conf.yaml"
    config.write_text(f"kafka: {{embedded: false, bootstrap_servers: '{kafka_bootstrap}'}}\n"
                      f"simulator: {{ztf_topic: {ztf}, lsst_topic: {lsst}, rate: 1000}}\n")
    assert main(["--config", str(config), "simulate", "--synthetic", "5", "--seed", "2"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["sent"] == 5
    conf = {"bootstrap.servers": kafka_bootstrap}
    assert watermarks(conf, ztf) == {0: (0, 3)} and watermarks(conf, lsst) == {0: (0, 2)}
