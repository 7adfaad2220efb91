"""The runner: typed outputs, quality-cut mask, failure isolation, provenance, pickling."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pyarrow as pa
import pytest
from toy_modules import BadType, Doubler

from fink_like.config import ModuleSpec
from fink_like.errors import PluginError
from fink_like.science.runner import PROVENANCE_TYPE, ScienceRunner, science_output_schema
from fink_like.surveys.canonical import CANONICAL_SCHEMA


def expected_doubler(table, limit=18.0):
    mag = table.column("mag").to_pandas()
    return (2 * mag).tolist(), [None if np.isnan(m) else bool(m < limit) for m in mag]


def statuses(out, module):
    return [next(p["status"] for p in row if p["module"] == module) for row in out["provenance"].to_pylist()]


def test_outputs_are_added_typed_and_correct(real_alerts):
    runner = ScienceRunner([ModuleSpec(name="toy_modules:Doubler", params={"limit": 19})])
    out = runner.process(real_alerts)
    twice, bright = expected_doubler(real_alerts, 19.0)
    assert out.column_names == real_alerts.column_names + ["twice_mag", "is_bright", "provenance"]
    assert out["twice_mag"].to_pylist() == pytest.approx(twice, nan_ok=True)
    assert out["is_bright"].to_pylist() == bright
    assert out.schema == runner.output_schema(real_alerts.schema)
    assert runner.stats["doubler"]["alerts"] == real_alerts.num_rows


def test_masked_rows_are_skipped_with_null_outputs(real_alerts):
    n = real_alerts.num_rows
    keep = [i % 3 != 0 for i in range(n)]
    mask = pa.array([None if i == 1 else k for i, k in enumerate(keep)], pa.bool_())
    runner = ScienceRunner([ModuleSpec(name="toy_modules:Doubler")])
    out = runner.process(real_alerts, mask)
    passed = [k and i != 1 for i, k in enumerate(keep)]
    twice, _ = expected_doubler(real_alerts)
    assert out["twice_mag"].to_pylist() == pytest.approx(
        [t if p else None for t, p in zip(twice, passed)], nan_ok=True)
    assert statuses(out, "doubler") == ["ok" if p else "skipped" for p in passed]
    assert runner.stats["doubler"]["alerts"] == sum(passed)


def test_a_failing_module_is_isolated_counted_and_logged(real_alerts, caplog):
    runner = ScienceRunner([ModuleSpec(name="toy_modules:Raiser"), ModuleSpec(name="toy_modules:Doubler")])
    with caplog.at_level(logging.ERROR, logger="fink_like.science"):
        out = runner.process(real_alerts)
        out2 = runner.process(real_alerts.slice(0, 10))
    assert out["never"].null_count == real_alerts.num_rows and out2.num_rows == 10
    assert out["twice_mag"].null_count == real_alerts["mag"].null_count
    row = out["provenance"][0].as_py()
    assert row[0] == {"module": "raiser", "version": "2.0", "model_hash": row[0]["model_hash"],
                      "model_version": None, "status": "error", "error": "ValueError: no luck today"}
    assert row[1]["status"] == "ok" and row[1]["error"] is None and len(row[1]["model_hash"]) == 64
    assert runner.stats["raiser"]["errors"] == 2 and runner.stats["raiser"]["batches"] == 2
    assert runner.stats["doubler"]["errors"] == 0
    assert sum("raiser failed on a batch" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.parametrize("cls, message", [
    (BadType, "output 'bad_value' does not convert to double"),
])
def test_wrong_output_type_is_an_error_not_a_crash(real_alerts, cls, message):
    runner = ScienceRunner([ModuleSpec(name=f"toy_modules:{cls.__name__}")])
    out = runner.process(real_alerts)
    errors = {p["error"] for row in out["provenance"].to_pylist() for p in row}
    assert len(errors) == 1 and message in errors.pop()
    assert runner.stats[cls.name]["errors"] == 1


def test_wrong_length_and_columns_are_errors():
    from fink_like.science.runner import coerce_outputs

    with pytest.raises(PluginError, match="'x' has 2 values for 3 alerts"):
        coerce_outputs({"x": [1.0, 2.0]}, {"x": pa.float64()}, 3)
    with pytest.raises(PluginError, match="returned columns \\['y'\\]; declared \\['x'\\]"):
        coerce_outputs({"y": [1.0]}, {"x": pa.float64()}, 1)
    with pytest.raises(PluginError, match="must return a dict"):
        coerce_outputs([1.0], {"x": pa.float64()}, 1)


def test_the_runner_pickles_and_loads_lazily(real_alerts):
    Doubler.loads = 0
    runner = ScienceRunner([ModuleSpec(name="toy_modules:Doubler")])
    assert Doubler.loads == 0  # nothing loaded on the driver
    clone = pickle.loads(pickle.dumps(runner))
    first = clone.process(real_alerts)
    clone.process(real_alerts)
    assert Doubler.loads == 1
    assert first["twice_mag"].to_pylist() == pytest.approx(expected_doubler(real_alerts)[0], nan_ok=True)


def test_output_schema_and_replacing_columns(real_alerts):
    specs = [ModuleSpec(name="toy_modules:Doubler")]
    schema = science_output_schema(CANONICAL_SCHEMA, specs)
    assert schema.names[-3:] == ["twice_mag", "is_bright", "provenance"]
    assert schema.field("provenance").type == PROVENANCE_TYPE
    runner = ScienceRunner(specs)
    again = runner.process(runner.process(real_alerts))  # reprocessing a science table
    assert again.schema == runner.output_schema(real_alerts.schema)


def test_all_rows_masked_and_empty_tables(real_alerts):
    runner = ScienceRunner([ModuleSpec(name="toy_modules:Doubler")])
    out = runner.process(real_alerts, pa.array([False] * real_alerts.num_rows))
    assert out["twice_mag"].null_count == real_alerts.num_rows
    assert runner.stats["doubler"]["batches"] == 0
    assert runner.process(real_alerts.slice(0, 0)).num_rows == 0


def test_bad_mask_and_missing_columns_are_named(real_alerts):
    runner = ScienceRunner([ModuleSpec(name="toy_modules:Doubler")])
    with pytest.raises(PluginError, match="mask has 2 values for a table of 100 rows"):
        runner.process(real_alerts, pa.array([True, False]))
    with pytest.raises(PluginError, match="needs columns \\['mag'\\]"):
        runner.process(real_alerts.drop_columns(["mag"]))


def test_a_row_the_module_cannot_score_fails_alone(real_alerts):
    from toy_modules import PickyAboutOneAlert

    bad = real_alerts["alert_id"][37].as_py()
    mask = pa.array([i != 3 for i in range(real_alerts.num_rows)])
    runner = ScienceRunner([ModuleSpec(name="toy_modules:PickyAboutOneAlert", params={"bad_id": bad})])
    PickyAboutOneAlert.calls = 0
    out = runner.process(real_alerts, mask)
    provenance = [next(p for p in row if p["module"] == "picky") for row in out["provenance"].to_pylist()]
    expected_status = ["error" if i == 37 else "skipped" if i == 3 else "ok" for i in range(real_alerts.num_rows)]
    assert [p["status"] for p in provenance] == expected_status
    assert [p["error"] for p in provenance] == [
        f"ValueError: cannot score alert {bad}" if i == 37 else None for i in range(real_alerts.num_rows)]
    mags = real_alerts["mag"].to_pylist()
    assert out["picky_mag"].to_pylist() == [None if s != "ok" else m for s, m in zip(expected_status, mags)]
    assert runner.stats["picky"]["errors"] == 1 and runner.stats["picky"]["row_errors"] == 1
    # bisection: the whole batch once, then both halves of each failing part down to the bad
    # row (position 36 among the 99 rows that passed the mask)
    lo, hi, calls = 0, real_alerts.num_rows - 1, 1
    while hi - lo > 1:
        mid, calls = (lo + hi) // 2, calls + 2
        lo, hi = (lo, mid) if 36 < mid else (mid, hi)
    assert PickyAboutOneAlert.calls == calls
