"""Validation of third-party modules on real alerts."""

from __future__ import annotations

import pyarrow.compute as pc

from fink_like.science.samples import without_history
from fink_like.science.validate import validate_module


def failed(report):
    return {c.name: c.detail for c in report.checks if not c.ok}


def test_a_good_module_passes(real_alerts):
    report = validate_module("toy_modules:Doubler", {"limit": 18}, real_alerts)
    assert report.passed, report.format()
    assert report.seconds_per_alert is not None and report.seconds_per_alert > 0
    assert report.format().endswith("RESULT: PASS")


def test_failures_are_reported_check_by_check(real_alerts):
    assert set(failed(validate_module("toy_modules:Noisy", {}, real_alerts))) == {"deterministic (two runs equal)"}
    with_limits = real_alerts.filter(pc.greater(pc.list_value_length(real_alerts["ul_maglim"]), 0))
    assert with_limits.num_rows > 10
    history = failed(validate_module("toy_modules:NeedsHistory", {}, with_limits))
    assert list(history) == ["copes with alerts without history (one detection, no limits, no forced photometry)"]
    assert "ValueError" in history[list(history)[0]]
    bad = validate_module("toy_modules:BadType", {}, real_alerts)
    assert not bad.passed and bad.format().endswith("RESULT: FAIL")
    assert "does not convert to double" in failed(bad)["outputs on real alerts match declared types and length"]


def test_import_failure_is_a_failed_check(real_alerts):
    report = validate_module("nowhere_zz.mod:Thing", {}, real_alerts)
    assert not report.passed and "failed to import" in report.checks[0].detail


def test_without_history_keeps_only_the_current_detection(real_alerts):
    stripped = without_history(real_alerts)
    assert stripped.schema == real_alerts.schema
    assert pc.list_value_length(stripped["lc_mjd"]).to_pylist() == [1] * real_alerts.num_rows
    assert pc.list_flatten(stripped["lc_mjd"]).to_pylist() == real_alerts["mjd"].to_pylist()
    assert pc.list_flatten(stripped["lc_band"]).to_pylist() == real_alerts["band"].to_pylist()
    for column in ("ul_mjd", "ul_maglim", "fp_flux", "fp_band"):
        assert pc.list_value_length(stripped[column]).to_pylist() == [0] * real_alerts.num_rows


def test_a_parameter_typo_fails_before_loading(real_alerts):
    report = validate_module("toy_modules:Doubler", {"limt": 18}, real_alerts)
    assert failed(report) == {"parameters are known and typed":
                              "science module 'doubler': unknown parameter 'limt'; known: limit"}
    assert [c.name for c in report.checks] == ["imports and honours the contract", "parameters are known and typed"]
