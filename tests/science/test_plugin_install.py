"""A user's module, pip-installed on its own, is found by the broker without any edit.

The packages in tests/plugins are installed into a temporary folder with pip, then the
``fink-like`` command runs in a subprocess with that folder on PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory, shared_data):
    target = tmp_path_factory.mktemp("site")
    for package in ("example_plugin", "failing_plugin"):
        source = tmp_path_factory.mktemp("src") / package  # setuptools builds in the source tree
        shutil.copytree(PLUGINS / package, source)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                        "--target", str(target), str(source)], check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(target), FINK_LIKE__SIMULATOR__DATA_DIR=str(shared_data))
    env.pop("FINK_LIKE_CONFIG", None)
    return env


def cli(env, *args):
    return subprocess.run([sys.executable, "-m", "fink_like.cli", "--log-level", "WARNING", "modules", *args],
                          env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_list_finds_the_installed_plugin(plugin_env):
    result = cli(plugin_env, "list")
    assert result.returncode == 0, result.stderr
    assert "example_colour 0.1.0  [fink-like-example-colour: fink_like_example_colour.module:ColourModule]" in result.stdout
    assert "outputs: ex_g_minus_r:double, ex_rise_rate:double" in result.stdout
    assert "example_failing 0.1.0" in result.stdout


def test_validate_passes_a_good_plugin(plugin_env):
    result = cli(plugin_env, "validate", "example_colour", "--per-folder", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RESULT: PASS" in result.stdout and "[FAIL]" not in result.stdout
    assert "copes with alerts without history" in result.stdout and "time per alert" in result.stdout


@pytest.mark.parametrize("name, failure", [
    ("example_failing", "[FAIL] outputs on real alerts match declared types and length: RuntimeError: deliberate failure"),
    ("example_wrong_length", "[FAIL] outputs on real alerts match declared types and length: PluginError: output 'ex_short' has 19 values for 20 alerts"),
])
def test_validate_fails_a_broken_plugin(plugin_env, name, failure):
    result = cli(plugin_env, "validate", name, "--per-folder", "5")
    assert result.returncode == 1
    assert failure in result.stdout and "RESULT: FAIL" in result.stdout


def test_run_isolates_the_failing_plugin(plugin_env, shared_data, tmp_path):
    out_file = tmp_path / "enriched.parquet"
    alerts = shared_data / "ztf" / "alerts-4.02"
    result = cli(plugin_env, "run", "example_failing", "example_colour",
                 "--input", str(alerts), "--output", str(out_file))
    assert result.returncode == 1  # some module failed, reported in the exit status
    assert "example_failing failed on a batch" in result.stderr
    table = pq.read_table(out_file)
    assert table.num_rows == len(list(alerts.glob("*.avro")))
    assert table["ex_fail_score"].null_count == table.num_rows
    colour = table["ex_g_minus_r"].to_numpy(zero_copy_only=False)
    assert np.isfinite(colour).sum() > 0  # the stream went on for the good module
    provenance = table["provenance"].to_pylist()
    assert {row[0]["status"] for row in provenance} == {"error"}
    assert {row[1]["status"] for row in provenance} == {"ok"}
    assert {(p["module"], p["version"]) for row in provenance for p in row} == {
        ("example_failing", "0.1.0"), ("example_colour", "0.1.0")}
